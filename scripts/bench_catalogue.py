"""Catalogue scale check (`make bench-catalogue`): does a page cost the same at a
million songs as at a thousand?

Bulk-loads N songs (with their folded keys and search terms) into a fresh SQLite
file for each size, then serves the real song_service in-process and takes the
median latency of the same requests at every size, and of the same searches
run straight through database.search.sql_search (the ranked search repositories
serve). Prints a table with the ratio of the largest size to the smallest;
the target is <= 1.5 for every row. Not a test: timings on shared machines are
noise unless compared within one run, which is what the ratio does.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Select, insert, select

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from common.keys import ensure_key_pair
from common.paging import keyset_cursor
from common.settings import Settings
from database import Database
from database.keyset import Sort
from database.migrate import upgrade
from database.models import Song, SongTerm
from database.search import search_terms, sql_search
from database.types import utcnow
from song_service.main import create_app

GENRES = ["Rock", "Pop", "Jazz", "Blues", "Soul", "Folk", "Metal", "Ambient",
          "Latin", "Hip-Hop", "Classical", "Electronic"]  # fmt: skip
WORDS = ["Ghost", "Morning", "Rain", "Heart", "City", "Dance", "Shadow", "Ocean", "Fever",
         "Home", "Stars", "Window", "Mirror", "Train", "Dream", "Honey", "Thunder", "Lonely",
         "Runaway", "Blue", "Satellite", "Wonder", "Love"]  # fmt: skip
CHUNK = 20_000
# Shown, but left out of the worst ratio: at a thousand songs the page is short,
# so the ratio would set a short page against a full one.
UNRATED = "search (q=love, genre=Jazz)*"


def load_songs(database: Database, count: int) -> float:
    """Bulk insert `count` songs and their search terms in chunks inside one
    transaction (keys come from the column defaults); returns seconds."""
    rng = random.Random(count)  # noqa: S311 - benchmark data
    now = utcnow()
    started = time.perf_counter()
    with database.transaction() as session:
        for first in range(0, count, CHUNK):
            rows = []
            for i in range(first, min(first + CHUNK, count)):
                rows.append({
                    # Explicit ids (a fresh table), so the terms can name them.
                    "id": i + 1,
                    "title": f"{rng.choice(WORDS)} {rng.choice(WORDS)} {i}",
                    "artist": f"Artist {rng.randrange(max(count // 20, 1))}",
                    "genre": rng.choice(GENRES),
                    "file_url": f"https://cdn.musicplayer.example/audio/{i}.mp3",
                    "duration": rng.randint(90, 420),
                    "created_at": now,
                    "updated_at": now,
                })  # fmt: skip
            session.execute(insert(Song), rows)
            terms = [
                {"term": term, "song_id": row["id"]}
                for row in rows
                for term in search_terms(row["title"], row["artist"])
            ]
            session.execute(insert(SongTerm), terms)
    return time.perf_counter() - started


def median_ms(call: Callable[[], object], repeats: int) -> float:
    for _ in range(3):
        call()  # warm caches and the connection pool
    samples = []
    for _ in range(repeats):
        started = time.perf_counter()
        call()
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)


def measure(size: int, repeats: int, workdir: Path) -> dict[str, float]:
    directory = workdir / f"n{size}"
    directory.mkdir()
    ensure_key_pair(directory / "private.pem", directory / "public.pem")
    settings = Settings(
        _env_file=None,
        data_dir=directory,
        jwt_private_key_file=directory / "private.pem",
        jwt_public_key_file=directory / "public.pem",
        log_level="WARNING",
    )
    url = settings.sqlalchemy_url.render_as_string(hide_password=False)
    upgrade(url)
    database = Database(url)
    load_seconds = load_songs(database, size)
    with database.session() as session:
        deep = min(int(size * 0.9), size - 51)  # 90% in, with a full page after it
        # Title pages are ordered, and their cursors carry, the folded title key.
        deep_title, deep_id = session.execute(
            select(Song.title_key, Song.id).order_by(Song.title_key, Song.id).offset(deep).limit(1)
        ).one()
    by_id = keyset_cursor(Sort("id"), deep, deep)
    by_title = keyset_cursor(Sort("title"), deep_title, deep_id)
    # (path, how many songs the page must hold; None: any number)
    scenarios = {
        "first page": ("/songs?limit=50", 50),
        "deep page (cursor, by id)": (f"/songs?limit=50&cursor={by_id}", 50),
        "deep page (cursor, by title)": (f"/songs?limit=50&sort=title&cursor={by_title}", 50),
        "filtered page (genre)": ("/songs?limit=50&genre=Jazz", 50),
        "search (q=love)": ("/songs?limit=50&q=love", 50),
        "search (q=zzzqx, no match)": ("/songs?limit=50&q=zzzqx", 0),
        # Fewer than 50 at a thousand songs: any count, and no ratio (see UNRATED).
        UNRATED: ("/songs?limit=50&q=love&genre=Jazz", None),
    }
    results = {"load seconds": load_seconds}
    with TestClient(create_app(settings, database)) as client:
        for name, (path, expected) in scenarios.items():

            def call(path: str = path, expected: int | None = expected) -> None:
                response = client.get(path)
                found = len(response.json()) if response.status_code == 200 else -1
                if found < 0 or (expected is not None and found != expected):
                    raise SystemExit(f"{path}: {response.status_code} {response.text[:200]}")

            results[name] = median_ms(call, repeats)
    results |= measure_sql_search(database, repeats)
    database.dispose()
    return results


# q → how many of the first 50 ranked songs it must find. Two words that rarely
# meet ("ghost lo") fill fewer than 50 at a thousand songs, so their ratio would
# compare a short page with a full one: left out.
SQL_SEARCHES = {"love": 50, "lo": 50, "zzzqx": 0, "love zzzqx": 0}


def measure_sql_search(database: Database, repeats: int) -> dict[str, float]:
    """The ranked search page straight from database.search, without HTTP."""
    songs = Song.__table__
    results = {}
    with database.connect() as connection:
        for q, expected in SQL_SEARCHES.items():
            statement = sql_search(songs, q, limit=50)

            def call(
                statement: Select[Any] = statement, q: str = q, expected: int | None = expected
            ) -> None:
                found = len(connection.execute(statement).all())
                if expected is not None and found != expected:
                    raise SystemExit(f"sql_search q={q!r}: not {expected} rows")

            results[f"sql_search (q={q})"] = median_ms(call, repeats)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,1000000", help="comma-separated song counts")
    parser.add_argument("--repeats", type=int, default=40)
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    sizes = [int(size) for size in args.sizes.split(",")]
    if min(sizes) < 1000:
        parser.error("sizes start at 1000: every measured page must be a full one")
    with tempfile.TemporaryDirectory(prefix="musicplayer-bench-") as workdir:
        results = {}
        for size in sizes:
            print(f"loading and measuring {size:,} songs ...", flush=True)
            results[size] = measure(size, args.repeats, Path(workdir))
    small, large = sizes[0], sizes[-1]
    print(f"\n{'median latency, ms':<32}" + "".join(f"{f'{s:,} songs':>16}" for s in sizes)
          + f"{'ratio':>9}")  # fmt: skip
    worst = 0.0
    for name in results[small]:
        ratio = results[large][name] / results[small][name]
        if name not in ("load seconds", UNRATED):
            worst = max(worst, ratio)
        cells = "".join(f"{results[size][name]:>16.2f}" for size in sizes)
        print(f"{name:<32}{cells}{ratio:>9.2f}")
    print(f"\nworst page ratio {worst:.2f} (target <= 1.5); * not rated: a short page")
    if args.json:
        args.json.write_text(json.dumps({"results": results, "worst_ratio": worst}, indent=2))


if __name__ == "__main__":
    main()
