// The MusicPlayer web player: plain JavaScript against the public API (API.md).
//
// Where the services are: `config.json` beside this page. Through the gateway it
// is `{}`: every service is on this origin, under the folder above /player/.
// Served by song_service itself (`make run`) it names the other services' base
// URLs, `{"auth": "http://localhost:8000", "albums": "http://localhost:8001"}`,
// which the browser reaches with CORS.
//
// Tokens: the access token lives in memory only; the refresh token in
// sessionStorage, so a reload keeps the session and closing the tab ends it.
// An <audio> element cannot send an Authorization header, so playing a song asks
// POST /songs/{id}/stream-url for a short-lived signed URL and plays that.

const REFRESH_KEY = "musicplayer.refresh_token";
const EMAIL_KEY = "musicplayer.email";
const PAGE_SIZE = 50;
const SEARCH_LIMIT = 20;
// Refresh this long before the access token expires, so no request races its expiry.
const EXPIRY_MARGIN_MS = 30_000;

const $ = (id) => document.getElementById(id);
const ui = {
  login: $("login"),
  email: $("email"),
  password: $("password"),
  session: $("session"),
  who: $("who"),
  logout: $("logout"),
  error: $("error"),
  status: $("status"),
  main: $("main"),
  search: $("search"),
  q: $("q"),
  heading: $("heading"),
  content: $("content"),
  more: $("more"),
  cover: $("cover"),
  nowTitle: $("now-title"),
  nowArtist: $("now-artist"),
  prev: $("prev"),
  toggle: $("toggle"),
  next: $("next"),
  audio: $("audio"),
};

const state = {
  bases: {}, // service -> base URL ending in "/"
  accessToken: null,
  accessExpiresAt: 0, // ms since the epoch
  refreshing: null, // the refresh in flight, shared by every caller
  queue: [], // the songs of the list play was pressed in
  index: -1,
  listSongs: [], // the songs currently shown
  nextPage: null, // () => Promise, when the list has a next page
  current: null, // the song in the player
  streamRetried: false,
};

class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

// --- Where the services are ---------------------------------------------------

async function loadConfig() {
  // The folder above /player/: the gateway's root, or song_service's own.
  const here = new URL("..", document.baseURI).href;
  let config = {};
  try {
    const response = await fetch("config.json", { cache: "no-store" });
    if (response.ok) config = await response.json();
  } catch {
    // No config: everything on this origin, which is the gateway's layout.
  }
  for (const service of ["auth", "albums", "songs"]) {
    const base = typeof config[service] === "string" && config[service] ? config[service] : here;
    state.bases[service] = base.endsWith("/") ? base : `${base}/`;
  }
}

function endpoint(service, path) {
  return new URL(path, state.bases[service]).href;
}

// A Link `rel="next"` URL, moved onto the origin this page uses for that service:
// the service builds it from its own socket address (or PUBLIC_BASE_URL), which
// may name the same server by another host name (127.0.0.1 for localhost).
function nextLink(response, service) {
  const header = response.headers.get("Link");
  if (!header) return null;
  for (const part of header.split(",")) {
    const match = /<([^>]*)>\s*;\s*rel="?next"?/i.exec(part);
    if (match) {
      const link = new URL(match[1], state.bases[service]);
      const base = new URL(state.bases[service]);
      return `${base.origin}${link.pathname}${link.search}`;
    }
  }
  return null;
}

// --- Talking to the API -------------------------------------------------------

// The API's `{"detail": ...}`: a sentence, or FastAPI's list of validation errors.
async function detailOf(response) {
  let body = null;
  try {
    body = await response.json();
  } catch {
    // Not JSON (a proxy's error page): the status line says enough.
  }
  const detail = body && body.detail;
  if (typeof detail === "string" && detail) return detail;
  if (Array.isArray(detail) && detail.length) {
    return detail.map((item) => item.msg || JSON.stringify(item)).join("; ");
  }
  return `${response.status} ${response.statusText || "error"}`.trim();
}

