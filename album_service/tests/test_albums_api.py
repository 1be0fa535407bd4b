from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, get_args

import pytest
from fastapi.testclient import TestClient

from album_service.repos.base import SORTABLE
from album_service.schemas import AlbumSort
from common.paging import encode_cursor, keyset_cursor
from database.keyset import Sort

AuthHeader = Callable[..., dict[str, str]]
ALBUM_FIELDS = {
    "id",
    "title",
    "artist",
    "artist_id",
    "release_date",
    "genre",
    "description",
    "cover_image_url",
    "created_at",
    "updated_at",
    "song_count",
    "duration",
    "like_count",
    "liked_by_me",
}


def anonymous(album: dict[str, Any]) -> dict[str, Any]:
    """An album as a caller without a token sees it: liked_by_me is null."""
    return album | {"liked_by_me": None}


def create(client: TestClient, admin: dict[str, str], title: str = "abbey road", **extra: Any):
    body = {"title": title, "artist": "the beatles", "genre": "rock", **extra}
    response = client.post("/albums", json=body, headers=admin)
    assert response.status_code == 201, response.text
    return response.json()


def follow(client: TestClient, url: str, headers: dict[str, str] | None = None) -> list[dict]:
    """Every item of every page, walking the Link headers to the end."""
    items: list[dict] = []
    next_url: str | None = url
    while next_url:
        response = client.get(next_url, headers=headers)
        assert response.status_code == 200, response.text
        items += response.json()
        link = response.headers.get("Link")
        assert link is None or link.endswith('>; rel="next"')
        next_url = link[1 : link.index(">")] if link else None
    return items


@pytest.fixture
def admin(auth_header: AuthHeader) -> dict[str, str]:
    return auth_header(1, "admin")


def test_every_sort_value_is_a_sortable_column() -> None:
    assert {Sort.parse(value).field for value in get_args(AlbumSort)} == set(SORTABLE)
    assert len(get_args(AlbumSort)) == 2 * len(SORTABLE)


def test_create_returns_the_album_and_ignores_server_fields(
    client: TestClient, admin: dict[str, str]
) -> None:
    cover = "/covers/c.jpg"
    album = create(client, admin, id=4242, created_at="2000-01-01T00:00:00Z", cover_image_url=cover)
    assert set(album) == ALBUM_FIELDS
    assert album["id"] != 4242
    assert album["created_at"].endswith("Z") and not album["created_at"].startswith("2000")
    assert (album["description"], album["cover_image_url"]) == (None, cover)


def test_list_is_public(client: TestClient, admin: dict[str, str]) -> None:
    album = create(client, admin)
    response = client.get("/albums")
    assert response.status_code == 200
    assert response.json() == [anonymous(album)]
    assert "Link" not in response.headers


def test_reading_one_album_needs_a_token(
    client: TestClient, admin: dict[str, str], auth_header: AuthHeader
) -> None:
    album = create(client, admin)
    response = client.get(f"/albums/{album['id']}")
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert client.get(f"/albums/{album['id']}", headers=auth_header(7)).json() == album
    assert client.get("/albums/1", headers={"Authorization": "Bearer nope"}).status_code == 401


def test_missing_album_is_404(client: TestClient, auth_header: AuthHeader) -> None:
    response = client.get("/albums/12345", headers=auth_header())
    assert response.status_code == 404
    assert response.json() == {"detail": "Album not found"}


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/albums", {"title": "t", "artist": "a", "genre": "g"}),
        ("PUT", "/albums/{id}", {"title": "t"}),
        ("PATCH", "/albums/{id}", {"title": "t"}),
        ("DELETE", "/albums/{id}", None),
    ],
)
def test_writes_are_for_admins_only(
    client: TestClient,
    admin: dict[str, str],
    auth_header: AuthHeader,
    method: str,
    path: str,
    body: dict | None,
) -> None:
    album = create(client, admin)
    url = path.format(id=album["id"])
    assert client.request(method, url, json=body).status_code == 401
    response = client.request(method, url, json=body, headers=auth_header(7))
    assert response.status_code == 403
    assert response.json() == {"detail": "Admin role required"}
    assert client.get(f"/albums/{album['id']}", headers=admin).json() == album


@pytest.mark.parametrize("method", ["PUT", "PATCH"])
def test_partial_update(client: TestClient, admin: dict[str, str], method: str) -> None:
    album = create(client, admin, description="old")
    response = client.request(
        method, f"/albums/{album['id']}", json={"title": "let it be", "id": 9}, headers=admin
    )
    assert response.status_code == 200
    updated = response.json()
    assert (updated["id"], updated["title"], updated["description"]) == (
        album["id"],
        "let it be",
        "old",
    )
    assert updated["created_at"] == album["created_at"]
    assert updated["updated_at"] >= album["updated_at"]


