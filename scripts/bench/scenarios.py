"""What is measured: one wrk run per scenario, with the script and arguments it needs."""

from __future__ import annotations

from dataclasses import dataclass

from scripts.bench.catalogue import Catalogue

GENRE = "Jazz"
LOGIN_CLIENTS = 8  # the "8 clients log in continuously"
HEALTH_CLIENTS = 2
# A login is a bcrypt round (~0.2 s of CPU); with 8 clients on two cores an answer
# takes about a second, so a shorter run would count next to nothing.
LOGIN_MIN_SECONDS = 4
# The /health run starts this long after the logins, once they saturate auth.
STORM_LEAD_SECONDS = 1
# The "16 anonymous searches that match nothing, at once", sorted by title:
# the search path that may read far into the table.
SEARCH_FLOOD_CLIENTS = 16
NO_MATCH = "zqxjvkw"
# A word of about one song title in twelve (scripts/bench/catalogue.py WORDS): the
# search page of each type is full.
SEARCH_TERM = "love"


@dataclass(frozen=True)
class Scenario:
    key: str
    label: str
    service: str
    path: str
    script: str
    args: tuple[str, ...] = ()
    connections: int | None = None  # None: the run's --connections
    min_ratio: float | None = None  # target: requests/s >= min_ratio x the baseline's
    # Target on REFERENCE_TARGET_DATABASES: requests/s >= this x the reference's of
    # the same kind (PAGES: its page, anything else: its GET /songs/{id}).
    min_reference_ratio: float | None = None


@dataclass(frozen=True)
class Inputs:
    """What the scenarios need from the loaded catalogue and the signed-up users."""

    catalogue: Catalogue
    tokens: list[str]
    login_bodies: list[str]
    deep_path: str


BASELINE = Scenario("baseline", "baseline: GET / (constant JSON)", "baseline", "/", "plain.lua")
# Run again with WORKERS=2; their growth factor is a target of its own.
SCALED = ("song_by_id", "songs_page")
# The reference app (reference.py), measured right after the baseline. Every row is
# divided by its GET /songs/{id} too, the pages (PAGES) by its page instead.
REFERENCE_BY_ID = "reference_song_by_id"
REFERENCE_PAGE = "reference_songs_page"
PAGES = frozenset(
    {"songs_page", "songs_deep_page", "songs_genre_page", "album_songs", "search",
     "playlist_page", REFERENCE_PAGE}
)  # fmt: skip
# The reference targets hold on PostgreSQL only, in place of the baseline's: there
# the fleet and the reference both wait on a server, and the gap is the stack's
# own. On SQLite the baseline targets stay the ones that count.
REFERENCE_TARGET_DATABASES = frozenset({"postgresql"})
LOGIN_STORM = "health_during_logins"
SEARCH_FLOOD = "like_during_search_flood"


def scenarios(inputs: Inputs) -> list[Scenario]:
    c = inputs.catalogue
    tokens = tuple(inputs.tokens)
    songs = (str(c.first_song), str(c.last_song))
    albums = (str(c.first_album), str(c.last_album))
    playlists = (str(c.first_playlist), str(c.last_playlist))
    return [
        Scenario("song_by_id", "GET /songs/{id} (auth, random id)", "song", "/",
                 "random_get.lua", ("/songs/%d", *songs, *tokens), min_ratio=0.25,
                 min_reference_ratio=0.6),
        Scenario("songs_page", "GET /songs?limit=50", "song", "/songs?limit=50",
                 "plain.lua", min_ratio=0.10, min_reference_ratio=0.6),
        Scenario("songs_deep_page", "GET /songs deep page (cursor at 90%)", "song",
                 inputs.deep_path, "plain.lua"),
        Scenario("songs_genre_page", f"GET /songs?genre={GENRE}&limit=50", "song",
                 f"/songs?genre={GENRE}&limit=50", "plain.lua"),
        Scenario("album_songs", "GET /albums/{id}/songs (auth, random id)", "album", "/",
                 "random_get.lua", ("/albums/%d/songs", *albums, *tokens)),
        Scenario("search", f"GET /search?q={SEARCH_TERM} (artists, albums, songs)", "song",
                 f"/search?q={SEARCH_TERM}", "plain.lua", min_ratio=0.05),
        Scenario("playlist_page", "GET /playlists/{id}/songs?limit=50 (auth, random id)",
                 "song", "/", "random_get.lua",
                 ("/playlists/%d/songs?limit=50", *playlists, *tokens), min_ratio=0.05),
        Scenario("like_unlike", "POST/DELETE /songs/{id}/like (random)", "song", "/",
                 "like_unlike.lua", (*songs, *tokens), min_ratio=0.10),
        Scenario("login", "POST /auth/login", "auth", "/auth/login", "login.lua",
                 tuple(inputs.login_bodies), connections=LOGIN_CLIENTS),
    ]  # fmt: skip


def references(inputs: Inputs, driver: str) -> tuple[Scenario, Scenario]:
    """The reference app's two reads, as song_by_id and songs_page ask the fleet:
    the same script, ids and tokens. `driver`: "asyncpg" or "sqlite3"."""
    c = inputs.catalogue
    args = ("/songs/%d", str(c.first_song), str(c.last_song), *inputs.tokens)
    by_id = Scenario(REFERENCE_BY_ID, f"reference: GET /songs/{{id}} ({driver}, hand-written)",
                     "reference", "/", "random_get.lua", args)  # fmt: skip
    page = Scenario(REFERENCE_PAGE, f"reference: GET /songs?limit=50 ({driver}, hand-written)",
                    "reference", "/songs?limit=50", "plain.lua")  # fmt: skip
    return by_id, page


def storm(inputs: Inputs) -> tuple[Scenario, Scenario]:
    """Logins at full speed and, at the same time, /health on the same auth process."""
    logins = Scenario("logins_in_storm", "POST /auth/login (storm, 8 clients)", "auth",
                      "/auth/login", "login.lua", tuple(inputs.login_bodies),
                      connections=LOGIN_CLIENTS)  # fmt: skip
    health = Scenario(LOGIN_STORM, "GET /health on auth during 8 logins", "auth", "/health",
                      "plain.lua", connections=HEALTH_CLIENTS)  # fmt: skip
    return logins, health


def flood(inputs: Inputs) -> tuple[Scenario, Scenario]:
    """Searches that match nothing, at full speed, and likes on the same song
    process at the same time."""
    c = inputs.catalogue
    songs = (str(c.first_song), str(c.last_song))
    searches = Scenario("searches_in_flood", f"GET /songs?q=(no match) (flood, "
                        f"{SEARCH_FLOOD_CLIENTS} clients)", "song",
                        f"/songs?q={NO_MATCH}&sort=title&limit=50", "plain.lua",
                        connections=SEARCH_FLOOD_CLIENTS)  # fmt: skip
    likes = Scenario(SEARCH_FLOOD, "POST/DELETE /songs/{id}/like during the search flood",
                     "song", "/", "like_unlike.lua", (*songs, *inputs.tokens))  # fmt: skip
    return searches, likes
