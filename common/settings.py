"""One settings object for the whole fleet, read from the environment and `.env`."""

from __future__ import annotations

import ipaddress
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, ValidationInfo, field_validator, model_validator
from pydantic_settings import NoDecode, SettingsConfigDict

from database.settings import DatabaseSettings

# The fleet's own Swagger pages call auth_service's token endpoint from their own
# origin, so they are allowed by default; a frontend's origin must be configured.
DEFAULT_CORS_ORIGINS = [
    f"http://{host}:{port}"
    for host in ("localhost", "127.0.0.1")
    for port in (8000, 8001, 8002, 8003, 8080)
]

MIN_BCRYPT_ROUNDS = 12
# Shared secrets (JWT_SECRET_KEY for HS256, CREDENTIALS_SECRET): shorter ones are refused.
MIN_SECRET_LENGTH = 32
# Throttle rows (failed logins, sign-ups) older than this are pruned in bulk, so
# no throttle window may be longer.
THROTTLE_RETENTION_SECONDS = 24 * 60 * 60


class Settings(DatabaseSettings):
    """Everything the fleet reads; the database's own part (URL, DB_*, DATA_DIR)
    comes from `database.settings.DatabaseSettings`."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    # Tokens. RS256 keys live in files (generated on first run when absent);
    # HS256 needs JWT_SECRET_KEY, which has no default on purpose.
    jwt_algorithm: Literal["RS256", "HS256"] = "RS256"
    jwt_secret_key: SecretStr | None = None
    jwt_private_key_file: Path | None = None
    jwt_public_key_file: Path | None = None
    # The public key before the last rotation (`python -m common.keys rotate`):
    # tokens it signed still verify until they expire. Default: beside the public key.
    jwt_previous_public_key_file: Path | None = None
    jwt_issuer: str = "musicplayer-auth"
    jwt_audience: str = "musicplayer"
    access_token_expire_minutes: int = Field(default=15, ge=1, le=24 * 60)
    refresh_token_expire_days: int = Field(default=14, ge=1, le=365)
    # A rotated refresh token presented again this soon is a retry (two tabs, a
    # lost response), not theft: it gets a new pair and nothing is revoked.
    refresh_reuse_grace_seconds: int = Field(default=10, ge=0, le=300)
    auth_token_url: str = "http://localhost:8000/auth/token"  # noqa: S105 - a URL

    bcrypt_rounds: int = Field(default=MIN_BCRYPT_ROUNDS, ge=MIN_BCRYPT_ROUNDS, le=16)

    # Failed logins (API.md, Sessions), counted in the shared database. Per
    # (account, client address) the first LOGIN_FREE_FAILURES are free; then each
    # attempt must wait LOGIN_BASE_DELAY_SECONDS after the last failure, doubling
    # with every further failure (1 s, 2 s, 4 s ...), up to LOGIN_MAX_DELAY_SECONDS.
    # An account gets the same delays beyond LOGIN_MAX_FAILURES_PER_ACCOUNT across
    # addresses, where each address counts at most its free failures: no single
    # address, a stranger's, can reach it. One address failing on many accounts
    # gets them beyond LOGIN_MAX_FAILURES_PER_ADDRESS. A failure is forgotten after
    # the window, or when that account logs in from that address.
    login_free_failures: int = Field(default=5, ge=1, le=1000)
    login_base_delay_seconds: int = Field(default=1, ge=1, le=3600)
    login_max_delay_seconds: int = Field(default=900, ge=1, le=THROTTLE_RETENTION_SECONDS)
    login_max_failures_per_account: int = Field(default=20, ge=2)
    login_max_failures_per_address: int = Field(default=100, ge=1)
    login_failure_window_seconds: int = Field(
        default=THROTTLE_RETENTION_SECONDS, ge=60, le=THROTTLE_RETENTION_SECONDS
    )
    # Sign-ups (POST /users) per client address within the window; 429 beyond.
    signup_max_per_address: int = Field(default=20, ge=1)
    signup_window_seconds: int = Field(default=3600, ge=60, le=THROTTLE_RETENTION_SECONDS)
    # Proxies (IP addresses or networks, comma-separated; `*` for any peer) whose
    # X-Forwarded-For and X-Forwarded-Proto are believed. Empty: nobody's, the
    # client address is the connection's peer (common.client_address).
    forwarded_allow_ips: str = ""

    admin_email: str | None = None
    admin_password: SecretStr | None = None
    admin_username: str = "admin"
    # Set an existing admin's password to ADMIN_PASSWORD (otherwise the bootstrap
    # only creates the admin, or promotes an account that is not one yet).
    admin_reset_password: bool = False

    # `make run` (scripts/run_fleet.py): the interface the services listen on and
    # uvicorn worker processes per service.
    host: str = "127.0.0.1"
    workers: int = Field(default=1, ge=1, le=64)

    cors_origins: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: list(DEFAULT_CORS_ORIGINS)
    )
    # Threads for blocking work (see common.db.in_database; bcrypt). None picks
    # by database: see common.app.
    threadpool_size: int | None = Field(default=None, ge=1, le=256)
    # Text searches (`q` on /songs and /albums) running at once per process, under
    # an admission of their own so that they never hold up writes (in threads of
    # their own, or on the event loop on PostgreSQL); None picks by database
    # (common.db). Beyond SEARCH_QUEUE_SIZE waiting ones, a search is a 503.
    search_concurrency: int | None = Field(default=None, ge=1, le=64)
    search_queue_size: int = Field(default=64, ge=0, le=10_000)
    max_body_bytes: int = 1024 * 1024
    log_level: str = "INFO"
    # "json": one JSON object per log line (time, level, logger, message, service,
    # request_id, exception), for log collectors; "text": a line for people.
    log_format: Literal["text", "json"] = "text"
    # Where clients reach the services (scheme, host and any path prefix); Link
    # headers point there. Unset, they point at the address the request came in
    # on: never at the client's Host header, which anyone can forge.
    public_base_url: str | None = None
    # The HTTP server's own limits (common.server): request line plus headers in
    # bytes (431 beyond), seconds to receive them (then the connection is closed),
    # and seconds an idle keep-alive connection stays open.
    http_max_header_bytes: int = Field(default=16 * 1024, ge=1024, le=1024 * 1024)
    http_header_timeout_seconds: float = Field(default=10.0, gt=0, le=300)
    http_keep_alive_seconds: int = Field(default=5, ge=1, le=300)

    # Media (API.md, Media). Uploads are stored under MEDIA_DIR; a library scan
    # reads LIBRARY_DIR (or a folder under it) and never writes there. Unset, these
    # folders and the key file below are under DATA_DIR (see _media_defaults).
    media_dir: Path | None = None
    library_dir: Path | None = None
    # Per uploaded file, in MiB (MAX_BODY_BYTES does not apply to /songs/upload).
    max_upload_mb: int = Field(default=200, ge=1, le=4096)
    # Signed stream URLs (POST /songs/{id}/stream-url): lifetime in seconds, and the
    # HMAC key. Unset, `python -m common.keys` writes one to STREAM_URL_KEY_FILE;
    # every song_service replica must read the same key.
    stream_url_ttl_seconds: int = Field(default=3600, ge=60, le=7 * 24 * 3600)
    stream_url_secret: SecretStr | None = None
    stream_url_key_file: Path | None = None
    # Third-party credentials (auth_service: API keys, app passwords). One secret,
    # at least 32 characters, from which the API keys' HMAC key and the app
    # passwords' encryption key are both derived; unset, `python -m common.keys`
    # (or auth_service's start) writes one to CREDENTIALS_KEY_FILE. Changing it
    # invalidates every API key and app password (users make new ones).
    credentials_secret: SecretStr | None = None
    credentials_key_file: Path | None = None
    # ffmpeg transcodes running at once per process (more are a 429), and where their
    # results are kept: by (song, format, bitrate), removed with the song.
    transcode_concurrency: int = Field(default=2, ge=1, le=64)
    # Resized covers, keyed by source and size.
    cache_dir: Path | None = None
    # The web player under `make run` (song_service/routers/player.py): where the
    # page finds auth_service and album_service. Unused behind the gateway.
    player_auth_url: str | None = None
    player_album_url: str | None = None
    # Behind the gateway: the internal nginx location the media volumes are served
    # from (X-Accel-Redirect: <prefix>/media/<path>, <prefix>/library/<path>).
    # Unset (`make run`), the service sends the bytes itself.
    media_accel_redirect: str | None = None
    # subsonic_service (API.md, OpenSubsonic facade) calls the services that own what
    # a Subsonic method changes, and auth_service to check Subsonic credentials.
    auth_service_url: str = "http://127.0.0.1:8000"
    album_service_url: str = "http://127.0.0.1:8001"
    song_service_url: str = "http://127.0.0.1:8002"
    # False: only API keys and our access tokens authenticate Subsonic calls; the
    # app-password schemes answer errors 41 (`t`+`s`) and 42 (`p`).
    subsonic_password_auth: bool = True
    # Where a Subsonic error about credentials sends the user (its `helpUrl`), e.g.
    # a page on making an API key. Unset, errors carry no helpUrl.
    subsonic_help_url: str | None = None

    @model_validator(mode="after")
    def _media_defaults(self) -> Settings:
        """MEDIA_DIR, LIBRARY_DIR, CACHE_DIR, STREAM_URL_KEY_FILE and
        CREDENTIALS_KEY_FILE default to folders of DATA_DIR, so one setting (or a
        test's tmp folder) moves them all."""
        self.media_dir = self.media_dir or self.data_dir / "media"
        self.library_dir = self.library_dir or self.data_dir / "library"
        self.cache_dir = self.cache_dir or self.data_dir / "cache"
        self.stream_url_key_file = (
            self.stream_url_key_file or self.data_dir / "keys" / "stream-url.key"
        )
        self.credentials_key_file = (
            self.credentials_key_file or self.data_dir / "keys" / "credentials.key"
        )
        return self

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _split_origins(cls, value: object) -> object:
        if isinstance(value, str):
            return [origin.strip() for origin in value.split(",") if origin.strip()]
        return value

    @field_validator(
        "public_base_url",
        "player_auth_url",
        "player_album_url",
        "auth_service_url",
        "album_service_url",
        "song_service_url",
    )
    @classmethod
    def _http_base_url(cls, value: str | None, info: ValidationInfo) -> str | None:
        """An http(s) base URL without a trailing slash (a path prefix is kept)."""
        if not value:
            return None
        name = (info.field_name or "").upper()
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"{name} must be an http(s) URL, e.g. https://music.example.com")
        if parts.query or parts.fragment:
            raise ValueError(f"{name} takes no query or fragment")
        return value.rstrip("/")

    @field_validator("forwarded_allow_ips")
    @classmethod
    def _trusted_proxies(cls, value: str) -> str:
        entries = [entry.strip() for entry in value.split(",") if entry.strip()]
        for entry in entries:
            if entry == "*":
                continue
            try:
                ipaddress.ip_network(entry, strict=False)
            except ValueError:
                raise ValueError(
                    f"FORWARDED_ALLOW_IPS: {entry!r} is not an IP address or network"
                ) from None
        return ",".join(entries)

    @model_validator(mode="after")
    def _account_limit_above_one_address(self) -> Settings:
        if self.login_max_failures_per_account <= self.login_free_failures:
            raise ValueError(
                "LOGIN_MAX_FAILURES_PER_ACCOUNT must be larger than LOGIN_FREE_FAILURES, "
                "or one address alone could slow down an account for everyone"
            )
        return self

    @field_validator("credentials_secret")
    @classmethod
    def _long_credentials_secret(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value()) < MIN_SECRET_LENGTH:
            raise ValueError(
                f"CREDENTIALS_SECRET must be at least {MIN_SECRET_LENGTH} characters; generate "
                f'one with `python -c "import secrets; print(secrets.token_urlsafe(48))"`, '
                f"or leave it unset to use CREDENTIALS_KEY_FILE"
            )
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
    def private_key_path(self) -> Path:
        return self.jwt_private_key_file or self.data_dir / "keys" / "jwt_private.pem"

    @property
    def public_key_path(self) -> Path:
        return self.jwt_public_key_file or self.data_dir / "keys" / "jwt_public.pem"

    @property
    def previous_public_key_path(self) -> Path:
        return self.jwt_previous_public_key_file or self.public_key_path.with_name(
            "jwt_previous_public.pem"
        )


@lru_cache
def get_settings() -> Settings:
    return Settings()
