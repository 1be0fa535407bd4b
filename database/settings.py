"""Where the database is: the part of the fleet's settings that `database` itself
needs (its command line, migrations and demo data), read from the environment
and `.env`. `common.settings.Settings` extends this class, so every name is
defined once and the fleet still reads one settings object."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import URL, make_url


class DatabaseSettings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    # Database: DATABASE_URL wins; otherwise DB_HOST & co. describe a SQL Server;
    # otherwise an embedded SQLite file under DATA_DIR.
    database_url: str | None = None
    db_host: str | None = None
    db_port: int = 1433
    db_user: str | None = None
    db_password: SecretStr | None = None
    db_name: str = "musicplayer"
    db_odbc_driver: str = "ODBC Driver 18 for SQL Server"
    db_connect_timeout_seconds: int = Field(default=5, ge=1, le=60)
    # Connections each of a service process's pools keeps (database.engine); None
    # sizes them to the work they serve.
    db_pool_size: int | None = Field(default=None, ge=1, le=200)
    # PostgreSQL: use cases run on the event loop through asyncpg (database.engine);
    # off, in the threadpool through the URL's own driver.
    db_event_loop: bool = True
    data_dir: Path = Path("data")

    @property
    def sqlalchemy_url(self) -> URL:
        if self.database_url:
            return make_url(self.database_url)
        if self.db_host:
            return URL.create(
                "mssql+pyodbc",
                username=self.db_user,
                password=self.db_password.get_secret_value() if self.db_password else None,
                host=self.db_host,
                port=self.db_port,
                database=self.db_name,
                query={"driver": self.db_odbc_driver, "TrustServerCertificate": "yes"},
            )
        return URL.create("sqlite", database=str(self.data_dir / "musicplayer.db"))


@lru_cache
def get_database_settings() -> DatabaseSettings:
    return DatabaseSettings()
