"""The protocol every method shares, raw over HTTP (what a client library hides):
formats, paths, GET and form POST, repeated parameters, the envelope of errors,
HEAD, and the credential schemes' error codes."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from typing import Any

import pytest

from subsonic_service.tests.conftest import Library

NS = "{http://subsonic.org/restapi}"


def _xml(text: str) -> ET.Element:
    root = ET.fromstring(text)  # noqa: S314 - the answer of our own server
    assert root.tag == f"{NS}subsonic-response"
    return root


def _as_json(element: ET.Element) -> dict[str, Any]:
    """An XML element in the JSON form's terms: attributes typed back, repeated
    children as lists (a one-child list stays a list when JSON has a list)."""
    out: dict[str, Any] = {key: _typed(value) for key, value in element.attrib.items()}
    if element.text and element.text.strip():
        out["value"] = element.text
    for child in element:
        out.setdefault(child.tag.removeprefix(NS), []).append(_as_json(child))
    return out


def _typed(value: str) -> Any:
    if value in ("true", "false"):
        return value == "true"
    try:
        return int(value)
    except ValueError:
        return value


def _lists_to_match(json_value: Any, xml_value: Any) -> Any:
    """The XML form shaped like the JSON one: a single child is a list in XML
    parsing but an object in JSON where JSON has an object."""
    if isinstance(json_value, dict) and isinstance(xml_value, list) and len(xml_value) == 1:
        xml_value = xml_value[0]
    if isinstance(json_value, dict) and isinstance(xml_value, dict):
        return {key: _lists_to_match(json_value.get(key), item) for key, item in xml_value.items()}
    if isinstance(json_value, list) and isinstance(xml_value, list):
        return [_lists_to_match(j, x) for j, x in zip(json_value, xml_value, strict=False)]
    if isinstance(json_value, list) and not isinstance(xml_value, list):
        return [xml_value]
    return xml_value


def same_in_xml_and_json(library: Library, method: str, **params: Any) -> dict[str, Any]:
    """Call `method` in both formats and assert they say the same; the JSON form."""
    as_json = library.get(method, f="json", **params).json()["subsonic-response"]
    response = library.get(method, **params)
    assert response.headers["content-type"].startswith("text/xml")
    as_xml = _lists_to_match(as_json, _as_json(_xml(response.text)))
    assert as_xml == as_json
    return as_json


def test_xml_is_the_default_and_says_what_json_says(library: Library) -> None:
    body = same_in_xml_and_json(library, "getMusicFolders")
    assert body["status"] == "ok" and body["openSubsonic"] is True


def test_errors_are_envelopes_with_http_200_in_both_formats(library: Library) -> None:
    for format in ("xml", "json"):
        response = library.get("getUser", f=format)  # no username
        assert response.status_code == 200
        if format == "json":
            error = response.json()["subsonic-response"]["error"]
        else:
            root = _xml(response.text)
            assert root.attrib["status"] == "failed"
            error = _as_json(root)["error"][0]
        assert error["code"] == 10
        assert "username" in error["message"]


def test_jsonp_wraps_the_json_in_the_callback(library: Library) -> None:
    response = library.get("ping", f="jsonp", callback="handle.it")
    assert response.headers["content-type"].startswith("text/javascript")
    text = response.text
    assert text.startswith("handle.it(") and text.endswith(");")
    assert json.loads(text[len("handle.it(") : -2])["subsonic-response"]["status"] == "ok"


@pytest.mark.parametrize("callback", [None, "alert(1)//", "a b"])
def test_jsonp_without_a_usable_callback_is_an_error_in_json(
    library: Library, callback: str | None
) -> None:
    params = {"callback": callback} if callback else {}
    response = library.get("ping", f="jsonp", **params)
    body = response.json()["subsonic-response"]
    assert body["error"]["code"] == (10 if callback is None else 0)
    assert "alert" not in response.text


def test_view_suffix_and_bare_paths_answer_alike(library: Library) -> None:
    token = library.token()
    for path in ("/rest/getLicense", "/rest/getLicense.view", "/rest/getlicense"):
        body = library.client.get(path, params={"f": "json", "jwt": token}).json()
        assert body["subsonic-response"]["license"] == {"valid": True}


def test_form_post_takes_the_parameters_from_the_body(library: Library) -> None:
    form = {"f": "json", "jwt": library.token(), "username": "alice", "c": "test", "v": "1.16.1"}
    response = library.client.post("/rest/getUser.view", data=form)
    assert response.json()["subsonic-response"]["user"]["username"] == "alice"


def test_unknown_method_is_an_envelope_404(library: Library) -> None:
    response = library.get("getPodcasts", f="json")
    assert response.status_code == 404
    assert response.json()["subsonic-response"]["error"]["code"] == 0


def test_head_sends_headers_without_a_body(library: Library) -> None:
    response = library.client.head("/rest/ping", params={"jwt": library.token()})
    assert response.status_code == 200
    assert response.content == b""
    assert int(response.headers["content-length"]) > 0


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({}, 10),  # no credentials at all
        ({"u": "alice"}, 10),  # neither p nor t+s
        ({"u": "alice", "t": "abc"}, 10),  # t without s
        ({"apiKey": "k", "u": "alice"}, 43),
        ({"apiKey": "k", "jwt": "j"}, 43),
        ({"u": "alice", "p": "x", "t": "y", "s": "z"}, 43),
        ({"jwt": "not-a-token"}, 40),
    ],
)
def test_credential_errors(library: Library, params: dict[str, str], code: int) -> None:
    response = library.client.get("/rest/ping", params={"f": "json", **params})
    assert response.status_code == 200
    assert response.json()["subsonic-response"]["error"]["code"] == code


def test_password_schemes_switched_off_answer_41_and_42(library: Library) -> None:
    app = library.client.app
    settings = app.state.settings
    app.state.settings = settings.model_copy(
        update={"subsonic_password_auth": False, "subsonic_help_url": "https://help.test/keys"}
    )
    try:
        token = library.client.get(
            "/rest/ping", params={"f": "json", "u": "alice", "t": "a", "s": "b"}
        ).json()["subsonic-response"]["error"]
        password = library.client.get(
            "/rest/ping", params={"f": "json", "u": "alice", "p": "secret"}
        ).json()["subsonic-response"]["error"]
    finally:
        app.state.settings = settings
    assert token["code"] == 41 and token["helpUrl"] == "https://help.test/keys"
    assert password["code"] == 42


def test_each_call_logs_its_client_and_version_but_no_credential(
    library: Library, caplog: pytest.LogCaptureFixture
) -> None:
    token = library.token()
    with caplog.at_level("INFO", logger="subsonic_service.calls"):
        library.client.get(
            "/rest/ping.view", params={"jwt": token, "c": "DSub\nforged", "v": "1.16.1"}
        )
    lines = [record.getMessage() for record in caplog.records if record.name.endswith("calls")]
    alice = library.users["alice"]
    assert lines == [f"subsonic ping client='DSub\\nforged' version='1.16.1' user={alice} ok"]
    assert token not in caplog.text


def test_repeated_parameters_and_booleans_in_any_case(library: Library) -> None:
    """`id` repeated is a list; `true` in any case is true."""
    username = library.new_user()
    songs = [f"so-{library.song_ids[title]}" for title in ("Something", "Waterloo")]
    library.ok("star", username, id=songs)
    starred = library.ok("getStarred2", username)["starred2"]
    assert {song["id"] for song in starred["song"]} == set(songs)
    library.ok("createPlaylist", username, name="Case", songId=songs)
    playlist = library.ok("getPlaylists", username)["playlists"]["playlist"][0]
    library.ok("updatePlaylist", username, playlistId=playlist["id"], public="TRUE")
    assert library.ok("getPlaylist", username, id=playlist["id"])["playlist"]["public"] is True
    refused = library.json("updatePlaylist", username, playlistId=playlist["id"], public="yes")
    assert refused["error"]["code"] == 0 and "public" in refused["error"]["message"]


def test_a_long_form_post_is_read_and_a_too_long_one_is_an_envelope(library: Library) -> None:
    """formPost exists for long id lists: 1,500 entries in one createPlaylist;
    beyond the form's field limit the answer is still an envelope."""
    username = library.new_user()
    song = f"so-{library.song_ids['Something']}"
    form = {"jwt": library.token(username), "f": "json", "name": "Long"}
    response = library.client.post(
        "/rest/createPlaylist.VIEW", data={**form, "songId": [song] * 1500}
    )
    assert response.json()["subsonic-response"]["playlist"]["songCount"] == 1500
    # An unreadable form's own `f` is unknown: the answer's format comes from the query.
    too_many = library.client.post("/rest/ping.view?f=json", data={**form, "x": ["1"] * 10_001})
    assert too_many.status_code == 200
    error = too_many.json()["subsonic-response"]["error"]
    assert error["code"] == 0 and "form" in error["message"]
