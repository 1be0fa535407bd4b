"""The web player (song_service/player/) in a real headless Chromium, with real audio.

Through the gateway (docker-compose.yml's services run locally behind Debian's nginx
with gateway/nginx.conf, tests/deploy/test_gateway_smoke.py's `stack`): the admin
uploads a generated, tagged Ogg Vorbis file with an embedded cover
(media.synth.write_song, POST /songs/upload); the browser opens /player, logs in
with the page's form, searches for the song, presses its Play button (a real
click: no autoplay flag), and the `<audio>` element's currentTime passes 1 s while
the cover `<img>` has loaded (naturalWidth > 0). No autoplay or fake-device flag
is needed: with no sound card, Chromium plays into a fake audio output that takes
the samples in real time, so the element's clock advances as it would on a laptop.

Without the gateway (`make run`): song_service serves the page itself and
/player/config.json names auth_service and album_service, which the page calls
cross-origin (CORS); the browser logs in, keeps its session over a reload (POST
/auth/refresh), opens the uploaded album and plays it with the keyboard, streamed
by song_service itself, then logs out.

Debian's chromium and chromium-driver, driven by selenium as in test_swagger.py;
skipped without them, except in CI (CI=true), where that fails.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from tests.browser.test_swagger import (
    CHROMIUM_FLAGS,
    WAIT_SECONDS,
    browser_binaries,
    screenshot_on_failure,
)
from tests.deploy.test_gateway_smoke import stack  # noqa: F401 - the gateway fixture
from tests.e2e.fleet import Fleet, running_fleet

pytestmark = pytest.mark.e2e

# A phone's screen (CSS pixels): the page must fit it without scrolling sideways.
# Emulated: a headless window is never narrower than 500 pixels.
PHONE = {"width": 360, "height": 740, "deviceScaleFactor": 1, "mobile": True}
# Seconds of generated audio: long enough to pass 1 s of playback with room to spare.
SONG_SECONDS = 6.0


def log_in(http: httpx.Client, auth_url: str, email: str, password: str) -> dict[str, str]:
    response = http.post(f"{auth_url}/auth/login", json={"email": email, "password": password})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['auth_token']}"}


def upload_song(
    folder: Path, song_url: str, auth_url: str, email: str, password: str
) -> dict[str, Any]:
    """A new tagged Ogg Vorbis file with an embedded cover, uploaded by the admin;
    its title, artist and album are unique to this call. Returns the song, with
    its album's title as "album_title"."""
    from media.synth import cover_image, write_song

    unique = uuid.uuid4().hex[:8]
    title, artist, album = (f"Player {kind} {unique}" for kind in ("Song", "Artist", "Album"))
    path = write_song(
        folder / f"player-{unique}.ogg",
        title=title,
        artists=[artist],
        album=album,
        genres=["Test"],
        seconds=SONG_SECONDS,
        cover=cover_image(title),
    )
    with httpx.Client(timeout=60, trust_env=False) as http:
        admin = log_in(http, auth_url, email, password)
        with path.open("rb") as audio:
            response = http.post(
                f"{song_url}/songs/upload",
                files=[("files", (path.name, audio, "audio/ogg"))],
                headers=admin,
            )
    assert response.status_code == 201, response.text
    (song,) = response.json()
    assert song["media"] is not None, song
    return {**song, "album_title": album}


def album_id(album_url: str, title: str) -> int:
    with httpx.Client(timeout=20, trust_env=False) as http:
        albums = http.get(f"{album_url}/albums", params={"q": title}).json()
    (album,) = [album for album in albums if album["title"] == title]
    return int(album["id"])


