"""The web player's files and config as song_service serves them (`make run`); the
page itself runs in a real browser in tests/browser/test_player.py."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError

from common.settings import Settings
from database import Database
from song_service.main import create_app
from song_service.routers.player import player_config


def test_player_redirects_to_the_folder(sql_client: TestClient) -> None:
    response = sql_client.get("/player", follow_redirects=False)
    assert response.status_code == 308
    # Relative: never built from the Host header a client chose.
    assert response.headers["location"] == "/player/"
    forged = sql_client.get("/player", headers={"Host": "evil.example"}, follow_redirects=False)
    assert forged.headers["location"] == "/player/"


def test_the_page_and_its_assets_are_served(sql_client: TestClient) -> None:
    page = sql_client.get("/player/")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assets = re.findall(r'(?:src|href)="([^"#]+)"', page.text)
    assert sorted(asset for asset in assets if not asset.startswith("data:")) == [
        "player.css",
        "player.js",
    ]
    # Nothing from another host: no CDN, no web fonts.
    assert not re.search(r"(?:https?:)?//", page.text)
    types = {"player.css": "text/css", "player.js": "text/javascript"}
    for name, content_type in types.items():
        asset = sql_client.get(f"/player/{name}")
        assert asset.status_code == 200
        assert asset.headers["content-type"].startswith(content_type)
        assert not re.search(r"https?://(?!localhost:800[01])", asset.text), name
        assert asset.headers["etag"]
        again = sql_client.get(f"/player/{name}", headers={"If-None-Match": asset.headers["etag"]})
        assert again.status_code == 304
    head = sql_client.head("/player/")
    assert head.status_code == 200 and head.content == b""
    assert int(head.headers["content-length"]) == len(page.content)


def test_unknown_files_and_escapes_are_404(sql_client: TestClient) -> None:
    assert sql_client.get("/player/missing.js").status_code == 404
    assert sql_client.get("/player/../main.py").status_code == 404
    assert sql_client.get("/player/%2e%2e/main.py").status_code == 404


def test_config_names_auth_and_album_service(sql_client: TestClient) -> None:
    """Defaults (`make run`): auth_service where AUTH_TOKEN_URL points, album_service on
    that host at its own port."""
    response = sql_client.get("/player/config.json")
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    assert response.json() == {"auth": "http://localhost:8000", "albums": "http://localhost:8001"}


def test_config_follows_the_player_settings(settings: Settings, database: Database) -> None:
    chosen = settings.model_copy(
        update={
            "player_auth_url": "https://auth.example.com",
            "player_album_url": "https://music.example.com/albums-api",
        }
    )
    with TestClient(create_app(chosen, database)) as client:
        assert client.get("/player/config.json").json() == {
            "auth": "https://auth.example.com",
            "albums": "https://music.example.com/albums-api",
        }


def test_player_config_derives_from_auth_token_url() -> None:
    settings = Settings(_env_file=None, auth_token_url="http://127.0.0.1:9000/auth/token")
    assert player_config(settings) == {
        "auth": "http://127.0.0.1:9000",
        "albums": "http://127.0.0.1:8001",
    }
    album = settings.model_copy(update={"player_album_url": "http://127.0.0.1:9001"})
    assert player_config(album)["albums"] == "http://127.0.0.1:9001"


@pytest.mark.parametrize("value", ["ftp://example.com", "localhost:8000", "http://x/?q=1"])
def test_player_urls_must_be_http(value: str) -> None:
    with pytest.raises(ValidationError):
        Settings(_env_file=None, player_auth_url=value)
    assert Settings(_env_file=None, player_auth_url="http://a.test:1/").player_auth_url == (
        "http://a.test:1"
    )


def test_the_player_is_not_in_the_api_document(sql_client: TestClient) -> None:
    paths = sql_client.get("/openapi.json").json()["paths"]
    assert not [path for path in paths if path.startswith("/player")]
