"""Playlists over HTTP on a real (SQLite) database: who may see and change what,
validation, paging, and entries staying 0..n-1 through every edit."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from conftest import hold_role
from database import Database
from database.memory import MemoryDatabase
from database.types import utcnow
from song_service.repos.memory import InMemorySongUnitOfWork
from song_service.services.playlists import PlaylistService
from song_service.services.songs import SongService
from song_service.tests.conftest import song

AuthHeader = Callable[..., dict[str, str]]
PLAYLIST_FIELDS = {
    "id", "name", "description", "public", "owner", "song_count", "duration", "cover",
    "created_at", "updated_at",
}  # fmt: skip
ADMIN, OWNER, OTHER = 1, 2, 3


@pytest.fixture(params=["sql", "memory"])
def api(request: pytest.FixtureRequest, sql_client: TestClient, database: Database) -> TestClient:
    """The app on SQLite, or with both its services on the in-memory fakes (tokens
    are still checked against SQLite's users, as in production)."""
    for user_id in (OWNER, OTHER):
        hold_role(database, user_id, "user")
    if request.param == "memory":
        memory_db = MemoryDatabase()
        now = utcnow()
        for user_id in (ADMIN, OWNER, OTHER):
            memory_db.users[user_id] = {"id": user_id, "username": f"minted{user_id}",
                                        "created_at": now, "updated_at": now}  # fmt: skip
        units = functools.partial(InMemorySongUnitOfWork, memory_db)
        sql_client.app.state.service = SongService(units)
        sql_client.app.state.playlists = PlaylistService(units)
    return sql_client


@pytest.fixture
def as_user(auth_header: AuthHeader) -> Callable[[int], dict[str, str]]:
    return lambda user_id: auth_header(user_id, "admin" if user_id == ADMIN else "user")


def add_song(api: TestClient, auth_header: AuthHeader, **fields: Any) -> int:
    response = api.post("/songs", json=song(**fields), headers=auth_header(ADMIN, "admin"))
    assert response.status_code == 201, response.text
    return response.json()["id"]


def create(api: TestClient, headers: dict[str, str], **body: Any) -> dict[str, Any]:
    response = api.post("/playlists", json={"name": "Mix", **body}, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


def entries(api: TestClient, playlist_id: int, headers: dict[str, str]) -> list[int]:
    """The song ids in order, after checking the positions are 0..n-1."""
    response = api.get(f"/playlists/{playlist_id}/songs?limit=200", headers=headers)
    assert response.status_code == 200, response.text
    rows = response.json()
    assert [row["position"] for row in rows] == list(range(len(rows)))
    return [row["id"] for row in rows]


def follow(api: TestClient, url: str, headers: dict[str, str]) -> tuple[list[dict], int]:
    """Every item over the Link headers, and how many pages it took."""
    items: list[dict] = []
    pages = 0
    next_url: str | None = url
    while next_url:
        response = api.get(next_url, headers=headers)
        assert response.status_code == 200, response.text
        items += response.json()
        pages += 1
        link = response.headers.get("Link")
        next_url = link[1 : link.index(">")] if link else None
    return items, pages


def test_create_read_and_figures(api: TestClient, auth_header: AuthHeader, as_user) -> None:
    first = add_song(api, auth_header, duration=100)
    second = add_song(api, auth_header, cover_image_url="/c.jpg")  # no duration: 0
    created = create(
        api, as_user(OWNER), name="Road Trip", description="d", song_ids=[first, second, first],
        id=999, owner={"id": OTHER}, song_count=50,
    )  # fmt: skip
    assert set(created) == PLAYLIST_FIELDS
    assert created["id"] != 999 and created["owner"] == {"id": OWNER, "username": f"minted{OWNER}"}
    assert (created["song_count"], created["duration"], created["cover"]) == (3, 200, "/c.jpg")
    assert (created["name"], created["description"], created["public"]) == ("Road Trip", "d", False)
    got = api.get(f"/playlists/{created['id']}", headers=as_user(OWNER))
    assert got.status_code == 200 and got.json() == created
    listed = api.get(f"/playlists/{created['id']}/songs", headers=as_user(OWNER)).json()
    assert [(row["position"], row["id"]) for row in listed] == [(0, first), (1, second), (2, first)]
    # Each entry is the song as GET /songs/{id} shows it to the caller, plus its position.
    shown = api.get(f"/songs/{first}", headers=as_user(OWNER)).json()
    assert {k: v for k, v in listed[0].items() if k != "position"} == shown


def test_a_private_playlist_is_invisible_to_others(
    api: TestClient, auth_header: AuthHeader, as_user
) -> None:
    song_id = add_song(api, auth_header)
    playlist = create(api, as_user(OWNER), song_ids=[song_id])
    url, other = f"/playlists/{playlist['id']}", as_user(OTHER)
    attempts = [
        ("GET", url, None), ("GET", f"{url}/songs", None), ("PATCH", url, {"name": "x"}),
        ("DELETE", url, None), ("POST", f"{url}/songs", {"song_ids": [song_id]}),
        ("PUT", f"{url}/songs", {"song_ids": []}),
        ("POST", f"{url}/songs/move", {"from": 0, "to": 0}), ("DELETE", f"{url}/songs/0", None),
    ]  # fmt: skip
    for method, path, body in attempts:
        response = api.request(method, path, json=body, headers=other)
        assert response.status_code == 404, (method, path, response.text)
        assert response.json() == {"detail": "Playlist not found"}
    # ...exactly as a playlist that does not exist.
    assert api.get("/playlists/987654", headers=other).json() == {"detail": "Playlist not found"}
    assert playlist["id"] not in [p["id"] for p in api.get("/playlists", headers=other).json()]
    assert entries(api, playlist["id"], as_user(OWNER)) == [song_id]


def test_a_public_playlist_is_readable_but_only_its_owner_changes_it(
    api: TestClient, auth_header: AuthHeader, as_user
) -> None:
    song_id = add_song(api, auth_header)
    playlist = create(api, as_user(OWNER), public=True, song_ids=[song_id])
    url, other = f"/playlists/{playlist['id']}", as_user(OTHER)
    assert api.get(url, headers=other).json() == playlist
    assert entries(api, playlist["id"], other) == [song_id]
    assert playlist["id"] in [p["id"] for p in api.get("/playlists", headers=other).json()]
    assert api.get("/playlists?owner=me", headers=other).json() == []
    attempts = [
        ("PATCH", url, {"name": "x"}), ("DELETE", url, None),
        ("POST", f"{url}/songs", {"song_ids": [song_id]}),
        ("PUT", f"{url}/songs", {"song_ids": []}),
        ("POST", f"{url}/songs/move", {"from": 0, "to": 0}), ("DELETE", f"{url}/songs/0", None),
    ]  # fmt: skip
    for method, path, body in attempts:
        response = api.request(method, path, json=body, headers=other)
        assert response.status_code == 403, (method, path, response.text)
    assert api.get(url, headers=other).json() == playlist  # nothing changed


def test_admins_read_and_delete_any_but_do_not_edit(
    api: TestClient, auth_header: AuthHeader, as_user
) -> None:
    playlist = create(api, as_user(OWNER))
    url, admin = f"/playlists/{playlist['id']}", as_user(ADMIN)
    assert api.get(url, headers=admin).status_code == 200
    assert api.get(f"{url}/songs", headers=admin).status_code == 200
    assert api.patch(url, json={"name": "mine"}, headers=admin).status_code == 403
    assert api.delete(url, headers=admin).status_code == 204
    assert api.get(url, headers=as_user(OWNER)).status_code == 404
    assert api.delete(url, headers=admin).status_code == 404


def test_owner_updates_and_deletes(api: TestClient, as_user) -> None:
    owner = as_user(OWNER)
    playlist = create(api, owner, description="old")
    url = f"/playlists/{playlist['id']}"
    patched = api.patch(url, json={"name": "New Name", "public": True}, headers=owner)
    assert patched.status_code == 200, patched.text
    body = patched.json()
    assert (body["name"], body["public"], body["description"]) == ("New Name", True, "old")
    assert api.patch(url, json={"description": None}, headers=owner).json()["description"] is None
    assert api.get("/playlists?q=new", headers=owner).json()[0]["id"] == playlist["id"]
    assert api.delete(url, headers=owner).status_code == 204
    assert api.get(url, headers=owner).status_code == 404


def test_entry_edits_keep_positions_contiguous(
    api: TestClient, auth_header: AuthHeader, as_user
) -> None:
    owner = as_user(OWNER)
    a, b, c, d = (add_song(api, auth_header, duration=10) for _ in range(4))
    playlist_id = create(api, owner, song_ids=[a, b])["id"]
    url = f"/playlists/{playlist_id}/songs"
    added = api.post(url, json={"song_ids": [c, d], "position": 1}, headers=owner)
    assert added.status_code == 200, added.text
    assert (added.json()["song_count"], added.json()["duration"]) == (4, 40)
    assert entries(api, playlist_id, owner) == [a, c, d, b]
    assert api.post(url, json={"song_ids": [a]}, headers=owner).json()["song_count"] == 5
    assert entries(api, playlist_id, owner) == [a, c, d, b, a]
    moved = api.post(f"{url}/move", json={"from": 0, "to": 3}, headers=owner)
    assert moved.status_code == 200, moved.text
    assert entries(api, playlist_id, owner) == [c, d, b, a, a]
    assert api.post(f"{url}/move", json={"from": 4, "to": 0}, headers=owner).status_code == 200
    assert entries(api, playlist_id, owner) == [a, c, d, b, a]
    assert api.delete(f"{url}/1", headers=owner).status_code == 204
    assert entries(api, playlist_id, owner) == [a, d, b, a]
    assert api.delete(f"{url}/4", headers=owner).status_code == 404
    replaced = api.put(url, json={"song_ids": [d, d]}, headers=owner)
    assert replaced.status_code == 200 and replaced.json()["song_count"] == 2
    assert entries(api, playlist_id, owner) == [d, d]
    assert api.put(url, json={"song_ids": []}, headers=owner).json()["song_count"] == 0


def test_deleting_a_song_closes_the_gaps(api: TestClient, auth_header: AuthHeader, as_user) -> None:
    owner = as_user(OWNER)
    a, b, c = (add_song(api, auth_header) for _ in range(3))
    playlist_id = create(api, owner, song_ids=[a, b, c, b, a])["id"]
    assert api.delete(f"/songs/{b}", headers=auth_header(ADMIN, "admin")).status_code == 200
    assert entries(api, playlist_id, owner) == [a, c, a]
    assert api.get(f"/playlists/{playlist_id}", headers=owner).json()["song_count"] == 3


def test_unknown_songs_are_404_and_change_nothing(
    api: TestClient, auth_header: AuthHeader, as_user
) -> None:
    owner = as_user(OWNER)
    song_id = add_song(api, auth_header)
    response = api.post(
        "/playlists", json={"name": "x", "song_ids": [song_id, 99999]}, headers=owner
    )
    assert response.status_code == 404 and "99999" in response.json()["detail"]
    assert api.get("/playlists?owner=me", headers=owner).json() == []
    playlist_id = create(api, owner, song_ids=[song_id])["id"]
    url = f"/playlists/{playlist_id}/songs"
    assert api.post(url, json={"song_ids": [99999]}, headers=owner).status_code == 404
    assert api.put(url, json={"song_ids": [99999]}, headers=owner).status_code == 404
    assert entries(api, playlist_id, owner) == [song_id]


@pytest.mark.parametrize(
    "body",
    [
        {}, {"name": ""}, {"name": "   "}, {"name": "x" * 101}, {"name": None},
        {"name": "ok", "description": "x" * 501}, {"name": "ok", "public": "yes"},
        {"name": "ok", "public": 1}, {"name": "ok", "song_ids": "1"},
        {"name": "ok", "song_ids": [0]},
        {"name": "ok", "song_ids": [True]}, {"name": "ok", "song_ids": [2**63]},
        {"name": "ok", "song_ids": [1] * 501}, {"name": "a\x00b"},
    ],
)  # fmt: skip
def test_invalid_playlists_are_422(api: TestClient, as_user, body: dict[str, Any]) -> None:
    assert api.post("/playlists", json=body, headers=as_user(OWNER)).status_code == 422


def test_invalid_entry_edits_are_422(api: TestClient, auth_header: AuthHeader, as_user) -> None:
    owner = as_user(OWNER)
    song_id = add_song(api, auth_header)
    playlist_id = create(api, owner, song_ids=[song_id, song_id])["id"]
    url = f"/playlists/{playlist_id}"
    bad = [
        ("PATCH", url, {"name": None}), ("PATCH", url, {"public": None}),
        ("PATCH", url, {"name": ""}),
        ("POST", f"{url}/songs", {"song_ids": []}), ("POST", f"{url}/songs", {}),
        ("POST", f"{url}/songs", {"song_ids": [song_id], "position": -1}),
        ("POST", f"{url}/songs", {"song_ids": [song_id], "position": 3}),
        ("PUT", f"{url}/songs", {}), ("PUT", f"{url}/songs", {"song_ids": [song_id] * 501}),
        ("POST", f"{url}/songs/move", {"from": 2, "to": 0}),
        ("POST", f"{url}/songs/move", {"from": 0, "to": 2}),
        ("POST", f"{url}/songs/move", {"from": -1, "to": 0}),
        ("POST", f"{url}/songs/move", {"to": 0}),
        ("DELETE", f"{url}/songs/-1", None), ("DELETE", f"{url}/songs/{2**31}", None),
        ("GET", "/playlists/0", None), ("GET", f"/playlists/{2**63}", None),
        ("GET", "/playlists?owner=you", None), ("GET", "/playlists?limit=201", None),
        ("GET", "/playlists?cursor=@@", None), ("GET", "/playlists?q=" + "x" * 101, None),
    ]  # fmt: skip
    for method, path, body in bad:
        response = api.request(method, path, json=body, headers=owner)
        assert response.status_code == 422, (method, path, body, response.text)
    position = api.post(f"{url}/songs", json={"song_ids": [song_id], "position": 3}, headers=owner)
    assert position.json()["detail"][0]["loc"] == ["body", "position"]
    assert entries(api, playlist_id, owner) == [song_id, song_id]
    # At the end exactly is an insert, not an error.
    appended = api.post(f"{url}/songs", json={"song_ids": [song_id], "position": 2}, headers=owner)
    assert appended.status_code == 200


def test_paging_follows_link_headers(api: TestClient, auth_header: AuthHeader, as_user) -> None:
    owner, other = as_user(OWNER), as_user(OTHER)
    mine = [create(api, owner, name=f"Mine {i}")["id"] for i in range(3)]
    theirs = [create(api, other, name=f"Theirs {i}", public=i % 2 == 0)["id"] for i in range(4)]
    seen, pages = follow(api, "/playlists?limit=2", owner)
    assert [p["id"] for p in seen] == sorted(mine + theirs[0::2]) and pages == 3
    seen, _ = follow(api, "/playlists?limit=1&owner=me&q=mine", owner)
    assert [p["id"] for p in seen] == mine
    assert [p["id"] for p in api.get("/playlists?offset=4", headers=owner).json()] == [theirs[2]]
    song_ids = [add_song(api, auth_header) for _ in range(5)]
    playlist_id = create(api, owner, song_ids=song_ids)["id"]
    rows, pages = follow(api, f"/playlists/{playlist_id}/songs?limit=2", owner)
    assert [(r["position"], r["id"]) for r in rows] == list(enumerate(song_ids)) and pages == 3
    # A cursor names its order: the list's cursor does not page the entries.
    link = api.get("/playlists?limit=1", headers=owner).headers["Link"]
    cursor = link[link.index("cursor=") + 7 : link.index(">")]
    wrong = api.get(f"/playlists/{playlist_id}/songs?cursor={cursor}", headers=owner)
    assert wrong.status_code == 422


def test_tokens_are_required_and_a_deleted_account_cannot_create(api: TestClient, as_user) -> None:
    assert api.get("/playlists").status_code == 401
    assert api.post("/playlists", json={"name": "x"}).status_code == 401
    # A valid token of an account that no longer exists (no users row).
    response = api.post("/playlists", json={"name": "x"}, headers=as_user(4242))
    assert response.status_code == 401


def test_several_entries_go_in_one_request(
    api: TestClient, auth_header: AuthHeader, as_user
) -> None:
    """POST /playlists/{id}/songs/remove: positions as they were before the request,
    in any order, a repeat counted once; the rest close up in order."""
    owner = as_user(OWNER)
    a, b, c, d = (add_song(api, auth_header, duration=10) for _ in range(4))
    playlist_id = create(api, owner, song_ids=[a, b, c, d, a, b])["id"]
    url = f"/playlists/{playlist_id}/songs/remove"
    removed = api.post(url, json={"positions": [4, 1, 4, 3]}, headers=owner)
    assert removed.status_code == 200, removed.text
    body = removed.json()
    assert set(body) == PLAYLIST_FIELDS
    assert (body["song_count"], body["duration"]) == (3, 30)
    assert entries(api, playlist_id, owner) == [a, c, b]
    assert api.get(f"/playlists/{playlist_id}", headers=owner).json() == body
    assert api.post(url, json={"positions": [0, 1, 2]}, headers=owner).json()["song_count"] == 0
    assert entries(api, playlist_id, owner) == []


def test_removing_several_entries_is_all_or_nothing_and_owner_only(
    api: TestClient, auth_header: AuthHeader, as_user
) -> None:
    owner, other = as_user(OWNER), as_user(OTHER)
    song_id = add_song(api, auth_header)
    private = create(api, owner, song_ids=[song_id, song_id])["id"]
    public = create(api, owner, public=True, song_ids=[song_id, song_id])["id"]
    # A position past the end: 422 naming the field, and the good ones stay too.
    beyond = api.post(
        f"/playlists/{private}/songs/remove", json={"positions": [0, 2]}, headers=owner
    )
    assert beyond.status_code == 422 and beyond.json()["detail"][0]["loc"] == ["body", "positions"]
    assert entries(api, private, owner) == [song_id, song_id]
    for body in (
        {}, {"positions": []}, {"positions": [-1]}, {"positions": [2**31]},
        {"positions": [True]}, {"positions": "0"}, {"positions": [0] * 501},
    ):  # fmt: skip
        response = api.post(f"/playlists/{private}/songs/remove", json=body, headers=owner)
        assert response.status_code == 422, (body, response.text)
    # Another user: 404 for a private playlist (not revealed), 403 for a public one.
    hidden = api.post(f"/playlists/{private}/songs/remove", json={"positions": [0]}, headers=other)
    assert hidden.status_code == 404 and hidden.json() == {"detail": "Playlist not found"}
    seen = api.post(f"/playlists/{public}/songs/remove", json={"positions": [0]}, headers=other)
    assert seen.status_code == 403
    admin = api.post(
        f"/playlists/{public}/songs/remove", json={"positions": [0]}, headers=as_user(ADMIN)
    )
    assert admin.status_code == 403
    assert entries(api, public, owner) == [song_id, song_id]
    assert api.post(f"/playlists/{public}/songs/remove", json={"positions": [0]}).status_code == 401
    missing = api.post("/playlists/987654/songs/remove", json={"positions": [0]}, headers=owner)
    assert missing.status_code == 404
