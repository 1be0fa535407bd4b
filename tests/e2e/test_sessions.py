"""Sessions over real HTTP (API.md, "Sessions (round 2)"): what ends a user's refresh
tokens, the reuse grace window, and admin rights that follow the current role."""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import jwt
import pytest

from tests.e2e.clients import (
    Account,
    admin_headers,
    bearer,
    client,
    expect,
    log_in,
    refresh,
    sign_up,
)
from tests.e2e.fleet import Fleet

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def http() -> Iterator[httpx.Client]:
    with client() as own:
        yield own


@pytest.fixture(scope="module")
def admin(http: httpx.Client, fleet: Fleet) -> dict[str, str]:
    return admin_headers(http, fleet)


def devices(http: httpx.Client, fleet: Fleet, account: Account, count: int = 2) -> list[Any]:
    """`count` separate logins of one account, as from that many devices."""
    return [log_in(http, fleet, account.email, account.password) for _ in range(count)]


def refresh_statuses(http: httpx.Client, fleet: Fleet, sessions: list[Any]) -> list[int]:
    return [refresh(http, fleet, s["refresh_token"]).status_code for s in sessions]


def test_logout_all_ends_every_session_of_the_caller(http: httpx.Client, fleet: Fleet) -> None:
    account, bystander = sign_up(http, fleet), sign_up(http, fleet)
    phone, laptop = devices(http, fleet, account)
    other = log_in(http, fleet, bystander.email, bystander.password)

    expect(http.post(f"{fleet.auth}/auth/logout-all", headers=bearer(phone["auth_token"])), 204)
    expect(http.post(f"{fleet.auth}/auth/logout-all"), 401)
    assert refresh_statuses(http, fleet, [phone, laptop]) == [401, 401]
    assert refresh_statuses(http, fleet, [other]) == [200]  # someone else's session lives


def test_changing_your_password_ends_your_other_sessions(http: httpx.Client, fleet: Fleet) -> None:
    account = sign_up(http, fleet)
    phone, laptop = devices(http, fleet, account)
    new_password = f"new-{uuid.uuid4().hex}"
    expect(
        http.patch(
            f"{fleet.user}/users/{account.id}",
            json={"password": new_password, "current_password": account.password},
            headers=bearer(phone["auth_token"]),
        ),
        200,
    )
    # The phone's own session may be kept (API.md); the laptop's must end.
    assert refresh_statuses(http, fleet, [laptop]) == [401]
    log_in(http, fleet, account.email, new_password)


def test_an_admin_resetting_a_password_ends_every_session_of_that_user(
    http: httpx.Client, fleet: Fleet, admin: dict[str, str]
) -> None:
    account = sign_up(http, fleet)
    sessions = devices(http, fleet, account)
    new_password = f"reset-{uuid.uuid4().hex}"
    expect(
        http.patch(
            f"{fleet.user}/users/{account.id}", json={"password": new_password}, headers=admin
        ),
        200,
    )
    assert refresh_statuses(http, fleet, sessions) == [401, 401]


def test_an_admin_changing_an_email_ends_every_session_of_that_user(
    http: httpx.Client, fleet: Fleet, admin: dict[str, str]
) -> None:
    account = sign_up(http, fleet)
    sessions = devices(http, fleet, account)
    new_email = f"moved-{uuid.uuid4().hex[:12]}@example.com"
    expect(
        http.patch(f"{fleet.user}/users/{account.id}", json={"email": new_email}, headers=admin),
        200,
    )
    assert refresh_statuses(http, fleet, sessions) == [401, 401]


def test_changing_your_email_ends_your_other_sessions(http: httpx.Client, fleet: Fleet) -> None:
    account = sign_up(http, fleet)
    phone, laptop = devices(http, fleet, account)
    new_email = f"moved-{uuid.uuid4().hex[:12]}@example.com"
    expect(
        http.patch(
            f"{fleet.user}/users/{account.id}",
            json={"email": new_email, "current_password": account.password},
            headers=bearer(phone["auth_token"]),
        ),
        200,
    )
    assert refresh_statuses(http, fleet, [laptop]) == [401]


def test_a_role_change_ends_every_session_of_that_user(
    http: httpx.Client, fleet: Fleet, admin: dict[str, str]
) -> None:
    account = sign_up(http, fleet)
    profile = f"{fleet.user}/users/{account.id}"
    as_user = devices(http, fleet, account)
    assert [s["role"] for s in as_user] == ["user", "user"]
    expect(http.patch(profile, json={"role": "admin"}, headers=admin), 200)
    assert refresh_statuses(http, fleet, as_user) == [401, 401], "after the promotion"

    as_admin = devices(http, fleet, account)
    assert [s["role"] for s in as_admin] == ["admin", "admin"]
    expect(http.patch(profile, json={"role": "user"}, headers=admin), 200)
    assert refresh_statuses(http, fleet, as_admin) == [401, 401], "after the demotion"


def test_deleting_a_user_ends_every_session_of_that_user(
    http: httpx.Client, fleet: Fleet, admin: dict[str, str]
) -> None:
    by_admin, by_self = sign_up(http, fleet), sign_up(http, fleet)
    first = devices(http, fleet, by_admin)
    second = devices(http, fleet, by_self)
    expect(http.delete(f"{fleet.user}/users/{by_admin.id}", headers=admin), 200)
    expect(
        http.delete(f"{fleet.user}/users/{by_self.id}", headers=bearer(second[0]["auth_token"])),
        200,
    )
    assert refresh_statuses(http, fleet, first + second) == [401] * 4


