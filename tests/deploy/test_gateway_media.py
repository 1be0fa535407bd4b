"""Audio through the gateway: song_service checks access and answers
X-Accel-Redirect; Debian's nginx, with gateway/nginx.conf as compose runs it, sends
the file from its internal /_media/ location over the media volumes, Range and
conditional requests included. The stack is test_gateway_smoke's (compose's own
commands, volumes as temporary folders)."""

from __future__ import annotations

import hashlib
import re
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine, insert

from database.tables import media_files
from database.types import utcnow
from media.streaming import ACCEL_CACHE_SECONDS
from song_service.tests.test_stream_api import multipart_parts, write_wav
from tests.deploy.compose import (
    COMPOSE_FILE,
    DOCKERFILE,
    ENV_EXAMPLE,
    GATEWAY_CONF,
    load_compose,
    mounts,
    read_env_file,
)
from tests.deploy.test_gateway_smoke import http, login, ok, stack

pytestmark = pytest.mark.e2e
__all__ = ["http", "stack"]  # the smoke test's fixtures, used here

# A name that must be percent-encoded on its way to nginx: a space, "?", "%", "#"
# and letters outside ASCII.
RELATIVE = "Ä Band/1?2%3 #.wav"


def add_media(project: Path, song_id: int, relative: str) -> bytes:
    """Write a real WAV into the `library` volume and record it for `song_id`, as a
    scan would."""
    path = project / "volumes" / "library" / relative
    data = write_wav(path, seconds=3.0)
    now = utcnow()
    engine = create_engine(f"sqlite:///{project / 'musicplayer.db'}")
    try:
        with engine.begin() as connection:
            connection.execute(
                insert(media_files).values(
                    song_id=song_id, root="library", path=relative, size=len(data),
                    mtime_ns=path.stat().st_mtime_ns, checksum=hashlib.sha256(data).hexdigest(),
                    content_type="audio/wav", suffix="wav", bitrate=128, sample_rate=8000,
                    channels=1, duration_ms=3000, embedded_cover=False, created_at=now,
                    updated_at=now,
                )
            )  # fmt: skip
    finally:
        engine.dispose()
    return data


@pytest.fixture(scope="module")
def song(stack: dict[str, str], http: httpx.Client) -> Iterator[dict[str, Any]]:
    admin = login(http, stack["ADMIN_EMAIL"], stack["ADMIN_PASSWORD"])
    unique = uuid.uuid4().hex[:8]
    email, password = f"listener.{unique}@example.com", f"pw-{unique}-long"
    body = {"username": f"l_{unique}", "email": email, "password": password, "first_name": "L"}
    ok(http.post("/users", json=body), 201)
    created = ok(
        http.post(
            "/songs",
            json={"title": "Tone", "artist": "Ä Band", "genre": "test",
                  "file_url": "https://cdn.example.com/tone.wav"},
            headers=admin,
        ),
        201,
    )  # fmt: skip
    data = add_media(Path(stack["PROJECT_DIR"]), created["id"], RELATIVE)
    yield {"id": created["id"], "data": data, "user": login(http, email, password)}


