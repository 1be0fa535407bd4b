"""One settings object for the whole fleet, read from the environment and `.env`."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict
from sqlalchemy.engine import URL, make_url

# The fleet's own Swagger pages call auth_service's token endpoint from their own
# origin, so they are allowed by default; a frontend's origin must be configured.
DEFAULT_CORS_ORIGINS = [
    f"http://{host}:{port}"
    for host in ("localhost", "127.0.0.1")
    for port in (8000, 8001, 8002, 8003, 8080)
]

MIN_BCRYPT_ROUNDS = 12


class Settings(BaseSettings):
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
    data_dir: Path = Path("data")

    # Tokens. RS256 keys live in files (generated on first run when absent);
    # HS256 needs JWT_SECRET_KEY, which has no default on purpose.
    jwt_algorithm: Literal["RS256", "HS256"] = "RS256"
    jwt_secret_key: SecretStr | None = None
    jwt_private_key_file: Path | None = None
    jwt_public_key_file: Path | None = None
    jwt_issuer: str = "musicplayer-auth"
    jwt_audience: str = "musicplayer"
    access_token_expire_minutes: int = Field(default=15, ge=1, le=24 * 60)
    refresh_token_expire_days: int = Field(default=14, ge=1, le=365)
    auth_token_url: str = "http://localhost:8000/auth/token"  # noqa: S105 - a URL

    bcrypt_rounds: int = Field(default=MIN_BCRYPT_ROUNDS, ge=MIN_BCRYPT_ROUNDS, le=16)

    # Failed-login throttling, counted in the shared database.
    login_max_failures_per_account: int = Field(default=5, ge=1)
    login_max_failures_per_address: int = Field(default=30, ge=1)
    login_failure_window_seconds: int = Field(default=900, ge=1)

    admin_email: str | None = None
    admin_password: SecretStr | None = None
    admin_username: str = "admin"

    cors_origins: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: list(DEFAULT_CORS_ORIGINS)
    )
    # Threads for blocking work (see common.db.in_database; bcrypt). None picks
    # by database: see common.app.
    threadpool_size: int | None = Field(default=None, ge=1, le=256)
    max_body_bytes: int = 1024 * 1024
    log_level: str = "INFO"
    user_service_url: str = "http://localhost:8003"

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _split_origins(cls, value: object) -> object:
        if isinstance(value, str):
            return [origin.strip() for origin in value.split(",") if origin.strip()]
        return value

    @model_validator(mode="after")
    def _require_secret_for_hs256(self) -> Settings:
        if self.jwt_algorithm == "HS256":
            secret = self.jwt_secret_key.get_secret_value() if self.jwt_secret_key else ""
            if len(secret) < 32:
                raise ValueError(
                    "JWT_ALGORITHM=HS256 needs JWT_SECRET_KEY of at least 32 characters"
                )
        return self

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

    @property
    def private_key_path(self) -> Path:
        return self.jwt_private_key_file or self.data_dir / "keys" / "jwt_private.pem"

    @property
    def public_key_path(self) -> Path:
        return self.jwt_public_key_file or self.data_dir / "keys" / "jwt_public.pem"


@lru_cache
def get_settings() -> Settings:
    return Settings()