def test_a_rotated_token_presented_again_within_the_grace_window_is_a_retry(
    http: httpx.Client, fleet: Fleet
) -> None:
    account = sign_up(http, fleet)
    original = log_in(http, fleet, account.email, account.password)["refresh_token"]
    first = expect(refresh(http, fleet, original), 200)
    # A lost response, retried at once: a valid new pair, and nothing revoked.
    retry = expect(refresh(http, fleet, original), 200)
    assert retry["user_id"] == account.id
    expect(http.get(f"{fleet.user}/users/me", headers=bearer(retry["auth_token"])), 200)
    assert refresh(http, fleet, first["refresh_token"]).status_code == 200, "first successor"
    assert refresh(http, fleet, retry["refresh_token"]).status_code == 200, "retry's successor"


def test_a_rotated_token_presented_after_the_grace_window_revokes_the_chain(
    http: httpx.Client, fleet: Fleet
) -> None:
    account = sign_up(http, fleet)
    original = log_in(http, fleet, account.email, account.password)["refresh_token"]
    successor = expect(refresh(http, fleet, original), 200)["refresh_token"]
    time.sleep(fleet.refresh_reuse_grace_seconds + 1.5)
    assert refresh(http, fleet, original).status_code == 401
    assert refresh(http, fleet, successor).status_code == 401, "the chain is revoked"


def template(path: str) -> str:
    return re.sub(r"\{[^}]*\}", "{}", path)


def test_a_demoted_admins_token_cannot_act_as_admin_anywhere(
    http: httpx.Client, fleet: Fleet, admin: dict[str, str]
) -> None:
    bob, carol = sign_up(http, fleet), sign_up(http, fleet)
    expect(http.patch(f"{fleet.user}/users/{bob.id}", json={"role": "admin"}, headers=admin), 200)
    session = log_in(http, fleet, bob.email, bob.password)
    assert session["role"] == "admin"
    claims = jwt.decode(session["auth_token"], options={"verify_signature": False})
    assert claims["role"] == "admin"
    expect(http.patch(f"{fleet.user}/users/{bob.id}", json={"role": "user"}, headers=admin), 200)
    as_bob = bearer(session["auth_token"])
    # Still a valid token: bob is a signed-in user, just no longer an admin.
    me = expect(http.get(f"{fleet.user}/users/me", headers=as_bob), 200)
    assert me["role"] == "user"

    tag = uuid.uuid4().hex[:8]
    album = {"title": f"Kept {tag}", "artist": "Admin", "genre": "kept"}
    song = {
        "title": f"Kept {tag}",
        "artist": "Admin",
        "genre": "kept",
        "file_url": "https://e.com/k",
    }
    album_id = expect(http.post(f"{fleet.album}/albums", json=album, headers=admin), 201)["id"]
    song_id = expect(http.post(f"{fleet.song}/songs", json=song, headers=admin), 201)["id"]
    linked_id = expect(http.post(f"{fleet.song}/songs", json=song, headers=admin), 201)["id"]
    expect(http.put(f"{fleet.album}/albums/{album_id}/songs/{linked_id}", headers=admin), 200)

    ids = {"album": album_id, "song": song_id, "linked": linked_id}
    ids |= {"carol": carol.id, "bob": bob.id, "email": carol.email}
    # (service, method, path, body); destructive ones last, so a wrongly allowed one
    # cannot turn a later check into a 404.
    operations: list[tuple[str, str, str, Any]] = [
        ("album", "POST", "/albums", album),
        ("album", "PUT", "/albums/{album}", {"title": "Taken"}),
        ("album", "PATCH", "/albums/{album}", {"title": "Taken"}),
        ("album", "PUT", "/albums/{album}/songs/{song}", None),
        ("song", "POST", "/songs", song),
        ("song", "PUT", "/songs/{song}", {"title": "Taken"}),
        ("song", "PATCH", "/songs/{song}", {"title": "Taken"}),
        ("user", "GET", "/users/email/{email}", None),
        ("user", "PATCH", "/users/{carol}", {"role": "admin"}),
        ("user", "PUT", "/users/{carol}", {"role": "admin"}),
        ("user", "PATCH", "/users/{bob}", {"role": "admin"}),
        ("user", "PATCH", "/users/{carol}", {"first_name": "Mallory"}),
        ("album", "DELETE", "/albums/{album}/songs/{linked}", None),
        ("song", "DELETE", "/songs/{song}", None),
        ("album", "DELETE", "/albums/{album}", None),
        ("user", "DELETE", "/users/{carol}", None),
    ]
    # Every operation named here is one the service documents.
    documented = {
        service: {
            (method.upper(), template(path))
            for path, item in expect(http.get(f"{fleet.urls[service]}/openapi.json"), 200)[
                "paths"
            ].items()
            for method in item
        }
        for service in ("album", "song", "user")
    }
    for service, method, path, _ in operations:
        assert (method, template(path)) in documented[service], (service, method, path)

    allowed = []
    for service, method, path, body in operations:
        url = fleet.urls[service] + path.format(**ids)
        response = http.request(method, url, json=body, headers=as_bob)
        if response.status_code != 403:
            allowed.append(f"{method} {path} -> {response.status_code}")
    assert allowed == []

    # Reading users, bob sees public profiles of others, as any user does.
    other = expect(http.get(f"{fleet.user}/users/{carol.id}", headers=as_bob), 200)
    assert "email" not in other
    listed = expect(http.get(f"{fleet.user}/users?limit=200", headers=as_bob), 200)
    assert [u["id"] for u in listed if u["id"] != bob.id and "email" in u] == []
    # And nothing was changed.
    assert expect(http.get(f"{fleet.user}/users/{carol.id}", headers=admin), 200)["role"] == "user"
    assert expect(http.get(f"{fleet.user}/users/{bob.id}", headers=admin), 200)["role"] == "user"
    kept = expect(http.get(f"{fleet.album}/albums/{album_id}", headers=admin), 200)
    assert kept["title"] == album["title"]
