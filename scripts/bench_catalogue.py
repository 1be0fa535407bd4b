"""Library scale check (`make bench-catalogue`): does a page cost the same at a
million songs as at a thousand?

For each size it bulk-loads the whole library into a fresh SQLite file
(scripts/bench/library.py: at 1,000,000 songs also 100,000 artists and albums,
10,000 playlists and users, 10,000,000 plays over two years; a thousandth of each
at 1,000), then serves the real song_service and album_service in-process and
takes the median latency of the same requests at every size, and of the same
searches run straight through database.search.sql_search (the ranked search
repositories serve). The sizes take turns, one request each, so a machine busy
with something else slows every size alike. `--data DIR` keeps the loaded
databases for the next run (the load of the full size takes minutes). Prints a
table with the ratio of the largest size to the smallest; the target is <= 1.5
for every row, and a search that matches nothing may cost at most 2x one that
matches. Not a test: timings on shared machines are noise unless compared within
one run, which is what the ratios do.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jwt
from fastapi.testclient import TestClient
from sqlalchemy import Connection, Select, select

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from album_service.main import create_app as create_album_app
from common.keys import ensure_key_pair, public_jwk
from common.paging import keyset_cursor
from common.settings import Settings
from database import Database
from database.keyset import Sort
from database.migrate import upgrade
from database.models import Song
from database.search import sql_search
from scripts.bench.library import Library, LibrarySize, load_library
from song_service.main import create_app

# Shown, but left out of the worst ratio: at a thousand songs the page is short,
# so the ratio would set a short page against a full one; or not a page at all.
UNRATED = ("search (q=love, genre=Jazz)*", "GET /genres (counts)*")
MATCH = "search page (/search?q=love)"
NO_MATCH = "search page (/search?q=zzzqx, none)"
# A search matching nothing may cost at most this many times one that matches.
NO_MATCH_FACTOR = 2.0
SEARCH_TYPES = ("artists", "albums", "songs")


Call = Callable[[], object]


def interleaved_medians(calls: dict[int, Call], repeats: int) -> dict[int, float]:
    """The median latency in ms of each size's call, taking turns: one call at
    every size, `repeats` times. Whatever else the machine does slows each size
    alike, so the ratio survives a busy machine better than two runs one after
    the other would."""
    for call in calls.values():
        for _ in range(3):
            call()  # warm caches and the connection pool
    samples: dict[int, list[float]] = {size: [] for size in calls}
    order = list(calls)
    for _ in range(repeats):
        for size in order:
            started = time.perf_counter()
            calls[size]()
            samples[size].append((time.perf_counter() - started) * 1000)
        order.reverse()  # neither size always goes first
    return {size: statistics.median(times) for size, times in samples.items()}


def bearer(settings: Settings, user_id: int) -> dict[str, str]:
    """An access token for `user_id`, minted as auth_service mints one."""
    private_pem = settings.jwt_private_key_file.read_bytes()  # type: ignore[union-attr]
    public_pem = settings.jwt_public_key_file.read_bytes()  # type: ignore[union-attr]
    now = int(time.time())
    claims = {"sub": str(user_id), "role": "user", "type": "access", "iat": now,
              "exp": now + 3600, "jti": uuid.uuid4().hex, "iss": settings.jwt_issuer,
              "aud": settings.jwt_audience}  # fmt: skip
    token = jwt.encode(
        claims, private_pem, algorithm="RS256", headers={"kid": public_jwk(public_pem)["kid"]}
    )
    return {"Authorization": f"Bearer {token}"}


def page_length(body: Any) -> int:
    return len(body)


def full_search(body: Any) -> int:
    """The per-type page sizes of a /search answer; -1 unless all are the same."""
    sizes = {len(body[kind]) for kind in SEARCH_TYPES}
    return sizes.pop() if len(sizes) == 1 else -1


def prepare(size: int, workdir: Path, stack: contextlib.ExitStack) -> tuple[float, dict[str, Call]]:
    """Load (or, with --data, reuse) the library of `size` songs and start its
    services in-process; (load seconds, the measured calls by row name). Every
    call checks its answer: a page that is short or an error ends the run."""
    directory = workdir / f"n{size}"
    directory.mkdir(exist_ok=True)
    ensure_key_pair(directory / "private.pem", directory / "public.pem")
    settings = Settings(
        _env_file=None,
        data_dir=directory,
        jwt_private_key_file=directory / "private.pem",
        jwt_public_key_file=directory / "public.pem",
        log_level="WARNING",
    )
    url = settings.sqlalchemy_url.render_as_string(hide_password=False)
    marker = directory / "library.json"
    if marker.exists():  # --data: loaded by an earlier run
        library = Library(**json.loads(marker.read_text()) | {"size": LibrarySize.scaled(size)})
        print("  loaded by an earlier run (--data)", flush=True)
    else:
        # A load cut short leaves no marker: start that database again.
        for leftover in directory.glob("musicplayer.db*"):
            leftover.unlink()
        upgrade(url)
        library = load_library(str(settings.sqlalchemy_url.database), LibrarySize.scaled(size))
        print(f"  loaded in {library.seconds:.1f} s", flush=True)
        fields = {k: v for k, v in vars(library).items() if k != "size"}
        marker.write_text(json.dumps(fields))
    database = Database(url)
    stack.callback(database.dispose)
    with database.session() as session:
        deep = min(int(size * 0.9), size - 51)  # 90% in, with a full page after it
        # Title pages are ordered, and their cursors carry, the folded title key.
        deep_title, deep_id = session.execute(
            select(Song.title_key, Song.id).order_by(Song.title_key, Song.id).offset(deep).limit(1)
        ).one()
    by_id = keyset_cursor(Sort("id"), deep, deep)
    by_title = keyset_cursor(Sort("title"), deep_title, deep_id)
    user = bearer(settings, library.heavy_user)
    artist, playlist = library.measured_artist, library.measured_playlist
    # (app, path, user token or not, how many rows the page must hold (None: any
    # number but none), how to count them)
    song, album = "song", "album"
    scenarios: dict[str, tuple[str, str, bool, int | None, Callable[[Any], int]]] = {
        "first page": (song, "/songs?limit=50", False, 50, page_length),
        "deep page (cursor, by id)": (song, f"/songs?limit=50&cursor={by_id}", False, 50,
                                      page_length),
        "deep page (cursor, by title)": (song, f"/songs?limit=50&sort=title&cursor={by_title}",
                                         False, 50, page_length),
        "filtered page (genre)": (song, "/songs?limit=50&genre=Jazz", False, 50, page_length),
        "search (q=love)": (song, "/songs?limit=50&q=love", False, 50, page_length),
        "search (q=zzzqx, no match)": (song, "/songs?limit=50&q=zzzqx", False, 0, page_length),
        # Fewer than 50 at a thousand songs: any count, and no ratio (see UNRATED).
        UNRATED[0]: (song, "/songs?limit=50&q=love&genre=Jazz", False, None, page_length),
        "artists page (/artists?limit=50)": (album, "/artists?limit=50", False, 50, page_length),
        "artist's songs (/artists/{id}/songs)": (album, f"/artists/{artist}/songs?limit=50",
                                                 False, 10, page_length),
        "artist's albums (/artists/{id}/albums)": (album, f"/artists/{artist}/albums?limit=50",
                                                   False, 1, page_length),
        "playlist page (/playlists/{id}/songs)": (song, f"/playlists/{playlist}/songs?limit=50",
                                                  True, 50, page_length),
        "my plays (/songs/played?limit=50)": (song, "/songs/played?limit=50", True, 50,
                                              page_length),
        "my top (/songs/top?period=month)": (song, "/songs/top?period=month", True, None,
                                             page_length),
        MATCH: (song, "/search?q=love&limit=20", False, 20, full_search),
        NO_MATCH: (song, "/search?q=zzzqx&limit=20", False, 0, full_search),
        UNRATED[1]: (song, "/genres", False, None, page_length),
    }  # fmt: skip
    clients = {
        song: stack.enter_context(TestClient(create_app(settings, database))),
        album: stack.enter_context(TestClient(create_album_app(settings, database))),
    }
    calls: dict[str, Call] = {}
    for name, (app, path, signed_in, expected, rows) in scenarios.items():
        client, headers = clients[app], user if signed_in else {}

        def call(
            client: TestClient = client,
            path: str = path,
            headers: dict[str, str] = headers,
            expected: int | None = expected,
            rows: Callable[[Any], int] = rows,
        ) -> None:
            response = client.get(path, headers=headers)
            found = rows(response.json()) if response.status_code == 200 else -1
            if found < 0 or (found != expected if expected is not None else found == 0):
                raise SystemExit(
                    f"{path}: {response.status_code}, {found} rows (want {expected}): "
                    f"{response.text[:300]}"
                )

        calls[name] = call
    connection = stack.enter_context(database.connect())
    return library.seconds, calls | sql_search_calls(connection)


# q → how many of the first 50 ranked songs it must find. Two words that rarely
# meet ("ghost lo") fill fewer than 50 at a thousand songs, so their ratio would
# compare a short page with a full one: left out.
SQL_SEARCHES = {"love": 50, "lo": 50, "zzzqx": 0, "love zzzqx": 0}


def sql_search_calls(connection: Connection) -> dict[str, Call]:
    """The ranked search page straight from database.search, without HTTP."""
    songs = Song.__table__
    calls: dict[str, Call] = {}
    for q, expected in SQL_SEARCHES.items():
        statement = sql_search(songs, q, limit=50)

        def call(
            statement: Select[Any] = statement, q: str = q, expected: int | None = expected
        ) -> None:
            found = len(connection.execute(statement).all())
            if expected is not None and found != expected:
                raise SystemExit(f"sql_search q={q!r}: not {expected} rows")

        calls[f"sql_search (q={q})"] = call
    return calls


def describe(size: int) -> str:
    s = LibrarySize.scaled(size)
    return (f"{s.songs:,} songs, {s.artists:,} artists, {s.albums:,} albums, "
            f"{s.playlists:,} playlists, {s.plays:,} plays by {s.users:,} users")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sizes", default="1000,1000000", help="comma-separated song counts (the rest scales)"
    )
    parser.add_argument("--repeats", type=int, default=100, help="rounds per row (100)")
    parser.add_argument(
        "--quick", action="store_true", help="a smoke run: 1,000 and 10,000 songs, 10 repeats"
    )
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument(
        "--data",
        type=Path,
        help="keep the loaded databases in this folder and reuse them on later runs "
        "(default: a temporary folder, removed after)",
    )
    args = parser.parse_args()
    if args.quick:
        args.sizes, args.repeats = "1000,10000", 10
    sizes = [int(size) for size in args.sizes.split(",")]
    if min(sizes) < 1000:
        parser.error("sizes start at 1000: every measured page must be a full one")
    started = time.monotonic()
    with contextlib.ExitStack() as stack:
        if args.data is None:
            workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="mp-bench-")))
        else:
            workdir = args.data
            workdir.mkdir(parents=True, exist_ok=True)
        results: dict[int, dict[str, float]] = {}
        calls: dict[int, dict[str, Call]] = {}
        for size in sizes:
            print(f"loading {describe(size)} ...", flush=True)
            load_seconds, calls[size] = prepare(size, workdir, stack)
            results[size] = {"load seconds": load_seconds}
        print(f"measuring, {args.repeats} rounds of every size in turn ...", flush=True)
        for name in calls[sizes[0]]:
            medians = interleaved_medians({size: calls[size][name] for size in sizes}, args.repeats)
            for size, median in medians.items():
                results[size][name] = median
    small, large = sizes[0], sizes[-1]
    print(f"\n{'median latency, ms':<40}" + "".join(f"{f'{s:,} songs':>16}" for s in sizes)
          + f"{'ratio':>9}")  # fmt: skip
    worst, worst_name = 0.0, ""
    for name in results[small]:
        ratio = results[large][name] / results[small][name]
        if name not in ("load seconds", *UNRATED) and ratio > worst:
            worst, worst_name = ratio, name
        cells = "".join(f"{results[size][name]:>16.2f}" for size in sizes)
        print(f"{name:<40}{cells}{ratio:>9.2f}")
    no_match = results[large][NO_MATCH] / results[large][MATCH]
    print(f"\nworst page ratio {worst:.2f} ({worst_name}; target <= 1.5); "
          f"* not rated: a short page, or not a page")  # fmt: skip
    print(
        f"/search matching nothing / matching, at {large:,} songs: {no_match:.2f} "
        f"(target <= {NO_MATCH_FACTOR:.0f}); whole run {time.monotonic() - started:.0f} s"
    )
    if args.json:
        args.json.write_text(json.dumps({
            "sizes": {size: describe(size) for size in sizes}, "results": results,
            "worst_ratio": worst, "no_match_over_match": no_match,
        }, indent=2))  # fmt: skip


if __name__ == "__main__":
    main()
