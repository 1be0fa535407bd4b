"""Two replicas of every service behind the real gateway, proven consistent (issue 17).

Two processes of each of the five services, each on its own port, share one
scratch PostgreSQL database and one DATA_DIR (signing keys, media, library);
Debian's nginx runs gateway/nginx.conf with each service's upstream listing both
(round robin; a replica that fails a connection is left alone for a while,
tests.e2e.replicas). Everything is driven through the gateway, except where a
test must pin a request to one replica (then it names the replica's port): the
races that are exact on one process (tests/e2e/test_concurrency.py,
test_atomic_races.py, test_sessions.py, test_login_throttle.py,
test_media_races.py) must be exact across replicas too, and a replica killed
under load must lose no acknowledged write.

PostgreSQL only: it is what a scaled-out deployment runs on (SQLite is one
machine's file). Without TEST_POSTGRES_URL the module is skipped, and fails in
CI (tests.databases.require_server)."""

from __future__ import annotations

import re
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine, text

from media.synth import write_song
from tests.databases import require_server, scratch_database
from tests.deploy.compose import GATEWAY_CONF
from tests.e2e.clients import (
    Account,
    all_at_once,
    bearer,
    client,
    expect,
    log_in,
    refresh,
    sign_up,
    sign_up_body,
)
from tests.e2e.fleet import SERVICES, Fleet, running_fleet
from tests.e2e.replicas import replicated_gateway, replicated_upstreams

pytestmark = pytest.mark.e2e

REPLICAS = 2
# nginx leaves a replica that refused a connection alone this long (max_fails=1).
FAIL_TIMEOUT_SECONDS = 10
FREE_FAILURES = 5  # LOGIN_FREE_FAILURES' default
# The first delay after the free failures: far longer than the test, so no answer
# depends on how fast this machine is.
LOGIN_DELAY_SECONDS = 60
SETTINGS = {
    # As a deployment behind the gateway: the client address is the one nginx
    # forwards (it overwrites X-Forwarded-For), so the throttle counts per client.
    "FORWARDED_ALLOW_IPS": "127.0.0.1",
    "LOGIN_BASE_DELAY_SECONDS": str(LOGIN_DELAY_SECONDS),
    # Ten processes with two pools each: sized as a deployment must size them, so
    # that replicas x pools x size stays under the server's max_connections (100
    # by default, and other tests may use the same server at the same time).
    "DB_POOL_SIZE": "4",
}
FANS = 16  # users that like, and later load the song replicas
LIBRARY_FILES = 24  # enough that a scan still runs when the other replica is asked
LOAD_THREADS = 6
LOAD_BEFORE_KILL_SECONDS = 1.5
# After the kill, until nginx has seen the replica's connections close and marked
# it down; writes sent in this window may fail (never half-applied).
KILL_WINDOW_SECONDS = 0.5
LOAD_AFTER_KILL_SECONDS = 2.5

# A service's access log line: `127.0.0.1 "POST /auth/login" 401 12.3ms` (inside a
# JSON string with LOG_FORMAT=json, hence the optional backslash).
ACCESS_LINE = re.compile(r'"(?P<method>[A-Z]+) (?P<path>/[^"\s\\]*)\\?" (?P<status>\d{3}) ')


@dataclass(frozen=True)
class Fan:
    account: Account
    headers: dict[str, str]


@pytest.fixture(scope="module")
def database_url() -> Iterator[str]:
    server = require_server("postgresql")
    with scratch_database(server, "replicas") as url:
        yield url.render_as_string(hide_password=False)


@pytest.fixture(scope="module")
def fleet(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fleet]:
    """The replicas, by process name ("song", "song-2", ...). Named `fleet`, like the
    conftest fixture it overrides here, so that a failing test's report carries
    every replica's log and the gateway's (tests/e2e/conftest.py)."""
    data_dir = tmp_path_factory.mktemp("replicas")
    with running_fleet(data_dir, database_url, replicas=REPLICAS, env=SETTINGS) as started:
        yield started


@pytest.fixture(scope="module")
def gateway(fleet: Fleet) -> Iterator[Fleet]:
    """The fleet as a client sees it: every service at the gateway's address (a
    Fleet, so that tests.e2e.clients' helpers go through nginx)."""
    with replicated_gateway(
        fleet, data_dir(fleet), fail_timeout_seconds=FAIL_TIMEOUT_SECONDS
    ) as url:
        yield Fleet(urls=dict.fromkeys(SERVICES, url))


