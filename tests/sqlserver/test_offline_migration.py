"""SQL Server cannot run here, so its migration is checked as the script Alembic
writes for it in offline mode."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from database.migrate import offline_sql
from database.models import Base

FREETDS_URL = "mssql+pyodbc://sa:secret@sqlserver:1433/musicplayer?driver=FreeTDS"


@pytest.fixture(scope="module")
def script() -> str:
    return offline_sql(FREETDS_URL)


def test_every_table_and_index_is_created(script: str) -> None:
    for table in Base.metadata.sorted_tables:
        assert f"CREATE TABLE {table.name} (" in script
        for index in table.indexes:
            unique = "UNIQUE " if index.unique else ""
            assert f"CREATE {unique}INDEX {index.name} ON {table.name}" in script
    assert re.search(r"INSERT INTO alembic_version \(version_num\) .*VALUES \('0001'\)", script)


def test_types_are_sql_servers(script: str) -> None:
    assert "id BIGINT NOT NULL IDENTITY" in script
    assert "email NVARCHAR(254) NOT NULL" in script  # Unicode names, not code-page VARCHAR
    assert "created_at DATETIME2(6) NOT NULL" in script  # not DATETIME's 3 ms rounding
    assert "AUTOINCREMENT" not in script  # SQLite-only option stays out


def test_foreign_keys_cascade_and_statements_are_batched(script: str) -> None:
    cascades = re.findall(r"FOREIGN KEY\((\w+)\) REFERENCES (\w+) \(id\) ON DELETE CASCADE", script)
    assert sorted(cascades) == sorted(
        (key.parent.name, key.column.table.name)
        for table in Base.metadata.sorted_tables
        for key in table.foreign_keys
        if key.ondelete == "CASCADE"
    )
    # An artist's albums and songs refuse its deletion rather than go with it.
    for table in ("songs", "albums"):
        assert (
            f"ALTER TABLE {table} ADD CONSTRAINT fk_{table}_artist_id_artists "
            "FOREIGN KEY(artist_id) REFERENCES artists (id);"
        ) in script
    assert script.count("\nGO\n") >= len(Base.metadata.sorted_tables)


def test_artists_are_backfilled_from_the_artist_keys(script: str) -> None:
    # 0004: one artist per folded artist name, every song and album linked.
    assert re.search(
        r"INSERT INTO artists \(name, sort_name, name_key, sort_name_key, created_at, updated_at\) "
        r"SELECT MIN\(artist\), MIN\(artist\), artist_key, artist_key, "
        r"SYSUTCDATETIME\(\), SYSUTCDATETIME\(\)",
        script,
    )
    for table in ("songs", "albums"):
        assert re.search(
            rf"UPDATE {table} SET artist_id=\(SELECT artists.id\s+FROM artists\s+"  # noqa: S608
            rf"WHERE artists.name_key = {table}.artist_key\)",
            script,
        )


def test_text_keys_terms_and_identities_are_binary_and_backfilled(script: str) -> None:
    # 0003: code point comparisons, and the approximate T-SQL backfill that
    # `python -m database.backfill` completes (see the migration's docstring).
    for column in ("email NVARCHAR(254)", "username NVARCHAR(50)", "throttle_key NVARCHAR(300)"):
        assert f"ALTER COLUMN {column} COLLATE Latin1_General_100_BIN2 NOT NULL" in script
    assert "ALTER TABLE users ADD CONSTRAINT uq_users_email UNIQUE (email)" in script
    assert "title_key NVARCHAR(200) COLLATE Latin1_General_100_BIN2 NOT NULL" in script
    assert "term NVARCHAR(100) COLLATE Latin1_General_100_BIN2 NOT NULL" in script
    assert re.search(r"UPDATE songs SET title_key = LEFT\(LTRIM\(RTRIM\(TRANSLATE\(LOWER", script)
    assert "CROSS APPLY STRING_SPLIT(songs.title_key + N' ' + songs.artist_key" in script
    assert "DROP INDEX ix_songs_title_id ON songs" in script


def test_the_cli_prints_the_same_script() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "database", "sql", "--url", FREETDS_URL],
        capture_output=True, text=True, check=True, timeout=60,
    )  # fmt: skip
    assert "CREATE TABLE users (" in done.stdout


def test_one_active_scan_is_a_filtered_unique_index(script: str) -> None:
    # SQL Server's unique index allows a single NULL; only the non-NULL rows count.
    assert (
        "CREATE UNIQUE INDEX ix_library_scans_active ON library_scans (active) "
        "WHERE active IS NOT NULL" in script
    )