def test_nginx_streams_ranges_through_x_accel_redirect(
    http: httpx.Client, song: dict[str, Any]
) -> None:
    url, user, data = f"/songs/{song['id']}/stream", song["user"], song["data"]
    size = len(data)

    whole = http.get(url, headers=user)
    assert whole.status_code == 200
    assert whole.content == data
    # Kept from the service's answer: the type and the caching rule.
    assert whole.headers["content-type"] == "audio/wav"
    assert whole.headers["cache-control"] == "private, no-cache"
    assert "x-accel-redirect" not in whole.headers  # nginx consumes it
    assert whole.headers["accept-ranges"] == "bytes"
    assert whole.headers["content-length"] == str(size)
    # nginx's own validators (the service's ETag does not survive the redirect).
    etag, modified = whole.headers["etag"], whole.headers["last-modified"]
    assert etag.startswith('"') and not etag.startswith("W/")

    for header, (start, end) in {
        "bytes=100-1099": (100, 1100),
        "bytes=0-1": (0, 2),
        "bytes=-500": (size - 500, size),
        "bytes=1000-": (1000, size),
        f"bytes={size - 1}-": (size - 1, size),
    }.items():
        part = http.get(url, headers={**user, "Range": header})
        assert part.status_code == 206, header
        assert part.content == data[start:end], header
        assert part.headers["content-range"] == f"bytes {start}-{end - 1}/{size}", header
        assert part.headers["content-type"] == "audio/wav"

    multi = http.get(url, headers={**user, "Range": "bytes=0-9, 2000-2099"})
    assert multi.status_code == 206
    assert multipart_parts(multi) == [
        (f"bytes 0-9/{size}", data[:10]),
        (f"bytes 2000-2099/{size}", data[2000:2100]),
    ]

    beyond = http.get(url, headers={**user, "Range": f"bytes={size}-"})
    assert beyond.status_code == 416
    assert beyond.headers["content-range"] == f"bytes */{size}"

    head = http.head(url, headers=user)
    assert head.status_code == 200
    assert head.content == b""
    assert head.headers["content-length"] == str(size)
    assert head.headers["content-type"] == "audio/wav"
    assert head.headers["etag"] == etag

    for conditional in ({"If-None-Match": etag}, {"If-Modified-Since": modified}):
        not_modified = http.get(url, headers={**user, **conditional})
        assert not_modified.status_code == 304, conditional
        assert not_modified.content == b""
    stale = http.get(url, headers={**user, "Range": "bytes=0-9", "If-Range": '"stale"'})
    assert stale.status_code == 200
    assert stale.content == data


def test_access_is_checked_by_the_service(http: httpx.Client, song: dict[str, Any]) -> None:
    url = f"/songs/{song['id']}/stream"
    assert http.get(url).status_code == 401
    # The internal location is not reachable from outside.
    assert http.get("/_media/library/" + RELATIVE.replace(" ", "%20")).status_code == 404
    assert http.get("/_media/media/x.wav").status_code == 404

    signed = ok(http.post(f"/songs/{song['id']}/stream-url", headers=song["user"]))
    played = http.get(signed["url"], headers={"Range": "bytes=10-19"})  # no Authorization
    assert played.status_code == 206
    assert played.content == song["data"][10:20]
    download = http.get(f"/songs/{song['id']}/download", headers=song["user"])
    assert download.status_code == 200
    assert download.content == song["data"]
    assert download.headers["content-disposition"] == (
        "attachment; filename=\"_ Band - Tone.wav\"; filename*=UTF-8''%C3%84%20Band%20-%20Tone.wav"
    )


def test_media_volumes_are_shared_as_the_gateway_needs() -> None:
    """Static: who mounts the media volumes how, and that the X-Accel-Redirect prefix
    song_service and subsonic_service are given names the gateway's internal
    locations over the same folders (read without a stack)."""
    services = load_compose([COMPOSE_FILE], read_env_file(ENV_EXAMPLE))["services"]
    table = {name: {m.source: m for m in mounts(service)} for name, service in services.items()}
    # Only song_service writes uploads; the gateway, album_service and
    # subsonic_service read them.
    writers = [name for name, m in table.items() if "media" in m and not m["media"].read_only]
    assert writers == ["song_service"]
    for name in ("gateway", "album_service", "subsonic_service"):
        assert table[name]["media"].read_only and table[name]["library"].read_only
    assert all(m["library"].read_only for m in table.values() if "library" in m)
    # The stream URL key: written by the keys job, read by song_service.
    assert not table["keys"]["stream-url-key"].read_only
    assert table["song_service"]["stream-url-key"].read_only
    assert [n for n, m in table.items() if "stream-url-key" in m] == ["keys", "song_service"]

    conf = GATEWAY_CONF.read_text()
    for name in ("song_service", "subsonic_service"):
        env = services[name]["environment"]
        prefix = env["MEDIA_ACCEL_REDIRECT"]
        for root, folder in (("media", env["MEDIA_DIR"]), ("library", env["LIBRARY_DIR"])):
            # The path the service names is the path nginx opens.
            assert table[name][root].target == folder == table["gateway"][root].target, name
            block = re.search(rf"location {prefix}/{root}/ \{{([^}}]*)\}}", conf)
            assert block, f"no internal location {prefix}/{root}/ in gateway/nginx.conf"
            assert "internal;" in block.group(1)
            assert f"alias {table['gateway'][root].target}/;" in block.group(1)
    env = services["song_service"]["environment"]
    assert env["STREAM_URL_KEY_FILE"].startswith(table["song_service"]["stream-url-key"].target)
    # The image makes the folders those volumes are mounted on, for its user.
    dockerfile = DOCKERFILE.read_text()
    for folder in ("/srv/media", "/srv/library", "/cache", "/keys/stream"):
        assert folder in dockerfile
    assert "COPY media ./media" in dockerfile


