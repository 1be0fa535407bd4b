"""The SQL Server driver stack as far as this machine has it: pyodbc over unixODBC
with the FreeTDS driver registered (Debian's unixodbc and tdsodbc)."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import DBAPIError

from tests.databases import require_pyodbc
from tests.e2e.fleet import free_ports


def test_pyodbc_loads_and_freetds_is_registered() -> None:
    assert "FreeTDS" in require_pyodbc().drivers()


def test_an_unreachable_server_fails_fast_with_a_database_error() -> None:
    require_pyodbc()
    port = free_ports(1)[0]  # nothing listens there
    engine = create_engine(
        f"mssql+pyodbc://sa:secret@127.0.0.1:{port}/musicplayer?driver=FreeTDS",
        connect_args={"timeout": 3},
    )
    with pytest.raises(DBAPIError), engine.connect() as connection:
        connection.execute(text("SELECT 1"))
    engine.dispose()
