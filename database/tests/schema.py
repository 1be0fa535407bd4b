"""What the migration tests compare: the migrated schema against the tables."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from database import Base, Database


def schema_diff(url: str) -> list[object]:
    """Alembic's differences between the database at `url` and `database.tables`
    (types compared too); empty when the migrations build exactly the tables."""
    database = Database(url)
    try:
        with database.engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            return list(compare_metadata(context, Base.metadata))
    finally:
        database.dispose()