def test_update_of_missing_album_is_404(client: TestClient, admin: dict[str, str]) -> None:
    assert client.patch("/albums/999", json={"title": "x"}, headers=admin).status_code == 404


@pytest.mark.parametrize(
    "body",
    [
        {"title": "", "artist": "a", "genre": "g"},
        {"title": "x" * 101, "artist": "a", "genre": "g"},
        {"title": "t", "artist": "x" * 101, "genre": "g"},
        {"title": "t", "artist": "a", "genre": "x" * 51},
        {"title": "t", "artist": "a", "genre": "g", "description": "x" * 501},
        {"title": "t", "artist": "a", "genre": "g", "cover_image_url": "x" * 256},
        {"title": "t", "artist": "a"},
        {"title": None, "artist": "a", "genre": "g"},
    ],
)
def test_invalid_album_is_422(client: TestClient, admin: dict[str, str], body: dict) -> None:
    response = client.post("/albums", json=body, headers=admin)
    assert response.status_code == 422
    assert isinstance(response.json()["detail"], list)


@pytest.mark.parametrize(
    "body", [{"title": None}, {"artist": None}, {"genre": None}, {"title": "x" * 101}]
)
def test_invalid_update_is_422(client: TestClient, admin: dict[str, str], body: dict) -> None:
    album = create(client, admin)
    assert client.patch(f"/albums/{album['id']}", json=body, headers=admin).status_code == 422


@pytest.mark.parametrize("album_id", ["0", "-1", str(2**63), "99999999999999999999999", "abc"])
def test_out_of_range_ids_are_422(client: TestClient, admin: dict[str, str], album_id: str) -> None:
    assert client.get(f"/albums/{album_id}", headers=admin).status_code == 422
    assert client.delete(f"/albums/{album_id}", headers=admin).status_code == 422
    assert client.get(f"/albums/{album_id}/songs", headers=admin).status_code == 422


def test_delete(client: TestClient, admin: dict[str, str]) -> None:
    album = create(client, admin)
    response = client.delete(f"/albums/{album['id']}", headers=admin)
    assert response.status_code == 200
    assert response.json() == {"detail": "Album deleted successfully"}
    assert client.get(f"/albums/{album['id']}", headers=admin).status_code == 404
    assert client.delete(f"/albums/{album['id']}", headers=admin).status_code == 404


@pytest.mark.parametrize(
    "query",
    [
        "limit=201",
        "limit=0",
        "offset=-1",
        "sort=name",
        "sort=--id",
        "sort=password",
        "cursor=%%%",
        "cursor=W10",
        "cursor=" + "a" * 513,
        "q=" + "x" * 101,
        "genre=" + "x" * 51,
        "artist=" + "x" * 101,
    ],
)
def test_bad_list_queries_are_422(client: TestClient, query: str) -> None:
    assert client.get(f"/albums?{query}").status_code == 422


@pytest.mark.parametrize(
    "cursor",
    [
        keyset_cursor(Sort("title"), "abc", 1),  # from another sort
        keyset_cursor(Sort("id", descending=True), 1, 1),
        encode_cursor({"sort": "id", "value": 1}),  # no id
        encode_cursor({"sort": "id", "value": 1, "id": -1}),
        encode_cursor({"sort": "id", "value": "one", "id": 1}),
        encode_cursor({"sort": "id", "value": True, "id": 1}),
    ],
)
def test_cursors_that_do_not_fit_the_sort_are_422(client: TestClient, cursor: str) -> None:
    response = client.get("/albums", params={"cursor": cursor})
    assert response.status_code == 422
    # FastAPI's standard list form, like every other validation error.
    [error] = response.json()["detail"]
    assert error["loc"] == ["query", "cursor"]
    assert error["msg"].startswith("Invalid cursor")


def test_created_at_cursor_without_offset_is_422(client: TestClient) -> None:
    cursor = keyset_cursor(Sort("created_at"), "2026-01-01T00:00:00", 1)
    assert client.get("/albums", params={"sort": "created_at", "cursor": cursor}).status_code == 422


# Ties on purpose (repeated titles, artists and genres) so the id must break them.
CATALOGUE = [
    ("help", "the beatles", "rock"),
    ("abbey road", "the beatles", "rock"),
    ("blue", "joni mitchell", "folk"),
    ("help", "the beatles", "pop"),
    ("court and spark", "joni mitchell", "folk"),
    ("kind of blue", "miles davis", "jazz"),
    ("blue train", "john coltrane", "jazz"),
    ("abbey road", "tribute band", "rock"),
    ("hejira", "joni mitchell", "folk"),
    ("giant steps", "john coltrane", "jazz"),
    ("revolver", "the beatles", "rock"),
]