@pytest.fixture(scope="module")
def http() -> Iterator[httpx.Client]:
    with client() as own:
        yield own


@pytest.fixture(scope="module")
def admin(http: httpx.Client, gateway: Fleet) -> dict[str, str]:
    return bearer(log_in(http, gateway, gateway.admin_email, gateway.admin_password)["auth_token"])


@pytest.fixture(scope="module")
def fans(http: httpx.Client, gateway: Fleet) -> list[Fan]:
    """Signed up and logged in through the gateway, all at once."""

    def new_fan(c: httpx.Client) -> Fan:
        account = sign_up(c, gateway)
        return Fan(
            account, bearer(log_in(c, gateway, account.email, account.password)["auth_token"])
        )

    return all_at_once([new_fan] * FANS)


def data_dir(fleet: Fleet) -> Path:
    """The fleet's DATA_DIR (its LIBRARY_DIR is `library` in it)."""
    return fleet.logs["song"].parent


def access_counts(fleet: Fleet, service: str, method: str, path: str) -> dict[str, Counter[int]]:
    """Per replica of `service`: how many `method` requests whose path fully matches
    the regex `path` it answered so far, by status (from its access log)."""
    counts: dict[str, Counter[int]] = {}
    for name in fleet.replicas_of(service):
        counts[name] = Counter(
            int(match["status"])
            for match in ACCESS_LINE.finditer(fleet.logs[name].read_text(errors="replace"))
            if match["method"] == method and re.fullmatch(path, match["path"])
        )
    return counts


def answered_since(
    before: dict[str, Counter[int]], after: dict[str, Counter[int]]
) -> dict[str, Counter[int]]:
    return {name: after[name] - before.get(name, Counter()) for name in after}


def server_errors(responses: list[httpx.Response]) -> list[tuple[str, int, str]]:
    return [
        (f"{r.request.method} {r.request.url.path}", r.status_code, r.text)
        for r in responses
        if r.status_code >= 500
    ]


def new_song(http: httpx.Client, gateway: Fleet, admin: dict[str, str], title: str) -> int:
    body = {"title": title, "artist": "Replicas", "genre": "replicas", "file_url": "/r.mp3"}
    return expect(http.post(f"{gateway.song}/songs", json=body, headers=admin), 201)["id"]


def test_the_gateway_config_lists_every_replica_in_each_upstream() -> None:
    """The rewrite the gateway below runs with (no servers needed): every service's
    upstream block, found by its name whatever host its server line names, lists
    both replicas with the failure settings; nothing else in the config changes."""
    conf = GATEWAY_CONF.read_text()
    servers = {f"{service}_service": [f"127.0.0.1:{9000 + n}", f"127.0.0.1:{9100 + n}"]
               for n, service in enumerate(SERVICES)}  # fmt: skip
    rewritten = replicated_upstreams(conf, servers, max_fails=1, fail_timeout_seconds=7)
    blocks = dict(re.findall(r"upstream\s+([\w-]+)\s*\{([^{}]*)\}", rewritten))
    for name, (first, second) in servers.items():
        assert blocks[name].split(";")[:3] == [
            f" zone {name}_replicas 64k",  # one view of the replicas for every worker
            f" server {first} max_fails=1 fail_timeout=7s",
            f" server {second} max_fails=1 fail_timeout=7s",
        ], blocks[name]
        assert "keepalive" in blocks[name]
    assert (
        blocks["media_check"]
        == dict(re.findall(r"upstream\s+([\w-]+)\s*\{([^{}]*)\}", conf))["media_check"]
    )
    # Either spelling of the compose host names, and of the block name.
    hyphenated = re.sub(r"server (\w+)_service:", r"server \1-service:", conf)
    hyphenated = hyphenated.replace("upstream song_service", "upstream song-service")
    again = replicated_upstreams(hyphenated, servers, max_fails=1, fail_timeout_seconds=7)
    assert (
        "song-service { zone song-service_replicas 64k; server 127.0.0.1:9002 max_fails=1" in again
    )
    assert "_service:80" not in again and "-service:80" not in again
    with pytest.raises(ValueError, match="nothing_service"):
        replicated_upstreams(conf, {"nothing_service": ["127.0.0.1:1"]})


