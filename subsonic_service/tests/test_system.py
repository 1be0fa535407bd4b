"""ping, getLicense, getOpenSubsonicExtensions, getMusicFolders, getUser in-process."""

from __future__ import annotations

from subsonic_service.tests.conftest import Library


def test_ping_answers_the_opensubsonic_envelope(library: Library) -> None:
    body = library.ok("ping")
    assert body["version"] == "1.16.1"
    assert body["type"] == "MusicPlayer"
    assert body["openSubsonic"] is True
    assert body["serverVersion"]


def test_extensions_need_no_credentials_and_name_only_what_works(library: Library) -> None:
    body = library.ok("getOpenSubsonicExtensions", user=None)
    names = {extension["name"] for extension in body["openSubsonicExtensions"]}
    assert names == {"apiKeyAuthentication", "formPost"}


def test_the_one_music_folder(library: Library) -> None:
    body = library.ok("getMusicFolders")
    assert body["musicFolders"] == {"musicFolder": [{"id": 1, "name": "Music"}]}


def test_get_user_own_and_others(library: Library) -> None:
    own = library.ok("getUser", username="ALICE")["user"]
    assert own["username"] == "alice" and own["adminRole"] is False
    refused = library.json("getUser", username="bob")
    assert refused["error"]["code"] == 50
    as_admin = library.ok("getUser", "admin", username="bob")["user"]
    assert as_admin["username"] == "bob"
    missing = library.json("getUser", "admin", username="nobody")
    assert missing["error"]["code"] == 70


def test_license_is_valid(library: Library) -> None:
    assert library.ok("getLicense")["license"] == {"valid": True}
