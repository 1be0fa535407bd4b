"""/metrics with several worker processes: song_service started as `make run`
starts it with WORKERS=2 (`python -m common.server song_service --workers 2`)
adds up both workers' counts in every scrape, whichever worker answers it
(prometheus-client's multiprocess mode, common.server and common.metrics), and
with LOG_FORMAT=json every line it prints is one JSON object."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.e2e.fleet import Fleet, fleet_environment, free_ports, one_service, stop

pytestmark = pytest.mark.e2e
REQUESTS = 40
ROUTE = "/songs/{song_id}"


@dataclass
class Running:
    base: str
    log: Path
    tmp: Path  # the process's TMPDIR, where its metrics folder is made
    process: subprocess.Popen[bytes]


@pytest.fixture(scope="module")
def two_workers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    data_dir = tmp_path_factory.mktemp("metrics-workers")
    tmp = data_dir / "tmp"
    tmp.mkdir()
    port = free_ports(1)[0]
    fleet = Fleet(urls={"song": f"http://127.0.0.1:{port}"})
    env = fleet_environment(
        data_dir, {"auth": "http://127.0.0.1:9", **fleet.urls}, f"sqlite:///{data_dir / 'm.db'}"
    )
    env.update(LOG_FORMAT="json", TMPDIR=str(tmp))
    # One left over from the caller's environment must not be used (nor emptied).
    env["PROMETHEUS_MULTIPROC_DIR"] = str(data_dir / "not-this-one")
    with one_service(fleet, "song", data_dir, env, workers=2) as process:
        yield Running(fleet.song, fleet.logs["song"], tmp, process)


def fresh_get(url: str, **kwargs: Any) -> httpx.Response:
    # A new connection each time, so the kernel may hand it to either worker.
    with httpx.Client(timeout=20, trust_env=False) as http:
        return http.get(url, **kwargs)


def scrape(base: str) -> dict[str, Any]:
    response = fresh_get(f"{base}/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    return {family.name: family for family in text_string_to_metric_families(response.text)}


def route_requests(families: dict[str, Any]) -> float:
    return sum(
        sample.value
        for sample in families["musicplayer_http_requests"].samples
        if sample.name == "musicplayer_http_requests_total" and sample.labels["route"] == ROUTE
    )


def log_entries(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def test_every_scrape_adds_up_both_workers(two_workers: Running) -> None:
    for song_id in range(1, REQUESTS + 1):
        assert fresh_get(f"{two_workers.base}/songs/{song_id}").status_code == 401
    for _ in range(6):  # a scrape lands on either worker; each must see all
        families = scrape(two_workers.base)
        assert route_requests(families) == REQUESTS
        statuses = {
            sample.labels["status"]
            for sample in families["musicplayer_http_requests"].samples
            if sample.labels["route"] == ROUTE
        }
        assert statuses == {"401"}
        # livesum over both workers: the scrape itself is the one request running.
        (in_flight,) = families["musicplayer_http_requests_in_flight"].samples
        assert in_flight.labels == {"service": "song_service"} and in_flight.value == 1
        (count,) = [
            sample
            for sample in families["musicplayer_http_request_duration_seconds"].samples
            if sample.name.endswith("_count") and sample.labels["route"] == ROUTE
        ]
        assert count.value == REQUESTS
    answered_by = {
        entry["process"]
        for entry in log_entries(two_workers.log)
        if entry["logger"] == "musicplayer.access" and entry["http"]["route"] == ROUTE
    }
    assert len(answered_by) == 2, f"only worker(s) {answered_by} answered; the sum proves nothing"


def test_the_metrics_folder_is_fresh_and_private(two_workers: Running) -> None:
    (folder,) = two_workers.tmp.glob("musicplayer-metrics-song_service-*")
    assert folder.stat().st_mode & 0o777 == 0o700
    assert any(folder.glob("counter_*.db"))
    assert not (two_workers.tmp.parent / "not-this-one").exists()


def test_a_dead_workers_counts_stay_and_its_live_gauges_go(two_workers: Running) -> None:
    (folder,) = two_workers.tmp.glob("musicplayer-metrics-song_service-*")
    before = route_requests(scrape(two_workers.base))
    workers = {
        entry["process"]
        for entry in log_entries(two_workers.log)
        if entry["logger"] == "musicplayer.access"
    }
    victim = min(workers)
    assert (folder / f"gauge_livesum_{victim}.db").exists()
    os.kill(victim, signal.SIGKILL)
    deadline = time.monotonic() + 30
    while (folder / f"gauge_livesum_{victim}.db").exists():
        assert time.monotonic() < deadline, "the dead worker's live gauges were never dropped"
        time.sleep(0.2)
    for _ in range(4):
        families = scrape(two_workers.base)
        assert route_requests(families) == before  # what it counted did happen
        (in_flight,) = families["musicplayer_http_requests_in_flight"].samples
        assert in_flight.value == 1


def test_json_logs_one_object_per_line_with_request_ids(two_workers: Running) -> None:
    fresh_get(f"{two_workers.base}/songs/1", headers={"X-Request-ID": "metrics-e2e-1"})
    time.sleep(0.5)  # the access line is written after the answer
    entries = log_entries(two_workers.log)  # raises on any line that is not JSON
    assert all({"time", "level", "logger", "message", "service"} <= set(e) for e in entries)
    assert {entry["service"] for entry in entries} == {"song_service"}
    # The supervising process's own lines (uvicorn's) are JSON too.
    assert any("Started parent process" in entry["message"] for entry in entries)
    access = [entry for entry in entries if entry["logger"] == "musicplayer.access"]
    assert access and all(entry["request_id"] for entry in access)
    assert any(entry["request_id"] == "metrics-e2e-1" for entry in access)


def test_the_metrics_folder_is_removed_when_the_server_stops(two_workers: Running) -> None:
    assert list(two_workers.tmp.glob("musicplayer-metrics-*"))
    stop({"song": two_workers.process})
    assert two_workers.process.returncode == 0
    assert list(two_workers.tmp.glob("musicplayer-metrics-*")) == []
    log_entries(two_workers.log)  # the shutdown's lines are JSON too
