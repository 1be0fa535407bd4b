from __future__ import annotations

import pytest
from pydantic import ValidationError

from common.settings import Settings


def test_embedded_default_is_sqlite_under_the_data_dir() -> None:
    url = Settings(_env_file=None, data_dir="somewhere").sqlalchemy_url
    assert url.get_backend_name() == "sqlite"
    assert url.database == "somewhere/musicplayer.db"


def test_db_host_builds_a_sql_server_url_with_escaped_password() -> None:
    settings = Settings(
        _env_file=None, db_host="db", db_user="sa", db_password="p@ss;word/%", db_name="music"
    )
    url = settings.sqlalchemy_url
    assert url.drivername == "mssql+pyodbc"
    assert (url.host, url.port, url.database, url.password) == ("db", 1433, "music", "p@ss;word/%")
    assert url.query["driver"] == "ODBC Driver 18 for SQL Server"


def test_database_url_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg://u:p@h/db")
    monkeypatch.setenv("DB_HOST", "ignored")
    assert Settings(_env_file=None).sqlalchemy_url.get_backend_name() == "postgresql"


def test_hs256_has_no_usable_default_secret() -> None:
    with pytest.raises(ValidationError, match="JWT_SECRET_KEY"):
        Settings(_env_file=None, jwt_algorithm="HS256")
    with pytest.raises(ValidationError, match="JWT_SECRET_KEY"):
        Settings(_env_file=None, jwt_algorithm="HS256", jwt_secret_key="short")
    assert Settings(_env_file=None, jwt_algorithm="HS256", jwt_secret_key="k" * 32)


def test_other_algorithms_are_refused() -> None:
    with pytest.raises(ValidationError):
        Settings(_env_file=None, jwt_algorithm="none")


def test_cors_origins_from_a_comma_separated_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CORS_ORIGINS", "http://a.test, http://b.test")
    assert Settings(_env_file=None).cors_origins == ["http://a.test", "http://b.test"]