@pytest.fixture(scope="module")
def driver(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    chromium, chromedriver = browser_binaries()
    profile = tmp_path_factory.mktemp("player-chromium-profile")
    options = Options()
    options.binary_location = chromium
    for flag in (*CHROMIUM_FLAGS, f"--user-data-dir={profile}"):
        options.add_argument(flag)
    service = Service(
        executable_path=chromedriver, log_output=str(profile.parent / "chromedriver.log")
    )
    browser = webdriver.Chrome(service=service, options=options)
    browser.set_page_load_timeout(WAIT_SECONDS)
    browser.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", PHONE)
    try:
        yield browser
    finally:
        browser.quit()


# --- what the browser does ------------------------------------------------------


def open_player(driver: Any, url: str) -> None:

    driver.get("about:blank")
    driver.delete_all_cookies()
    driver.get(url)
    # Cleared after the page loaded: sessionStorage belongs to the page's origin.
    driver.execute_script("sessionStorage.clear()")
    driver.get(url)
    wait_until_ready(driver)


def wait_until_ready(driver: Any) -> None:
    """Until the page has read its config, restored any session and listed songs."""
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(driver, WAIT_SECONDS).until(
        lambda d: d.execute_script("return document.body.dataset.ready === 'true'")
    )


def shown_error(driver: Any) -> str:
    from selenium.webdriver.common.by import By

    error = driver.find_element(By.ID, "error")
    return error.text if error.is_displayed() else ""


def log_in_with_the_form(driver: Any, email: str, password: str) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    form = driver.find_element(By.ID, "login")
    for field, value in (("email", email), ("password", password)):
        box = form.find_element(By.ID, field)
        box.clear()
        box.send_keys(value)
    form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    WebDriverWait(driver, WAIT_SECONDS).until(
        lambda d: d.find_element(By.ID, "logout").is_displayed() or shown_error(d)
    )
    assert not shown_error(driver), shown_error(driver)
    assert email in driver.find_element(By.ID, "who").text


def press_play(driver: Any, song: dict[str, Any], *, keyboard: bool = False) -> None:
    """Click the Play button of the song's row (found by its accessible name), or
    press Enter on it (`keyboard`)."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    label = f"Play {song['title']} by {song['artist']}"
    button = WebDriverWait(driver, WAIT_SECONDS).until(
        ec.element_to_be_clickable(
            (By.CSS_SELECTOR, f"li[data-song-id='{song['id']}'] button[aria-label='{label}']")
        )
    )
    if keyboard:
        button.send_keys(Keys.ENTER)
    else:
        button.click()


def assert_it_plays(driver: Any, song: dict[str, Any]) -> None:
    """currentTime passes 1 s, and the now-playing bar shows the song and its cover."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    def played(d: Any) -> bool:
        error = shown_error(d)
        assert not error, f"the page says: {error}"
        return d.execute_script("return document.getElementById('audio').currentTime") > 1.0

    WebDriverWait(driver, WAIT_SECONDS).until(played)
    audio = driver.execute_script(
        "const a = document.getElementById('audio');"
        "return {paused: a.paused, error: a.error && a.error.code, src: a.currentSrc}"
    )
    assert audio["paused"] is False and audio["error"] is None, audio
    assert urlsplit(audio["src"]).path == f"/songs/{song['id']}/stream", audio
    assert "sig=" in urlsplit(audio["src"]).query, audio

    WebDriverWait(driver, WAIT_SECONDS).until(
        lambda d: d.execute_script(
            "const c = document.getElementById('cover'); return c.complete && c.naturalWidth > 0"
        )
    )
    cover = driver.find_element(By.ID, "cover")
    assert urlsplit(cover.get_attribute("src")).path == f"/songs/{song['id']}/cover"
    assert cover.get_attribute("alt") == f"Cover of {song['title']}"
    assert driver.find_element(By.ID, "now-title").text == song["title"]
    assert driver.find_element(By.ID, "now-artist").text == song["artist"]

    # The toggle button pauses, and says so to a screen reader.
    toggle = driver.find_element(By.ID, "toggle")
    assert toggle.get_attribute("aria-label") == "Pause"
    toggle.click()
    # The label follows the element's `pause` event, queued after `paused` is set.
    WebDriverWait(driver, WAIT_SECONDS).until(
        lambda _: toggle.get_attribute("aria-label") == "Play"
    )
    assert driver.execute_script("return document.getElementById('audio').paused")


def assert_fits_a_narrow_screen(driver: Any) -> None:
    overflow = driver.execute_script(
        "return document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0, f"the page scrolls sideways by {overflow}px"


def assert_everything_came_from(driver: Any, origins: set[str]) -> None:
    loaded = driver.execute_script(
        "return performance.getEntriesByType('resource').map(entry => entry.name)"
    )
    for url in loaded:
        parts = urlsplit(url)
        if parts.scheme in ("data", "blob"):
            continue
        assert f"{parts.scheme}://{parts.netloc}" in origins, f"the page loaded {url}"


# --- through the gateway --------------------------------------------------------


def test_the_player_plays_a_song_through_the_gateway(
    driver: Any,  # first: without chromium the test is skipped before the stack starts
    stack: dict[str, str],  # noqa: F811 - the imported fixture
    tmp_path: Path,
) -> None:
    gateway = stack["GATEWAY"]
    song = upload_song(tmp_path, gateway, gateway, stack["ADMIN_EMAIL"], stack["ADMIN_PASSWORD"])
    with httpx.Client(timeout=20, trust_env=False) as http:
        # The gateway answers the config itself: every service is on its origin.
        config = http.get(f"{gateway}/player/config.json")
        assert config.status_code == 200 and config.json() == {}
        redirect = http.get(f"{gateway}/player")
        assert redirect.status_code in (301, 308) and redirect.headers["location"] == "/player/"

    save = screenshot_on_failure(driver, tmp_path / "player-gateway.png")
    try:
        open_player(driver, f"{gateway}/player")
        assert urlsplit(driver.current_url).path == "/player/"

        # A refusal shows the API's own detail.
        log_in_with_wrong_password(driver, stack["ADMIN_EMAIL"])
        log_in_with_the_form(driver, stack["ADMIN_EMAIL"], stack["ADMIN_PASSWORD"])
        search_for(driver, song["title"])
        press_play(driver, song)
        assert_it_plays(driver, song)
        assert_fits_a_narrow_screen(driver)
        assert_everything_came_from(driver, {gateway})
    except BaseException:
        save()
        raise


def log_in_with_wrong_password(driver: Any, email: str) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    form = driver.find_element(By.ID, "login")
    form.find_element(By.ID, "email").send_keys(email)
    form.find_element(By.ID, "password").send_keys("not-the-password")
    form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    WebDriverWait(driver, WAIT_SECONDS).until(shown_error)
    assert shown_error(driver) == "Invalid credentials"
    assert driver.find_element(By.ID, "error").get_attribute("role") == "alert"


def search_for(driver: Any, text: str) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    box = driver.find_element(By.ID, "q")
    box.clear()
    box.send_keys(text)
    driver.find_element(By.CSS_SELECTOR, "#search button[type=submit]").click()
    WebDriverWait(driver, WAIT_SECONDS).until(
        lambda d: text in d.find_element(By.ID, "heading").text or shown_error(d)
    )
    assert not shown_error(driver), shown_error(driver)


# --- without the gateway (`make run`) -------------------------------------------


@pytest.fixture(scope="module")
def direct_fleet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fleet]:
    """The fleet as `make run` starts it, on free ports: the page's origin is
    song_service's, which auth_service and album_service must allow (CORS), and
    song_service's config must name album_service's port (PLAYER_ALBUM_URL;
    auth_service's comes from AUTH_TOKEN_URL, which the fleet sets)."""
    browser_binaries()  # skip (or fail in CI) before starting anything
    with running_fleet(tmp_path_factory.mktemp("player-fleet")) as fleet:
        page_origin = fleet.song
        for name in ("auth", "album"):
            fleet.stop_service(name)
            fleet.start(name, {"CORS_ORIGINS": page_origin})
        fleet.stop_service("song")
        fleet.start("song", {"PLAYER_ALBUM_URL": fleet.album})
        yield fleet


def test_the_player_served_by_song_service_reaches_the_other_services(
    direct_fleet: Fleet, driver: Any, tmp_path: Path
) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    fleet = direct_fleet
    song = upload_song(tmp_path, fleet.song, fleet.auth, fleet.admin_email, fleet.admin_password)
    with httpx.Client(timeout=20, trust_env=False) as http:
        config = http.get(f"{fleet.song}/player/config.json")
    assert config.status_code == 200
    assert config.json() == {"auth": fleet.auth, "albums": fleet.album}

    save = screenshot_on_failure(driver, tmp_path / "player-direct.png")
    try:
        open_player(driver, f"{fleet.song}/player/")
        log_in_with_the_form(driver, fleet.admin_email, fleet.admin_password)
        # A reload keeps the session: the refresh token (sessionStorage) buys a new
        # access token from POST /auth/refresh, cross-origin too.
        driver.refresh()
        wait_until_ready(driver)
        assert fleet.admin_email in driver.find_element(By.ID, "who").text
        assert not shown_error(driver), shown_error(driver)

        open_album(driver, album_id(fleet.album, song["album_title"]))
        press_play(driver, song, keyboard=True)
        assert_it_plays(driver, song)
        assert_everything_came_from(driver, {fleet.song, fleet.auth, fleet.album})

        driver.find_element(By.ID, "logout").click()
        WebDriverWait(driver, WAIT_SECONDS).until(
            lambda d: d.find_element(By.ID, "login").is_displayed()
        )
        assert driver.execute_script("return sessionStorage.length") == 0
    except BaseException:
        save()
        print(fleet.log_text())
        raise


def open_album(driver: Any, album_id: int) -> None:
    """Albums (GET /albums from album_service), then the album's Open button (GET
    /albums/{id} and /albums/{id}/songs with the token: CORS preflights). The fleet
    is fresh, so the album is on the first page."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    wait = WebDriverWait(driver, WAIT_SECONDS)
    driver.find_element(By.CSS_SELECTOR, "button[data-view='albums']").click()
    opener = f"li[data-album-id='{album_id}'] button"
    wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, opener) or shown_error(d))
    assert not shown_error(driver), shown_error(driver)
    driver.find_element(By.CSS_SELECTOR, opener).click()
    wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "li[data-song-id]") or shown_error(d))
    assert not shown_error(driver), shown_error(driver)
