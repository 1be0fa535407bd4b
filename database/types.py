"""Column types that behave the same on SQLite, SQL Server, PostgreSQL and MariaDB."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import NVARCHAR, VARCHAR, BigInteger, DateTime, Dialect, Integer, Unicode
from sqlalchemy.types import TypeDecorator, TypeEngine

# SQLite only auto-increments an INTEGER PRIMARY KEY, not a BIGINT one.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class UTCDateTime(TypeDecorator[datetime]):
    """Stores naive UTC (every backend has that), hands back aware UTC datetimes.

    MariaDB's DATETIME drops fractions unless asked and SQL Server's DATETIME
    rounds to 3 ms, so both get their precise variants.
    """

    impl = DateTime
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[datetime]:
        if dialect.name == "mysql":
            from sqlalchemy.dialects import mysql

            return dialect.type_descriptor(mysql.DATETIME(fsp=6))
        if dialect.name == "mssql":
            from sqlalchemy.dialects import mssql

            return dialect.type_descriptor(mssql.DATETIME2(precision=6))
        return dialect.type_descriptor(DateTime())

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("UTCDateTime needs an aware datetime")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)

    def result_processor(self, dialect: Dialect, coltype: Any) -> Callable[[Any], Any] | None:
        if dialect.name == "sqlite":
            # SQLite hands back the stored text: one C call parses it as UTC, where
            # parsing and then `.replace(tzinfo=UTC)` costs six times as much, and a
            # page of songs reads a hundred timestamps.
            return _parse_sqlite_utc
        return super().result_processor(dialect, coltype)


def _parse_sqlite_utc(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value + "+00:00")


def utcnow() -> datetime:
    return datetime.now(UTC)


# Text compared by code point on every database -------------------------------
#
# SQLite compares text by code point already. Elsewhere the default collation
# would apply its own case, accent and language rules: MariaDB's utf8mb4 default
# treats "josé" and "jose" as equal, PostgreSQL sorts by the server's locale,
# SQL Server by the database's (usually case-insensitive) collation. Columns
# whose comparisons must mean exactly "the same string" (identities) or must
# order exactly like Python's `sorted` (folded keys, search terms) use these.

# SQL Server's binary collation: case- and accent-sensitive; nvarchar compared by
# UTF-16 code unit, which is code point order except that characters U+E000 to
# U+FFFF sort after those beyond U+FFFF (emoji). No folded text in the catalogue
# is known to depend on that, but it is the one known difference.
MSSQL_BINARY = "Latin1_General_100_BIN2"
# MariaDB/MySQL: code point order. It is a PAD SPACE collation (trailing spaces
# ignored), harmless for keys: database.text.fold leaves none, nor anything below
# U+0020 that would sort before the padding.
MYSQL_BINARY = "utf8mb4_bin"


# Generic VARCHAR and NVARCHAR with a collation, not the dialects' own types: a
# service then loads only its own database's dialect (the other three: ~3 MB).


def exact_text(length: int) -> TypeEngine[str]:
    """Unicode(length) that compares exactly (case, accents, every code point) on
    every database: for identities such as emails and usernames."""
    return (
        Unicode(length)
        .with_variant(VARCHAR(length, collation=MYSQL_BINARY), "mysql", "mariadb")
        .with_variant(NVARCHAR(length, collation=MSSQL_BINARY), "mssql")
    )


def folded_text(length: int) -> TypeEngine[str]:
    """Unicode(length) for folded keys and search terms: compared and sorted by
    code point on every database, as Python compares `str`, so ORDER BY, range
    conditions and the in-memory fakes agree. PostgreSQL's "C" collation is byte
    order, which for UTF-8 is code point order."""
    return exact_text(length).with_variant(VARCHAR(length, collation="C"), "postgresql")
