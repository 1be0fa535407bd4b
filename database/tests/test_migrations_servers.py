"""The migrations on every database the product supports: each runs up, all the
way down and up again on a scratch database, and leaves exactly the schema the
models describe (SQL Server is checked offline in tests/sqlserver/)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import inspect

from database import Base, Database
from database.migrate import downgrade, upgrade
from database.tests.schema import schema_diff
from tests.databases import require_server, scratch_database


@pytest.fixture(params=["sqlite", "postgresql", "mariadb"])
def empty_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'migrations.db'}"
        return
    with scratch_database(require_server(request.param), "migrations") as url:
        yield url.render_as_string(hide_password=False)


def table_names(url: str) -> set[str]:
    database = Database(url)
    try:
        return set(inspect(database.engine).get_table_names())
    finally:
        database.dispose()


def test_upgrade_downgrade_upgrade_leaves_the_models_schema(empty_database_url: str) -> None:
    url = empty_database_url
    upgrade(url)
    assert table_names(url) == {"alembic_version", *Base.metadata.tables}
    assert schema_diff(url) == []

    downgrade(url)
    assert table_names(url) == {"alembic_version"}

    # Down must undo everything up did (types, indexes, constraints), or this fails.
    upgrade(url)
    assert schema_diff(url) == []