def expected_order(albums: list[dict], sort: str) -> list[int]:
    order = Sort.parse(sort)

    def key(album: dict) -> tuple[Any, int]:
        value = album[order.field]
        # Timestamps compare as instants: their JSON text may omit a zero fraction.
        if order.field == "created_at":
            value = datetime.fromisoformat(value)
        return value, album["id"]

    return [a["id"] for a in sorted(albums, key=key, reverse=order.descending)]


@pytest.mark.parametrize("sort", list(get_args(AlbumSort)))
def test_link_headers_walk_every_sort_without_loss_or_repetition(
    client: TestClient, admin: dict[str, str], sort: str
) -> None:
    albums = [create(client, admin, t, artist=a, genre=g) for t, a, g in CATALOGUE]
    seen = follow(client, f"/albums?limit=3&sort={sort}")
    assert [a["id"] for a in seen] == expected_order(albums, sort)


@pytest.mark.parametrize(
    ("query", "matches"),
    [
        ("genre=folk", lambda a: a["genre"] == "folk"),
        ("artist=the%20beatles", lambda a: a["artist"] == "the beatles"),
        ("q=BLUE", lambda a: "blue" in a["title"]),
        ("q=john", lambda a: "john" in a["artist"]),
        ("q=road&artist=tribute%20band", lambda a: a["artist"] == "tribute band"),
        ("genre=rock&q=beatles", lambda a: a["genre"] == "rock" and "beatles" in a["artist"]),
        ("genre=metal", lambda a: False),
    ],
)
def test_filters_page_through_link_headers(
    client: TestClient, admin: dict[str, str], query: str, matches: Callable[[dict], bool]
) -> None:
    albums = [create(client, admin, t, artist=a, genre=g) for t, a, g in CATALOGUE]
    wanted = [a for a in albums if matches(a)]
    seen = follow(client, f"/albums?limit=2&sort=-title&{query}")
    assert [a["id"] for a in seen] == expected_order(wanted, "-title")


def test_offset_skips_rows_and_the_next_link_drops_it(
    client: TestClient, admin: dict[str, str]
) -> None:
    ids = [create(client, admin, f"album {i}")["id"] for i in range(6)]
    response = client.get("/albums?limit=2&offset=1")
    assert [a["id"] for a in response.json()] == ids[1:3]
    assert "offset" not in response.headers["Link"]
    assert [a["id"] for a in follow(client, "/albums?limit=2&offset=1")] == ids[1:]


@pytest.mark.parametrize(
    ("q", "titles"),
    [
        ("100%", ["100% pure", "1000 pure"]),  # ranked: title prefix, then the word "100"
        ("1%0", []),  # "%" is no wildcard
        ("a_b", ["a_b side"]),  # nor "_": "axb" is one word
        ("%", []),
        ("_", []),
    ],
)
def test_search_wildcards_match_literally(
    client: TestClient, admin: dict[str, str], q: str, titles: list[str]
) -> None:
    for title in ("100% pure", "1000 pure", "a_b side", "axb side"):
        create(client, admin, title, artist="zz")  # no artist word to match instead
    found = client.get("/albums", params={"q": q}).json()
    assert [a["title"] for a in found] == titles


def test_sql_backed_crud_paging_and_search(sql_client: TestClient, admin: dict[str, str]) -> None:
    albums = [create(sql_client, admin, t, artist=a, genre=g) for t, a, g in CATALOGUE]
    for sort in ("title", "-artist", "-created_at", "genre"):
        seen = follow(sql_client, f"/albums?limit=4&sort={sort}")
        assert [a["id"] for a in seen] == expected_order(albums, sort)
    folk = follow(sql_client, "/albums?limit=1&genre=folk&sort=-title")
    assert [a["title"] for a in folk] == ["hejira", "court and spark", "blue"]
    percent = create(sql_client, admin, "100% pure")
    create(sql_client, admin, "1000 pure")
    assert sql_client.get("/albums", params={"q": "100% p"}).json()[0] == anonymous(percent)
    album_id = albums[0]["id"]
    patched = sql_client.patch(f"/albums/{album_id}", json={"genre": "pop"}, headers=admin)
    assert patched.json()["genre"] == "pop"
    assert sql_client.get(f"/albums/{album_id}", headers=admin).json() == patched.json()
    assert sql_client.delete(f"/albums/{album_id}", headers=admin).status_code == 200
    assert sql_client.get(f"/albums/{album_id}", headers=admin).status_code == 404
