"""The playlist methods in-process: every edit is song_service's, the reads the
facade's; the rules are song_service's (owner edits, private ones hidden)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any

from subsonic_service.tests.conftest import Library

NS = "{http://subsonic.org/restapi}"
PLAYLIST_KEYS = {
    "id", "name", "owner", "public", "songCount", "duration", "created", "changed", "readonly",
}  # fmt: skip


def so(library: Library, *titles: str) -> list[str]:
    return [f"so-{library.song_ids[title]}" for title in titles]


def create(library: Library, user: str, name: str, *titles: str) -> dict[str, Any]:
    return library.ok("createPlaylist", user, name=name, songId=so(library, *titles))["playlist"]


def entry_ids(library: Library, user: str, playlist_id: str) -> list[str]:
    playlist = library.ok("getPlaylist", user, id=playlist_id)["playlist"]
    return [entry["id"] for entry in playlist.get("entry", [])]


def test_create_read_and_list(library: Library) -> None:
    user = library.new_user()
    made = create(library, user, "Road Trip", "Something", "Dancing Queen", "Something")
    assert set(made) >= PLAYLIST_KEYS and made["id"].startswith("pl-")
    assert (made["name"], made["owner"], made["public"], made["readonly"]) == (
        "Road Trip", user, False, False,
    )  # fmt: skip
    assert (made["songCount"], made["duration"]) == (3, 6)  # three two-second songs
    assert made["coverArt"] == made["id"]
    assert made["created"].endswith("Z") and made["changed"].endswith("Z")
    assert [entry["id"] for entry in made["entry"]] == so(
        library, "Something", "Dancing Queen", "Something"
    )
    # Each entry is the song's Child, as getSong shows it.
    song = library.ok("getSong", user, id=made["entry"][1]["id"])["song"]
    assert made["entry"][1] == song
    got = library.ok("getPlaylist", user, id=made["id"])["playlist"]
    assert got == made
    listed = library.ok("getPlaylists", user)["playlists"]["playlist"]
    mine = [p for p in listed if p["id"] == made["id"]]
    assert mine == [{key: value for key, value in made.items() if key != "entry"}]
    # An empty playlist: no entries, no cover.
    empty = library.ok("createPlaylist", user, name="Empty")["playlist"]
    assert (empty["songCount"], empty["duration"], empty.get("entry", [])) == (0, 0, [])
    assert "coverArt" not in empty


def test_xml_says_what_json_says(library: Library) -> None:
    user = library.new_user()
    made = create(library, user, "Ärzte & Co <live>", "Unrockbar", "Je veux")
    response = library.get("getPlaylist", user, id=made["id"])
    assert response.headers["content-type"].startswith("text/xml")
    root = ET.fromstring(response.content)  # noqa: S314 - our own answer, in a test
    assert root.tag == f"{NS}subsonic-response" and root.get("status") == "ok"
    element = root.find(f"{NS}playlist")
    assert element is not None
    scalars = {k: v for k, v in made.items() if k != "entry"}
    expected = {k: str(v).lower() if isinstance(v, bool) else str(v) for k, v in scalars.items()}
    assert element.attrib == expected
    entries = element.findall(f"{NS}entry")
    assert [entry.get("id") for entry in entries] == [entry["id"] for entry in made["entry"]]
    assert [entry.get("title") for entry in entries] == ["Unrockbar", "Je veux"]


def test_update_renames_comments_publishes_adds_and_removes(library: Library) -> None:
    user, other = library.new_user(), library.new_user()
    made = create(
        library, user, "Mix", "Come Together", "Something", "Her Majesty", "Dancing Queen",
        "Waterloo",
    )  # fmt: skip
    pl = made["id"]
    # Positions are those before the call; several go in one song_service request,
    # then the additions are appended.
    library.ok(
        "updatePlaylist", user, playlistId=pl, name="Best of", comment="for the road",
        public="true", songIndexToRemove=["3", "0", "1"], songIdToAdd=so(library, "Je veux"),
    )  # fmt: skip
    got = library.ok("getPlaylist", user, id=pl)["playlist"]
    assert (got["name"], got["comment"], got["public"]) == ("Best of", "for the road", True)
    assert [e["id"] for e in got["entry"]] == so(library, "Her Majesty", "Waterloo", "Je veux")
    assert got["songCount"] == 3 and got["changed"] >= made["changed"]
    # Public now: another user lists and reads it, read-only for them.
    theirs = library.ok("getPlaylists", other)["playlists"]["playlist"]
    shown = [p for p in theirs if p["id"] == pl]
    assert len(shown) == 1 and shown[0]["readonly"] is True
    # An empty comment clears it; public=false hides it again.
    library.ok("updatePlaylist", user, playlistId=pl, comment="", public="false")
    got = library.ok("getPlaylist", user, id=pl)["playlist"]
    assert "comment" not in got and got["public"] is False
    assert library.json("getPlaylist", other, id=pl)["error"]["code"] == 70
    # createPlaylist with playlistId replaces the entries and renames.
    replaced = library.ok(
        "createPlaylist", user, playlistId=pl, name="Two", songId=so(library, "Unrockbar") * 2
    )["playlist"]
    assert replaced["name"] == "Two" and replaced["id"] == pl
    assert [e["id"] for e in replaced["entry"]] == so(library, "Unrockbar") * 2
    emptied = library.ok("createPlaylist", user, playlistId=pl)["playlist"]
    assert emptied["songCount"] == 0 and emptied["name"] == "Two"


def test_a_bad_edit_changes_nothing(library: Library) -> None:
    user = library.new_user()
    pl = create(library, user, "Keep", "Something", "Waterloo")["id"]
    before = library.ok("getPlaylist", user, id=pl)["playlist"]
    cases = [
        ({"songIdToAdd": ["so-999999"], "name": "x"}, 70),
        ({"songIdToAdd": ["al-1"]}, 70),
        ({"songIndexToRemove": ["0", "2"], "name": "x"}, 0),  # only 0 and 1 exist
        ({"songIndexToRemove": ["-1"]}, 0),
        ({"songIndexToRemove": ["0"], "name": "x" * 101}, 0),  # song_service: too long
        ({"public": "perhaps"}, 0),
    ]
    for params, code in cases:
        body = library.json("updatePlaylist", user, playlistId=pl, **params)
        assert body["status"] == "failed" and body["error"]["code"] == code, (params, body)
    assert library.ok("getPlaylist", user, id=pl)["playlist"] == before
    # createPlaylist over an existing playlist: a name song_service refuses leaves
    # the entries as they were (the rename is tried first).
    replaced = library.json(
        "createPlaylist", user, playlistId=pl, name="x" * 101, songId=so(library, "Je veux")
    )
    assert replaced["error"]["code"] == 0
    assert library.ok("getPlaylist", user, id=pl)["playlist"] == before
    assert (
        library.json("createPlaylist", user, name="New", songId=["so-999999"])["error"]["code"]
        == 70
    )
    assert (
        library.json("createPlaylist", user, songId=so(library, "Something"))["error"]["code"] == 10
    )
    listed = library.ok("getPlaylists", user)["playlists"]["playlist"]
    assert [p["name"] for p in listed if p["owner"] == user] == ["Keep"]


def test_others_private_playlists_are_hidden_and_others_public_ones_read_only(
    library: Library,
) -> None:
    """Another user's private playlist is error 70 for every method (it is not
    revealed); their public one is readable and error 50 to edit or delete."""
    owner, other = library.new_user(), library.new_user()
    private = create(library, owner, "Secret", "Something")["id"]
    public = create(library, owner, "Shared", "Something")["id"]
    library.ok("updatePlaylist", owner, playlistId=public, public="true")
    edits = [
        ("updatePlaylist", {"name": "mine"}),
        ("updatePlaylist", {"songIdToAdd": so(library, "Waterloo")}),
        ("updatePlaylist", {"songIndexToRemove": ["0"]}),
        ("createPlaylist", {"songId": so(library, "Waterloo")}),
    ]
    for method, params in edits:
        hidden = library.json(method, other, playlistId=private, **params)
        assert hidden["error"]["code"] == 70, (method, params, hidden)
        seen = library.json(method, other, playlistId=public, **params)
        assert seen["error"]["code"] == 50, (method, params, seen)
    assert library.json("getPlaylist", other, id=private)["error"]["code"] == 70
    assert library.json("deletePlaylist", other, id=private)["error"]["code"] == 70
    assert library.json("deletePlaylist", other, id=public)["error"]["code"] == 50
    assert library.ok("getPlaylist", other, id=public)["playlist"]["readonly"] is True
    listed = {p["id"] for p in library.ok("getPlaylists", other)["playlists"]["playlist"]}
    assert public in listed and private not in listed
    for pl in (private, public):
        got = library.ok("getPlaylist", owner, id=pl)["playlist"]
        assert got["name"] in ("Secret", "Shared") and got["songCount"] == 1
    # An admin reads any playlist and lists for another user; a user may not. An
    # admin edits no one else's playlist (50), but may delete any.
    assert (
        library.json("updatePlaylist", "admin", playlistId=private, name="x")["error"]["code"] == 50
    )
    assert library.ok("getPlaylist", "admin", id=private)["playlist"]["name"] == "Secret"
    for_owner = library.ok("getPlaylists", "admin", username=owner)["playlists"]["playlist"]
    assert {private, public} <= {p["id"] for p in for_owner}
    assert library.json("getPlaylists", other, username=owner)["error"]["code"] == 50
    assert library.json("getPlaylists", other, username="nobody-at-all")["error"]["code"] == 50
    assert library.json("getPlaylists", "admin", username="nobody-at-all")["error"]["code"] == 70
    assert library.ok("getPlaylists", owner, username=owner.upper())["playlists"]["playlist"]


def test_delete(library: Library) -> None:
    user = library.new_user()
    pl = create(library, user, "Gone soon", "Something")["id"]
    library.ok("deletePlaylist", user, id=pl)
    assert library.json("getPlaylist", user, id=pl)["error"]["code"] == 70
    assert library.json("deletePlaylist", user, id=pl)["error"]["code"] == 70
    listed = library.ok("getPlaylists", user)["playlists"]["playlist"]
    assert [p for p in listed if p["owner"] == user] == []
    # The caller's own come first, then others' public ones.
    mine = create(library, user, "Mine")["id"]
    listed = library.ok("getPlaylists", user)["playlists"]["playlist"]
    assert listed[0]["id"] == mine and len(listed) > 1
    assert all(p["public"] and p["owner"] != user for p in listed[1:])
    theirs = create(library, library.new_user(), "Not yours", "Something")["id"]
    library.ok("deletePlaylist", "admin", id=theirs)  # an admin deletes any
    assert library.json("getPlaylist", "admin", id=theirs)["error"]["code"] == 70
    for bad in ("banana", "so-1", "pl-0"):
        assert library.json("getPlaylist", user, id=bad)["error"]["code"] == 70
        assert library.json("deletePlaylist", user, id=bad)["error"]["code"] == 70
    assert library.json("getPlaylist", user)["error"]["code"] == 10