def test_the_gateway_keeps_an_access_check_for_seconds_only(
    stack: dict[str, str], http: httpx.Client, song: dict[str, Any]
) -> None:
    """A player pulls one URL in many Range requests: the first reaches song_service,
    the next ones within ACCEL_CACHE_SECONDS are answered by nginx alone. Refusals
    are never kept: each one is the service's."""
    log = Path(stack["PROJECT_DIR"]) / "song_service.log"
    requests_seen = f'"GET /songs/{song["id"]}/stream" '

    def service_requests() -> int:
        time.sleep(0.2)  # the access log line is written after the answer
        return log.read_text(errors="replace").count(requests_seen)

    time.sleep(1.1)  # a URL no earlier test signed (its expiry is in whole seconds)
    signed = ok(http.post(f"/songs/{song['id']}/stream-url", headers=song["user"]))
    before = service_requests()
    for start in range(0, 50, 10):
        part = http.get(signed["url"], headers={"Range": f"bytes={start}-{start + 9}"})
        assert part.status_code == 206
        assert part.content == song["data"][start : start + 10]
    assert service_requests() - before == 1
    tampered = signed["url"].replace("sig=", "sig=0")
    before = service_requests()
    for _ in range(3):
        assert http.get(tampered).status_code == 403
    assert service_requests() - before == 3
    time.sleep(ACCEL_CACHE_SECONDS + 0.5)
    before = service_requests()
    assert http.get(signed["url"], headers={"Range": "bytes=0-9"}).status_code == 206
    assert service_requests() - before == 1  # expired: checked again


def test_subsonic_streams_go_through_the_same_internal_locations(
    stack: dict[str, str], http: httpx.Client, song: dict[str, Any]
) -> None:
    """subsonic_service checks access and answers X-Accel-Redirect too (compose's
    MEDIA_ACCEL_REDIRECT); nginx sends the file from the same /_media/ location,
    ranges and validators included, unbuffered."""
    token = song["user"]["Authorization"].removeprefix("Bearer ")
    params = {"id": f"so-{song['id']}", "jwt": token, "v": "1.16.1", "c": "smoke"}
    data = song["data"]

    whole = http.get("/rest/stream", params=params)
    assert whole.status_code == 200, whole.text
    assert whole.content == data
    assert whole.headers["content-type"] == "audio/wav"
    assert "x-accel-redirect" not in whole.headers
    # nginx's validators for that file, the same as for /songs/{id}/stream: the bytes
    # came from the gateway's location, not from the service.
    direct = http.head(f"/songs/{song['id']}/stream", headers=song["user"])
    assert whole.headers["etag"] == direct.headers["etag"]
    part = http.get("/rest/stream.view", params=params, headers={"Range": "bytes=100-199"})
    assert part.status_code == 206
    assert part.content == data[100:200]
    assert part.headers["content-range"] == f"bytes 100-199/{len(data)}"
    downloaded = http.get("/rest/download", params=params)
    assert downloaded.status_code == 200 and downloaded.content == data
    assert downloaded.headers["content-disposition"].startswith("attachment;")

    refused = http.get("/rest/stream", params={**params, "jwt": "not-a-token", "f": "json"})
    assert refused.status_code == 200
    assert refused.json()["subsonic-response"]["status"] == "failed"
    # The gateway logs the request where it ends (/_media/), still without the query.
    time.sleep(0.3)
    gateway_log = (Path(stack["PROJECT_DIR"]) / "gateway.log").read_text(errors="replace")
    assert token not in gateway_log and "not-a-token" not in gateway_log
    assert '"GET /rest/stream.view HTTP/1.1" 206' in gateway_log