def test_thirty_sign_ups_with_one_email_across_replicas_make_one_account(
    fleet: Fleet, gateway: Fleet, http: httpx.Client, admin: dict[str, str]
) -> None:
    email = f"race-{uuid.uuid4().hex[:8]}@example.com"
    before = access_counts(fleet, "user", "POST", "/users")
    jobs = [
        lambda c, i=i: c.post(
            f"{gateway.user}/users", json=sign_up_body(f"r{i}x{email[5:13]}", email)
        )
        for i in range(30)
    ]
    responses = all_at_once(jobs)
    assert server_errors(responses) == []
    assert sorted(r.status_code for r in responses) == [201] + [409] * 29, [
        (r.status_code, r.text) for r in responses
    ]
    created = next(r for r in responses if r.status_code == 201).json()
    found = expect(http.get(f"{gateway.user}/users/email/{email}", headers=admin), 200)
    assert found["id"] == created["id"]
    # Both replicas took part: each answered some of the 30.
    served = answered_since(before, access_counts(fleet, "user", "POST", "/users"))
    assert all(sum(counts.values()) > 0 for counts in served.values()), served
    assert sum(sum(c.values()) for c in served.values()) == 30, served


@pytest.mark.parametrize("kind", ["songs", "albums"])
def test_likes_raced_across_replicas_are_counted_exactly(
    kind: str,
    fleet: Fleet,
    gateway: Fleet,
    http: httpx.Client,
    admin: dict[str, str],
    fans: list[Fan],
) -> None:
    tag = uuid.uuid4().hex[:8]
    if kind == "songs":
        target = new_song(http, gateway, admin, f"Liked {tag}")
    else:
        body = {"title": f"Liked {tag}", "artist": "Replicas", "genre": "replicas"}
        target = expect(http.post(f"{gateway.album}/albums", json=body, headers=admin), 201)["id"]
    service = "song" if kind == "songs" else "album"
    like = f"{gateway.urls[service]}/{kind}/{target}/like"
    before = access_counts(fleet, service, "POST", f"/{kind}/{target}/like")

    # Every fan likes twice, all at once: 2 x FANS requests over both replicas.
    jobs: list[Callable[[httpx.Client], httpx.Response]] = [
        lambda c, h=fan.headers: c.post(like, headers=h) for fan in fans for _ in range(2)
    ]
    first = all_at_once(jobs)
    assert server_errors(first) == []
    assert {r.status_code for r in first} == {200}, [r.text for r in first]
    assert max(r.json()["like_count"] for r in first) == FANS
    # Then a quarter unlike while the rest like again, all at once.
    leaving, staying = fans[: FANS // 4], fans[FANS // 4 :]
    second = all_at_once(
        [lambda c, h=fan.headers: c.delete(like, headers=h) for fan in leaving]
        + [lambda c, h=fan.headers: c.post(like, headers=h) for fan in staying]
    )
    assert server_errors(second) == []
    assert {r.status_code for r in second} == {200}, [r.text for r in second]
    assert [r.json()["liked"] for r in second] == [False] * len(leaving) + [True] * len(staying)

    # Exact, whichever replica is asked.
    for name in fleet.replicas_of(service):
        found = expect(http.get(f"{fleet.urls[name]}/{kind}/{target}", headers=admin), 200)
        assert found["like_count"] == len(staying), (name, found)
    for fan in (leaving[0], staying[0]):
        mine = expect(
            http.get(f"{gateway.urls[service]}/{kind}/{target}", headers=fan.headers), 200
        )
        assert mine["liked_by_me"] is (fan in staying), mine
    served = answered_since(before, access_counts(fleet, service, "POST", f"/{kind}/{target}/like"))
    assert all(counts[200] > 0 for counts in served.values()), served


def test_one_refresh_token_sent_to_both_auth_replicas_at_once_follows_the_grace_rules(
    fleet: Fleet, gateway: Fleet, http: httpx.Client
) -> None:
    """API.md, Sessions: a refresh is one atomic step; the same token presented again
    within the grace window is a retry (a valid new pair, nothing revoked), later
    it revokes the whole chain. Across replicas as on one: the row lock is the
    database's, not a process's."""
    first_auth, second_auth = (fleet.urls[name] for name in fleet.replicas_of("auth"))
    account = sign_up(http, gateway)
    token = log_in(http, gateway, account.email, account.password)["refresh_token"]

    def refresh_at(base: str, refresh_token: str) -> Callable[[httpx.Client], httpx.Response]:
        return lambda c: c.post(f"{base}/auth/refresh", json={"refresh_token": refresh_token})

    issued: list[str] = []
    for attempt in range(8):
        # Pinned: one request to each replica's own port, released together.
        pinned = all_at_once([refresh_at(first_auth, token), refresh_at(second_auth, token)])
        assert [r.status_code for r in pinned] == [200, 200], (attempt, [r.text for r in pinned])
        pair = [r.json()["refresh_token"] for r in pinned]
        assert len(set(pair)) == 2 and token not in pair, attempt
        assert {r.json()["user_id"] for r in pinned} == {account.id}
        # Each successor works in turn, through the gateway (sequentially: no grace needed).
        following = [refresh(http, gateway, successor) for successor in pair]
        assert [r.status_code for r in following] == [200, 200], (
            attempt,
            [r.text for r in following],
        )
        issued += pair
        token = following[0].json()["refresh_token"]

    # Four at once through nginx's round robin: every one a retry within the window.
    through_gateway = all_at_once([lambda c: refresh(c, gateway, token)] * 4)
    assert [r.status_code for r in through_gateway] == [200] * 4, [r.text for r in through_gateway]
    successors = [r.json()["refresh_token"] for r in through_gateway]
    assert len(set(successors)) == 4
    access = through_gateway[0].json()["auth_token"]
    expect(http.get(f"{gateway.user}/users/me", headers=bearer(access)), 200)

    # Past the window, the rotated token comes back (to each replica in turn): the
    # whole chain is revoked, the successors handed out just now included.
    time.sleep(fleet.refresh_reuse_grace_seconds + 1.5)
    late = [refresh_at(base, token)(http) for base in (second_auth, first_auth)]
    assert [r.status_code for r in late] == [401, 401], [r.text for r in late]
    assert [refresh(http, gateway, s).status_code for s in successors] == [401] * 4
    # Another login of the same account is another chain, untouched.
    assert (
        refresh(
            http, gateway, log_in(http, gateway, account.email, account.password)["refresh_token"]
        ).status_code
        == 200
    )


def test_failed_logins_spread_over_both_auth_replicas_add_up_to_one_limit(
    fleet: Fleet, gateway: Fleet, http: httpx.Client
) -> None:
    account = sign_up(http, gateway)
    before = access_counts(fleet, "auth", "POST", "/auth/login")
    answers = []
    for _ in range(2 * FREE_FAILURES):
        answers.append(
            http.post(
                f"{gateway.auth}/auth/login",
                json={"email": account.email, "password": "wrong-password"},
            )
        )
    statuses = [answer.status_code for answer in answers]
    assert statuses == [401] * FREE_FAILURES + [429] * FREE_FAILURES, statuses
    for answer in answers[FREE_FAILURES:]:
        assert 0 < int(answer.headers["Retry-After"]) <= LOGIN_DELAY_SECONDS, answer.headers
    # The right password waits too, on either replica (same account, same address).
    for name in fleet.replicas_of("auth"):
        right = http.post(
            f"{fleet.urls[name]}/auth/login",
            json={"email": account.email, "password": account.password},
        )
        assert right.status_code == 429, (name, right.text)
    # Round robin put failures on both: neither replica saw FREE_FAILURES of them
    # alone, yet both refused once the account's total reached it.
    served = answered_since(before, access_counts(fleet, "auth", "POST", "/auth/login"))
    assert all(counts[401] > 0 and counts[429] > 0 for counts in served.values()), served
    assert all(counts[401] < FREE_FAILURES for counts in served.values()), served


def wait_for_scan(http: httpx.Client, url: str, admin: dict[str, str]) -> dict[str, Any]:
    deadline = time.monotonic() + 120
    while (scan := expect(http.get(url, headers=admin), 200))["state"] in ("queued", "running"):
        assert time.monotonic() < deadline, scan
        time.sleep(0.1)
    return scan


def test_a_scan_started_on_one_song_replica_is_seen_and_guarded_by_the_other(
    fleet: Fleet, gateway: Fleet, http: httpx.Client, admin: dict[str, str]
) -> None:
    title = f"Replicated {uuid.uuid4().hex[:8]}"
    folder = data_dir(fleet) / "library" / "Replicas" / title
    for n in range(1, LIBRARY_FILES + 1):
        write_song(
            folder / f"{n:02d}.ogg", title=f"{title} {n}", artists=["Replicas"], album=title,
            track=n, track_total=LIBRARY_FILES, genres=["Replicas"], seconds=0.5, seed=n,
        )  # fmt: skip
    first_song, second_song = (fleet.urls[name] for name in fleet.replicas_of("song"))

    started = expect(http.post(f"{first_song}/library/scans", json={}, headers=admin), 202)
    refused = http.post(f"{second_song}/library/scans", json={}, headers=admin)
    seen = expect(http.get(f"{second_song}/library/scans/{started['id']}", headers=admin), 200)
    assert refused.status_code == 409, refused.text
    assert "already running" in refused.json()["detail"]
    assert refused.json()["scan"]["id"] == started["id"], refused.text  # the one to follow
    assert refused.json()["scan"]["state"] == "running", refused.text
    assert seen["id"] == started["id"]

    done = wait_for_scan(http, f"{gateway.song}/library/scans/{started['id']}", admin)
    assert done["state"] == "done", done
    assert (done["added"], done["errors"]) == (LIBRARY_FILES, []), done
    # Both replicas give the same final record.
    for base in (first_song, second_song):
        assert expect(http.get(f"{base}/library/scans/{started['id']}", headers=admin), 200) == done
    # Once it is done, the other replica may start the next one.
    again = expect(http.post(f"{second_song}/library/scans", json={}, headers=admin), 202)
    assert again["id"] != started["id"]
    after = wait_for_scan(http, f"{gateway.song}/library/scans/{again['id']}", admin)
    assert (after["state"], after["added"], after["errors"]) == ("done", 0, []), after


@dataclass(frozen=True)
class Write:
    """One write of the load and what came of it: `status` (None: no answer)."""

    kind: str  # "play" or "append"
    fan: int  # index in `fans`
    played_at_ms: int | None
    status: int | None
    started: float  # time.monotonic()
    finished: float


@contextmanager
def running_load(
    gateway: Fleet, fans: list[Fan], song_id: int, playlists: list[int], triple: list[int]
) -> Iterator[list[Write]]:
    """LOAD_THREADS threads, one fan each, writing through the gateway for the block:
    plays of `song_id` at a new played_at each (201, or lost), alternating with
    appends of `triple` to the fan's playlist (all three songs, or none). Yields
    the list the writes are added to as they are answered."""
    writes: list[Write] = []
    lock = threading.Lock()
    stop = threading.Event()
    base_ms = int(time.time() * 1000) - 3_600_000  # an hour ago: valid, and unique below

    def load(index: int) -> None:
        headers = fans[index].headers
        with client() as own:
            n = 0
            while not stop.is_set():
                n += 1
                kind = "play" if n % 2 else "append"
                played_at = base_ms + n if kind == "play" else None
                started = time.monotonic()
                url = (
                    f"{gateway.song}/songs/{song_id}/plays"
                    if kind == "play"
                    else f"{gateway.song}/playlists/{playlists[index]}/songs"
                )
                body = {"played_at": played_at} if kind == "play" else {"song_ids": triple}
                try:
                    response = own.post(url, json=body, headers=headers)
                    status: int | None = response.status_code
                except httpx.HTTPError:
                    status = None
                with lock:
                    writes.append(Write(kind, index, played_at, status, started, time.monotonic()))

    threads = [threading.Thread(target=load, args=(i,)) for i in range(LOAD_THREADS)]
    for thread in threads:
        thread.start()
    try:
        yield writes
    finally:
        stop.set()
        for thread in threads:
            thread.join()


def test_a_song_replica_killed_mid_load_loses_no_acknowledged_write(
    fleet: Fleet,
    gateway: Fleet,
    http: httpx.Client,
    admin: dict[str, str],
    fans: list[Fan],
    database_url: str,
) -> None:
    song_id = new_song(http, gateway, admin, f"Played {uuid.uuid4().hex[:8]}")
    triple = [new_song(http, gateway, admin, f"Listed {n}") for n in range(3)]
    playlists = [
        expect(
            http.post(
                f"{gateway.song}/playlists", json={"name": f"Load {i}"}, headers=fans[i].headers
            ),
            201,
        )["id"]
        for i in range(LOAD_THREADS)
    ]
    victim = fleet.replicas_of("song")[-1]
    before = access_counts(fleet, "song", "POST", r"/songs/\d+/plays|/playlists/\d+/songs")

    with running_load(gateway, fans, song_id, playlists, triple) as writes:
        time.sleep(LOAD_BEFORE_KILL_SECONDS)
        killed_at = time.monotonic()
        fleet.kill(victim)  # SIGKILL: no graceful shutdown, requests in flight are cut
        time.sleep(KILL_WINDOW_SECONDS + LOAD_AFTER_KILL_SECONDS)
    settled_at = killed_at + KILL_WINDOW_SECONDS

    served = answered_since(
        before, access_counts(fleet, "song", "POST", r"/songs/\d+/plays|/playlists/\d+/songs")
    )
    assert all(sum(counts.values()) > 0 for counts in served.values()), served
    wanted = {"play": 201, "append": 200}
    unexpected = [w for w in writes if w.status is not None and w.status < 500
                  and w.status != wanted[w.kind]]  # fmt: skip
    assert unexpected == [], unexpected[:10]
    failed = [w for w in writes if w.status is None or w.status >= 500]
    # A failure only for a write in flight when the replica died, or sent before
    # nginx had seen its connections close; none once it is marked down.
    after_kill_window = [w for w in failed if w.started >= settled_at]
    before_kill = [w for w in failed if w.finished < killed_at]
    assert (before_kill, after_kill_window) == ([], []), (before_kill, after_kill_window)
    assert all(w.status == 502 for w in failed), failed  # nginx's, never a service's 5xx
    phase_two = [w for w in writes if w.started >= settled_at]
    assert len(phase_two) > 2 * LOAD_THREADS, "too little load after the kill to prove anything"

    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            stored_plays = {
                (row.user_id, round(row.played_at.replace(tzinfo=UTC).timestamp() * 1000))
                for row in connection.execute(
                    text("SELECT user_id, played_at FROM plays WHERE song_id = :song"),
                    {"song": song_id},
                )
            }
            entries: dict[int, list[int]] = {playlist: [] for playlist in playlists}
            for row in connection.execute(
                text(
                    "SELECT playlist_id, song_id FROM playlist_songs"
                    " WHERE playlist_id = ANY(:ids) ORDER BY playlist_id, position"
                ),
                {"ids": playlists},
            ):
                entries[row.playlist_id].append(row.song_id)
    finally:
        engine.dispose()

    def key(write: Write) -> tuple[int, int]:
        assert write.played_at_ms is not None
        return (fans[write.fan].account.id, write.played_at_ms)

    plays = [w for w in writes if w.kind == "play"]
    acknowledged = {key(w) for w in plays if w.status == 201}
    sent = {key(w) for w in plays}
    assert acknowledged - stored_plays == set(), "acknowledged plays lost"
    assert stored_plays <= sent, stored_plays - sent
    for index, playlist in enumerate(playlists):
        appends = [w for w in writes if w.kind == "append" and w.fan == index]
        ok = sum(1 for w in appends if w.status == 200)
        lost = sum(1 for w in appends if w.status is None or w.status >= 500)
        songs = entries[playlist]
        # Whole appends only: the triple repeated, never a part of one.
        assert songs == triple * (len(songs) // 3), (playlist, songs)
        assert ok <= len(songs) // 3 <= ok + lost, (playlist, ok, lost, len(songs))
    listed = expect(http.get(f"{gateway.song}/songs/{song_id}", headers=admin), 200)
    assert listed["play_count"] == len(stored_plays)

    # nginx marked the dead replica down (the log line of max_fails reached).
    victim_port = fleet.urls[victim].rsplit(":", 1)[1]
    disabled = [
        line
        for line in fleet.logs["gateway"].read_text(errors="replace").splitlines()
        if "upstream server temporarily disabled" in line and f"127.0.0.1:{victim_port}" in line
    ]
    assert disabled, f"nginx never marked {victim} (port {victim_port}) down"

    failed_plays = [key(w) for w in failed if w.kind == "play"]
    failed_appends = sum(1 for w in failed if w.kind == "append")
    applied_appends = sum(
        len(entries[playlist]) // 3
        - sum(1 for w in writes if w.kind == "append" and w.fan == index and w.status == 200)
        for index, playlist in enumerate(playlists)
    )
    per_replica = {name: sum(counts.values()) for name, counts in served.items()}
    print(
        f"\nreplica kill: {len(writes)} writes, {len(phase_two)} of them after the kill "
        f"window; answered per replica {per_replica}; 5xx in the kill window: "
        f"{len(failed)} ({sum(w.started < killed_at for w in failed)} in flight at the kill, "
        f"the others sent before nginx saw its connections close; {len(failed_plays)} plays, "
        f"{sum(1 for k in failed_plays if k in stored_plays)} of them applied; "
        f"{failed_appends} appends, {applied_appends} of them applied); 5xx after it: 0"
    )