// auth: "none" never sends a token, "optional" sends one when logged in (a public
// list then says liked_by_me), "required" fails without a session.
async function api(service, path, { method = "GET", body, auth = "optional", url } = {}) {
  const send = async () => {
    const headers = { Accept: "application/json" };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    if (auth !== "none") {
      const token = await currentAccessToken();
      if (token) headers.Authorization = `Bearer ${token}`;
      else if (auth === "required") throw new ApiError(401, "Log in first.");
    }
    try {
      return await fetch(url || endpoint(service, path), {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (error) {
      throw new ApiError(0, `Cannot reach the server (${error.message}).`);
    }
  };
  let response = await send();
  // The access token expired early (or the keys rotated): refresh once and retry.
  if (response.status === 401 && auth !== "none" && storedRefreshToken()) {
    await refreshSession();
    response = await send();
  }
  if (!response.ok) throw new ApiError(response.status, await detailOf(response));
  return response;
}

// --- Session ------------------------------------------------------------------

function storedRefreshToken() {
  return sessionStorage.getItem(REFRESH_KEY);
}

function startSession(body, email) {
  state.accessToken = body.auth_token;
  state.accessExpiresAt = Date.now() + Number(body.expires_in || 0) * 1000;
  sessionStorage.setItem(REFRESH_KEY, body.refresh_token);
  if (email) sessionStorage.setItem(EMAIL_KEY, email);
  showSession();
}

function endSession() {
  state.accessToken = null;
  state.accessExpiresAt = 0;
  sessionStorage.removeItem(REFRESH_KEY);
  sessionStorage.removeItem(EMAIL_KEY);
  showSession();
}

function showSession() {
  const loggedIn = Boolean(state.accessToken);
  ui.login.hidden = loggedIn;
  ui.session.hidden = !loggedIn;
  ui.who.textContent = loggedIn ? `Logged in as ${sessionStorage.getItem(EMAIL_KEY) || "you"}` : "";
}

async function currentAccessToken() {
  if (state.accessToken && Date.now() < state.accessExpiresAt - EXPIRY_MARGIN_MS) {
    return state.accessToken;
  }
  if (!storedRefreshToken()) return null;
  await refreshSession();
  return state.accessToken;
}

// POST /auth/refresh rotates the refresh token: exactly one request may use it,
// so every caller waits for the same one.
function refreshSession() {
  if (!state.refreshing) {
    state.refreshing = (async () => {
      const refreshToken = storedRefreshToken();
      if (!refreshToken) throw new ApiError(401, "Log in first.");
      let response;
      try {
        response = await fetch(endpoint("auth", "auth/refresh"), {
          method: "POST",
          headers: { "Content-Type": "application/json", Accept: "application/json" },
          body: JSON.stringify({ refresh_token: refreshToken }),
        });
      } catch (error) {
        throw new ApiError(0, `Cannot reach the server (${error.message}).`);
      }
      if (!response.ok) {
        const detail = await detailOf(response);
        // 401: the session is over (expired, revoked, logged out elsewhere).
        if (response.status === 401) endSession();
        throw new ApiError(response.status, `Your session has ended: ${detail}. Log in again.`);
      }
      startSession(await response.json());
    })().finally(() => {
      state.refreshing = null;
    });
  }
  return state.refreshing;
}

async function logIn(event) {
  event.preventDefault();
  clearError();
  const email = ui.email.value.trim();
  try {
    const response = await api("auth", "auth/login", {
      method: "POST",
      auth: "none",
      body: { email, password: ui.password.value },
    });
    startSession(await response.json(), email);
    ui.password.value = "";
    announce(`Logged in as ${email}`);
    ui.logout.focus();
  } catch (error) {
    showError(error.message);
    ui.password.focus();
  }
}

async function logOut() {
  clearError();
  const refreshToken = storedRefreshToken();
  const token = state.accessToken;
  endSession();
  stopPlayback();
  if (refreshToken && token) {
    try {
      await fetch(endpoint("auth", "auth/logout"), {
        method: "POST",
        headers: { "Content-Type": "application/json", Authorization: `Bearer ${token}` },
        body: JSON.stringify({ refresh_token: refreshToken }),
      });
    } catch {
      // Logged out here either way; the refresh token expires on its own.
    }
  }
  announce("Logged out");
  ui.email.focus();
}

// --- Messages -----------------------------------------------------------------

function showError(message) {
  ui.error.textContent = message;
  ui.error.hidden = false;
}

function clearError() {
  ui.error.textContent = "";
  ui.error.hidden = true;
}

function announce(message) {
  ui.status.textContent = message;
}

// --- Browsing -----------------------------------------------------------------

function element(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (name === "text") node.textContent = value;
    else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value);
  }
  node.append(...children.filter(Boolean));
  return node;
}

function thumbnail(src) {
  const img = element("img", { src, alt: "", loading: "lazy", width: "48", height: "48" });
  img.addEventListener("error", () => img.remove());
  return img;
}

function describe(song) {
  return [song.artist, song.genre].filter(Boolean).join(" · ");
}

function songList(songs) {
  if (!songs.length) return element("p", { class: "empty", text: "No songs." });
  const list = element("ul", { class: "items" });
  appendSongs(list, songs);
  return list;
}

function appendSongs(list, songs) {
  const start = state.listSongs.length;
  state.listSongs.push(...songs);
  const shown = state.listSongs;
  songs.forEach((song, offset) => {
    const position = start + offset;
    const item = element(
      "li",
      { "data-song-id": String(song.id) },
      thumbnail(endpoint("songs", `songs/${song.id}/cover?size=64`)),
      element(
        "span",
        { class: "item-text" },
        element("span", { class: "item-title", text: song.title }),
        element("span", { class: "item-sub", text: describe(song) }),
      ),
      element("button", {
        type: "button",
        class: "play",
        "aria-label": `Play ${song.title} by ${song.artist}`,
        text: "Play",
        onclick: () => playFrom(shown, position),
      }),
    );
    if (state.current && state.current.id === song.id) item.setAttribute("aria-current", "true");
    list.append(item);
  });
  if (!list.children.length) list.replaceWith(element("p", { class: "empty", text: "No songs." }));
}

function albumList(albums, onOpen) {
  const list = element("ul", { class: "items" });
  appendAlbums(list, albums, onOpen);
  return list;
}

function appendAlbums(list, albums, onOpen) {
  for (const album of albums) {
    list.append(
      element(
        "li",
        { "data-album-id": String(album.id) },
        thumbnail(endpoint("albums", `albums/${album.id}/cover?size=64`)),
        element(
          "span",
          { class: "item-text" },
          element("span", { class: "item-title", text: album.title }),
          element("span", { class: "item-sub", text: album.artist }),
        ),
        element("button", {
          type: "button",
          "aria-label": `Open album ${album.title} by ${album.artist}`,
          text: "Open",
          onclick: () => onOpen(album),
        }),
      ),
    );
  }
}

function setView(name, heading) {
  for (const button of document.querySelectorAll("[data-view]")) {
    button.setAttribute("aria-pressed", String(button.dataset.view === name));
  }
  ui.heading.textContent = heading;
  ui.content.replaceChildren();
  state.listSongs = [];
  setNextPage(null);
}

function setNextPage(loader) {
  state.nextPage = loader;
  ui.more.hidden = !loader;
}

// A paged list (API.md, Conventions): follow `Link: rel="next"` until it is gone.
async function pagedList(service, firstUrl, append) {
  const load = async (url) => {
    const response = await api(service, null, { url });
    append(await response.json());
    const next = nextLink(response, service);
    setNextPage(next ? () => load(next) : null);
  };
  await load(firstUrl);
}

async function showSongs() {
  setView("songs", "Songs");
  const list = element("ul", { class: "items" });
  ui.content.append(list);
  await pagedList("songs", endpoint("songs", `songs?limit=${PAGE_SIZE}`), (songs) =>
    appendSongs(list, songs),
  );
}

async function showAlbums() {
  setView("albums", "Albums");
  const list = element("ul", { class: "items" });
  ui.content.append(list);
  await pagedList("albums", endpoint("albums", `albums?limit=${PAGE_SIZE}`), (albums) =>
    appendAlbums(list, albums, showAlbum),
  );
}

async function showAlbum(album) {
  // GET /albums/{id} and its songs need a user token (API.md, album_service).
  const [albumResponse, songsResponse] = await Promise.all([
    api("albums", `albums/${album.id}`, { auth: "required" }),
    api("albums", `albums/${album.id}/songs`, { auth: "required" }),
  ]);
  const full = await albumResponse.json();
  const songs = await songsResponse.json();
  setView("albums", `${full.title} — ${full.artist}`);
  ui.content.append(
    element("button", { type: "button", text: "Back to albums", onclick: () => run(showAlbums) }),
    songList(songs),
  );
  ui.heading.focus();
}

async function showArtist(name) {
  setView("search", `Songs by ${name}`);
  const list = element("ul", { class: "items" });
  ui.content.append(list);
  const query = new URLSearchParams({ artist: name, limit: String(PAGE_SIZE) });
  await pagedList("songs", endpoint("songs", `songs?${query}`), (songs) =>
    appendSongs(list, songs),
  );
}

async function showSearch(q) {
  const query = new URLSearchParams({ q, limit: String(SEARCH_LIMIT) });
  const response = await api("songs", `search?${query}`);
  const results = await response.json();
  setView("search", `Results for “${q}”`);
  const sections = [];
  if (results.songs.length) {
    sections.push(element("h3", { text: "Songs" }), songList(results.songs));
  }
  if (results.albums.length) {
    sections.push(element("h3", { text: "Albums" }), albumList(results.albums, showAlbum));
  }
  if (results.artists.length) {
    const list = element("ul", { class: "items" });
    for (const artist of results.artists) {
      list.append(
        element(
          "li",
          {},
          element(
            "span",
            { class: "item-text" },
            element("span", { class: "item-title", text: artist.name }),
            element("span", { class: "item-sub", text: `${artist.song_count} songs` }),
          ),
          element("button", {
            type: "button",
            "aria-label": `Songs by ${artist.name}`,
            text: "Songs",
            onclick: () => run(() => showArtist(artist.name)),
          }),
        ),
      );
    }
    sections.push(element("h3", { text: "Artists" }), list);
  }
  if (!sections.length) sections.push(element("p", { class: "empty", text: "Nothing found." }));
  ui.content.append(...sections);
}

// Runs a user action: its failure is shown, never thrown into the console only.
async function run(action) {
  clearError();
  try {
    await action();
  } catch (error) {
    showError(error.message || String(error));
  }
}

// --- Playing ------------------------------------------------------------------

function playFrom(songs, index) {
  state.queue = songs.slice();
  run(() => playAt(index));
}

async function playAt(index) {
  const song = state.queue[index];
  if (!song) return;
  if (!state.accessToken && !storedRefreshToken()) {
    ui.email.focus();
    throw new ApiError(401, "Log in to play songs.");
  }
  state.index = index;
  state.current = song;
  state.streamRetried = false;
  showNowPlaying(song);
  await startStream(song, 0);
}

async function startStream(song, position) {
  const response = await api("songs", `songs/${song.id}/stream-url`, {
    method: "POST",
    auth: "required",
  });
  const { url } = await response.json();
  if (state.current !== song) return; // another song was picked meanwhile
  ui.audio.src = new URL(url, state.bases.songs).href;
  if (position) ui.audio.currentTime = position;
  try {
    await ui.audio.play();
  } catch (error) {
    // AbortError: another src was set before this one started; not a failure.
    if (error.name === "NotAllowedError") {
      showError("The browser blocked playback: press Play.");
    } else if (error.name !== "AbortError") {
      // NotSupportedError and the like: the `error` event says why.
    }
  }
}

function showNowPlaying(song) {
  ui.nowTitle.textContent = song.title;
  ui.nowArtist.textContent = song.artist;
  ui.cover.alt = `Cover of ${song.title}`;
  ui.cover.hidden = false;
  ui.cover.src = endpoint("songs", `songs/${song.id}/cover?size=256`);
  for (const item of document.querySelectorAll("[data-song-id]")) {
    if (item.dataset.songId === String(song.id)) item.setAttribute("aria-current", "true");
    else item.removeAttribute("aria-current");
  }
  ui.toggle.disabled = false;
  updateButtons();
  announce(`Playing ${song.title} by ${song.artist}`);
  if ("mediaSession" in navigator && typeof MediaMetadata === "function") {
    navigator.mediaSession.metadata = new MediaMetadata({
      title: song.title,
      artist: song.artist,
      artwork: [{ src: ui.cover.src, sizes: "256x256" }],
    });
  }
}

function updateButtons() {
  ui.prev.disabled = state.index <= 0;
  ui.next.disabled = state.index < 0 || state.index >= state.queue.length - 1;
  const playing = !ui.audio.paused;
  ui.toggle.setAttribute("aria-label", playing ? "Pause" : "Play");
  ui.toggle.querySelector(".icon-play").toggleAttribute("hidden", playing);
  ui.toggle.querySelector(".icon-pause").toggleAttribute("hidden", !playing);
}

function stopPlayback() {
  ui.audio.pause();
  ui.audio.removeAttribute("src");
  ui.audio.load();
  updateButtons();
}

function toggle() {
  if (!state.current) return;
  if (!ui.audio.currentSrc) {
    run(() => playAt(state.index));
  } else if (ui.audio.paused) {
    ui.audio.play().catch((error) => {
      if (error.name !== "AbortError") showError(error.message);
    });
  } else {
    ui.audio.pause();
  }
}

function skip(step) {
  const index = state.index + step;
  if (index >= 0 && index < state.queue.length) run(() => playAt(index));
}

// The audio element says only a code; the stream endpoint's own answer says why.
async function audioFailed() {
  const song = state.current;
  if (!song || !ui.audio.currentSrc) return;
  const src = ui.audio.currentSrc;
  const position = ui.audio.currentTime;
  let detail = null;
  try {
    const probe = await fetch(src, { headers: { Range: "bytes=0-0" } });
    if (!probe.ok) detail = await detailOf(probe);
  } catch {
    // Unreachable: the element's own code below.
  }
  // A signed URL expired (the song was paused past STREAM_URL_TTL_SECONDS): get a
  // new one and carry on where it stopped, once.
  if (detail && !state.streamRetried && state.current === song) {
    state.streamRetried = true;
    run(() => startStream(song, position));
    return;
  }
  const codes = {
    1: "playback was aborted",
    2: "a network error stopped the download",
    3: "the audio could not be decoded",
    4: "the audio format is not supported or the file is missing",
  };
  const reason = detail || codes[ui.audio.error && ui.audio.error.code] || "unknown error";
  showError(`Cannot play “${song.title}”: ${reason}.`);
  updateButtons();
}

// --- Wiring -------------------------------------------------------------------

function wire() {
  ui.login.addEventListener("submit", logIn);
  ui.logout.addEventListener("click", logOut);
  for (const button of document.querySelectorAll("[data-view]")) {
    button.addEventListener("click", () =>
      run(button.dataset.view === "albums" ? showAlbums : showSongs),
    );
  }
  ui.search.addEventListener("submit", (event) => {
    event.preventDefault();
    const q = ui.q.value.trim();
    run(q ? () => showSearch(q) : showSongs);
  });
  ui.more.addEventListener("click", () => {
    if (state.nextPage) run(state.nextPage);
  });
  ui.toggle.addEventListener("click", toggle);
  ui.prev.addEventListener("click", () => skip(-1));
  ui.next.addEventListener("click", () => skip(1));
  ui.audio.addEventListener("play", updateButtons);
  ui.audio.addEventListener("pause", updateButtons);
  ui.audio.addEventListener("playing", () => {
    state.streamRetried = false;
    clearError();
  });
  ui.audio.addEventListener("ended", () => {
    if (state.index < state.queue.length - 1) skip(1);
    else updateButtons();
  });
  ui.audio.addEventListener("error", audioFailed);
  ui.cover.addEventListener("error", () => {
    ui.cover.hidden = true;
  });
  ui.cover.addEventListener("load", () => {
    ui.cover.hidden = false;
  });
  if ("mediaSession" in navigator) {
    const session = navigator.mediaSession;
    session.setActionHandler("play", toggle);
    session.setActionHandler("pause", toggle);
    session.setActionHandler("previoustrack", () => skip(-1));
    session.setActionHandler("nexttrack", () => skip(1));
  }
}

async function start() {
  wire();
  await loadConfig();
  if (storedRefreshToken()) {
    await run(refreshSession);
  }
  showSession();
  await run(showSongs);
  document.body.dataset.ready = "true";
}

start();
