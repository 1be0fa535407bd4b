from __future__ import annotations

from pathlib import Path

from sqlalchemy import inspect

from database import Database
from database.migrate import downgrade, upgrade
from database.tests.schema import schema_diff


def test_upgrade_downgrade_upgrade(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'm.db'}"
    upgrade(url)
    downgrade(url)
    database = Database(url)
    assert set(inspect(database.engine).get_table_names()) == {"alembic_version"}
    database.dispose()
    upgrade(url)
    assert schema_diff(url) == []


def test_models_and_migrations_agree(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'm.db'}"
    upgrade(url)
    assert schema_diff(url) == []
