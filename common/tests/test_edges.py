"""Hardened edges every service inherits from the shared app factory: HEAD, what a
validation error may echo, bodies that are not UTF-8, a generic readiness detail,
the shared field types, links that ignore the Host header, CORS for Swagger and
docs pages that need no internet."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from typing import Annotated, Any
from urllib.parse import urlsplit

import pytest
from fastapi import APIRouter, Depends, Request, Response
from fastapi.testclient import TestClient
from pydantic import StrictInt, ValidationError

from common.app import create_service_app
from common.paging import PageParams, page_params, set_next_link
from common.schemas import ApiInput, HttpUrlField, non_blank_text
from common.settings import Settings
from database import Database

router = APIRouter()
SECRET = "hunter2-secret-password"


class Login(ApiInput):
    email: str
    password: str


class Media(ApiInput):
    title: non_blank_text(100)  # type: ignore[valid-type]
    url: HttpUrlField
    cover: HttpUrlField | None = None
    seconds: StrictInt | None = None


@router.post("/login")
def login(body: Login) -> dict[str, str]:
    return {"email": body.email}


@router.post("/media")
def media(body: Media) -> Media:
    return body


@router.get("/items", summary="List items")
async def items(
    request: Request, response: Response, page: Annotated[PageParams, Depends(page_params)]
) -> list[int]:
    set_next_link(request, response, "NEXT")
    return list(range(page.limit))


@router.get("/items/{item_id}")
async def item(item_id: int) -> dict[str, int]:
    return {"id": item_id}


def make_client(settings: Settings, database: Database) -> TestClient:
    app = create_service_app(
        name="edge_service",
        title="t",
        description="d",
        settings=settings,
        routers=[router],
        database=database,
    )
    return TestClient(app, raise_server_exceptions=False)


@pytest.fixture
def client(settings: Settings, database: Database) -> Iterator[TestClient]:
    with make_client(settings, database) as test_client:
        yield test_client


# 6. HEAD -------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/health", "/items?limit=3", "/items/7", "/health/ready"])
def test_head_answers_like_get_without_a_body(client: TestClient, path: str) -> None:
    got = client.get(path)
    head = client.head(path)
    assert head.status_code == got.status_code == 200
    assert head.content == b""
    assert head.headers["content-type"] == got.headers["content-type"]
    assert head.headers.get("content-length") in (None, got.headers.get("content-length"))
    assert head.headers.get("link") == got.headers.get("link")


def test_head_of_an_unknown_path_or_a_post_route_is_not_200(client: TestClient) -> None:
    assert client.head("/no-such-path").status_code == 404
    refused = client.head("/login")
    assert refused.status_code == 405 and refused.content == b""


def test_openapi_documents_head_beside_every_get(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    operation_ids = [op["operationId"] for item in paths.values() for op in item.values()]
    assert len(operation_ids) == len(set(operation_ids))
    for path, item in paths.items():
        assert ("get" in item) == ("head" in item), path
        if "get" in item:
            head = item["head"]
            assert set(head["responses"]) == set(item["get"]["responses"]), path
            assert all("content" not in r for r in head["responses"].values()), path
            assert head.get("parameters") == item["get"].get("parameters"), path


# 7. Body-level validation errors echo nothing ------------------------------------


def test_a_form_encoded_login_is_refused_without_echoing_the_body(client: TestClient) -> None:
    body = f'{{"email": "a@example.com", "password": "{SECRET}"}}'
    response = client.post(
        "/login", content=body, headers={"Content-Type": "application/x-www-form-urlencoded"}
    )
    assert response.status_code == 422
    assert SECRET not in response.text
    assert SECRET.encode().hex() not in response.text
    assert [error["loc"] for error in response.json()["detail"]] == [["body"]]
    assert "input" not in response.json()["detail"][0]


@pytest.mark.parametrize(
    "body", [f'"{SECRET}"', f'["{SECRET}"]', f'[{{"password": "{SECRET}"}}]', "42"]
)
def test_a_body_that_is_not_an_object_is_not_echoed(client: TestClient, body: str) -> None:
    response = client.post("/login", content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 422
    assert SECRET not in response.text
    assert all("input" not in error for error in response.json()["detail"])


# 8. Bodies that are not UTF-8, or cannot be parsed at all: a documented 422 -------


@pytest.mark.parametrize(
    "body",
    [b'{"email": "\xff\xfe", "password": "x"}', b"\xff\xfe\x00garbage", b"[" * 50_000],
    ids=["invalid-utf8", "garbage", "too-deep"],
)
def test_an_unparsable_body_is_a_422_in_the_standard_form(client: TestClient, body: bytes) -> None:
    response = client.post("/login", content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 422, response.text
    errors = response.json()["detail"]
    assert isinstance(errors, list) and errors[0]["loc"][0] == "body"
    assert {"type", "loc", "msg"} <= set(errors[0])


# 9. Readiness says nothing about the driver --------------------------------------


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def test_readiness_detail_is_generic_and_the_reason_is_logged(settings: Settings) -> None:
    # Nothing listens on port 1: the server is "down".
    missing = Database("postgresql+psycopg://u:p@127.0.0.1:1/db", connect_timeout=1)
    app = create_service_app(
        name="t", title="t", description="d", settings=settings, routers=[], database=missing
    )
    # The app factory configures the root logger; this listens on the module's own.
    collected = _Collect()
    logging.getLogger("common.health").addHandler(collected)
    try:
        with TestClient(app) as client:
            response = client.get("/health/ready")
    finally:
        logging.getLogger("common.health").removeHandler(collected)
    assert response.status_code == 503
    assert response.json() == {"detail": "Database unavailable"}
    assert response.headers["Retry-After"] == "5"
    logged = "\n".join(collected.messages)
    assert "127.0.0.1" in logged and "readiness" in logged


# 10. Shared field types ----------------------------------------------------------

GOOD_URLS = [
    "https://cdn.example.com/a.mp3",
    "http://cdn.example.com:8080/a%20b",
    "HTTPS://CDN.EXAMPLE.COM/x?y=1#z",
    "/music/x.mp3",
    "https://cdn.example.com/🎵.mp3",
]
BAD_URLS = [
    "javascript:alert(1)",
    "JavaScript:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "vbscript:x",
    "file:///etc/passwd",
    "ftp://example.com/a.mp3",
    "//evil.example/a.mp3",
    "/\\evil.example/a.mp3",
    "https://",
    "https://cdn.example.com@evil.example/a.mp3",
    "https:///path",
    "http://[::1",
    "http://example.com:99999/",
    "https://cdn.example.com/a b.mp3",
    "https://cdn.example.com/\u202egnp.exe",
    " https://cdn.example.com/a.mp3",
    "music/x.mp3",
    "",
    "x" * 300,
]


@pytest.mark.parametrize("url", GOOD_URLS)
def test_http_urls_and_paths_are_accepted(url: str) -> None:
    assert Media(title="t", url=url, cover=url).url == url


@pytest.mark.parametrize("url", BAD_URLS)
def test_other_schemes_and_malformed_urls_are_refused(url: str) -> None:
    with pytest.raises(ValidationError):
        Media(title="t", url=url)
    with pytest.raises(ValidationError):
        Media(title="t", url="/ok", cover=url)


@pytest.mark.parametrize("title", ["", " ", "\t\n", "\u3000", "\u00a0 \u2003"])
def test_blank_text_is_refused(title: str) -> None:
    with pytest.raises(ValidationError):
        Media(title=title, url="/ok")


def test_text_keeps_its_spaces_and_its_length_cap() -> None:
    assert Media(title=" padded ", url="/ok").title == " padded "
    with pytest.raises(ValidationError, match="at most 100 characters"):
        Media(title="x" * 101, url="/ok")


@pytest.mark.parametrize("seconds", [True, False, "12", 12.0])
def test_integers_refuse_booleans_strings_and_floats(client: TestClient, seconds: Any) -> None:
    response = client.post("/media", json={"title": "t", "url": "/ok", "seconds": seconds})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "seconds"]


def test_the_field_rules_are_in_the_openapi_document(client: TestClient) -> None:
    fields = client.get("/openapi.json").json()["components"]["schemas"]["Media"]["properties"]
    assert fields["title"]["pattern"] == r"\S"
    assert fields["title"]["maxLength"] == 100
    assert re.match(fields["url"]["pattern"], "https://cdn.example.com/a.mp3")
    assert re.match(fields["url"]["pattern"], "/music/a.mp3")
    assert not re.match(fields["url"]["pattern"], "javascript:alert(1)")
    assert fields["url"]["maxLength"] == 255


# 11. Links and redirects never reflect the Host header ---------------------------


def test_the_next_link_ignores_the_host_header(client: TestClient) -> None:
    response = client.get("/items?limit=2&offset=4", headers={"Host": "evil.example"})
    link = response.headers["link"]
    assert "evil.example" not in link
    target = link[1 : link.index(">")]
    assert urlsplit(target).path == "/items"
    assert urlsplit(target).query == "limit=2&cursor=NEXT"
    assert link.endswith('; rel="next"')


def test_the_next_link_uses_the_configured_public_base_url(
    settings: Settings, database: Database
) -> None:
    public = settings.model_copy(update={"public_base_url": "https://music.example.com/api"})
    with make_client(public, database) as client:
        link = client.get("/items?limit=2", headers={"Host": "evil.example"}).headers["link"]
    assert link == '<https://music.example.com/api/items?limit=2&cursor=NEXT>; rel="next"'


def test_public_base_url_must_be_http_without_query() -> None:
    for bad in ("javascript:alert(1)", "https://x.example/?q=1", "ftp://x.example"):
        with pytest.raises(ValidationError):
            Settings(_env_file=None, public_base_url=bad)
    assert Settings(_env_file=None, public_base_url="https://x.example/").public_base_url == (
        "https://x.example"
    )


@pytest.mark.parametrize("path", ["/items/", "/health/", "/items/7/"])
def test_a_trailing_slash_is_not_redirected_to_the_host_header(
    client: TestClient, path: str
) -> None:
    response = client.get(path, headers={"Host": "evil.example"}, follow_redirects=False)
    assert response.status_code == 404
    assert "location" not in response.headers


# 15. CORS lets Swagger's token request through -----------------------------------


def test_the_swagger_token_preflight_is_allowed(client: TestClient) -> None:
    preflight = client.options(
        "/login",
        headers={
            "Origin": "http://frontend.test",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "x-requested-with,content-type,accept,authorization",
        },
    )
    assert preflight.status_code == 200, preflight.text
    assert preflight.headers["access-control-allow-origin"] == "http://frontend.test"
    allowed = preflight.headers["access-control-allow-headers"].lower()
    assert "x-requested-with" in allowed


# 16. Docs pages work without internet --------------------------------------------

EXTERNAL = re.compile(r"(?:https?:)?//[A-Za-z0-9.-]+", re.IGNORECASE)


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_docs_pages_load_every_asset_from_the_service(client: TestClient, page: str) -> None:
    response = client.get(page)
    assert response.status_code == 200
    html = response.text
    assert EXTERNAL.findall(html) == [], "the page names another host"
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert any(asset.endswith(".js") for asset in assets)
    for asset in assets:
        fetched = client.get(asset)
        assert fetched.status_code == 200, asset
        assert len(fetched.content) > 1000, asset
    assert "fonts.googleapis" not in html


def test_docs_assets_are_an_allow_list(client: TestClient) -> None:
    assert client.get("/docs/assets/swagger-ui.css").headers["content-type"].startswith("text/css")
    head = client.head("/docs/assets/redoc.standalone.js")
    assert (head.status_code, head.content) == (200, b"")
    for name in ("../../common/settings.py", "nothing.js", "%2e%2e%2fREADME.md"):
        assert client.get(f"/docs/assets/{name}").status_code == 404, name
    assert client.post("/docs").status_code == 405


def test_docs_assets_follow_the_gateway_prefix(client: TestClient) -> None:
    html = client.get("/docs", headers={"X-Forwarded-Prefix": "/docs/songs"}).text
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert assets and all(asset.startswith("/docs/songs/") for asset in assets)
    assert "'/docs/songs/openapi.json'" in html
