"""Prometheus metrics (common.metrics) as a service records and serves them, in
one process: request series by route template, the histogram, in-flight
requests, the database pool gauges, /metrics itself, and JSON logs."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import APIRouter, Request
from fastapi.testclient import TestClient
from prometheus_client import REGISTRY
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import create_engine, text

from common import metrics
from common.app import create_service_app
from common.errors import NotFoundError
from common.logging import JsonFormatter
from common.settings import Settings
from database import Database
from database.media import MediaFile
from media import storage
from media.serve import audio_response
from media.transcode import FfmpegMissingError, Plan, Transcoder

router = APIRouter()


@router.get("/items/{item_id}")
async def get_item(item_id: int) -> dict[str, int]:
    if item_id == 404:
        raise NotFoundError("No such item")
    return {"id": item_id}


@router.post("/items")
async def add_item() -> dict[str, bool]:
    return {"ok": True}


@router.get("/in-flight")
async def in_flight(request: Request) -> dict[str, float | None]:
    """What the in-flight gauge says while this request runs."""
    service = request.app.state.service_name
    return {"value": value("musicplayer_http_requests_in_flight", service=service)}


@router.get("/holding-a-connection")
def holding_a_connection(request: Request) -> dict[str, float | None]:
    """The pool gauge while this request holds a database connection (in a worker
    thread, as the SQLite use cases run)."""
    service = request.app.state.service_name
    with request.app.state.database.connect() as connection:
        connection.execute(text("SELECT 1"))
        held = value("musicplayer_db_pool_checked_out_connections", service=service)
    return {"value": held}


@router.get("/fails")
async def fails() -> None:
    logging.getLogger("musicplayer.test").info("about to fail")
    raise RuntimeError("broken on purpose")


def value(name: str, **labels: str) -> float | None:
    return REGISTRY.get_sample_value(name, labels)


def requests(service: str, route: str, method: str = "GET", status: str = "200") -> float:
    labels = {"service": service, "route": route, "method": method, "status": status}
    return value("musicplayer_http_requests_total", **labels) or 0.0


@pytest.fixture
def service() -> str:
    """A name of its own per test: the metrics are per process, the series per app."""
    return f"test_{uuid.uuid4().hex[:8]}"


@pytest.fixture
def client(settings: Settings, database: Database, service: str) -> Iterator[TestClient]:
    app = create_service_app(
        name=service,
        title="Metrics test",
        description="",
        settings=settings.model_copy(update={"max_body_bytes": 64}),
        routers=[router],
        database=database,
    )
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


def test_a_request_is_counted_by_route_template_method_and_status(
    client: TestClient, service: str
) -> None:
    assert client.get("/items/7").status_code == 200
    assert client.get("/items/8").status_code == 200
    assert client.get("/items/404").status_code == 404
    assert client.post("/items").status_code == 200
    assert requests(service, "/items/{item_id}") == 2
    assert requests(service, "/items/{item_id}", status="404") == 1
    assert requests(service, "/items", method="POST") == 1
    text_ = client.get("/metrics").text
    assert 'route="/items/7"' not in text_ and 'route="/items/8"' not in text_


def test_the_latency_histogram_is_observed(client: TestClient, service: str) -> None:
    for _ in range(3):
        client.get("/items/1")
    labels = {"service": service, "route": "/items/{item_id}", "method": "GET"}
    assert value("musicplayer_http_request_duration_seconds_count", **labels) == 3
    total = value("musicplayer_http_request_duration_seconds_sum", **labels)
    assert total is not None and 0 < total < 10
    # Cumulative buckets: all three within +Inf, none above it.
    assert value("musicplayer_http_request_duration_seconds_bucket", **labels, le="+Inf") == 3
    assert value("musicplayer_http_request_duration_seconds_bucket", **labels, le="30.0") == 3


def test_in_flight_counts_a_running_request_and_returns_to_zero(
    client: TestClient, service: str
) -> None:
    assert client.get("/in-flight").json() == {"value": 1.0}
    client.get("/fails")  # a 500 leaves the gauge too
    client.get("/nowhere")
    assert value("musicplayer_http_requests_in_flight", service=service) == 0


def test_what_no_route_matched_is_unmatched_never_the_path(
    client: TestClient, service: str
) -> None:
    assert client.get("/songs/<script>alert(1)</script>").status_code == 404
    # A matched route keeps its template whatever the parameter held (422).
    assert client.get("/items/<script>").status_code == 422
    # A body refused before routing (413) and an invented method.
    assert client.post("/items", content=b"x" * 100).status_code == 413
    assert client.request("BREW", "/items/1").status_code == 405
    assert requests(service, metrics.UNMATCHED, status="404") == 1
    assert requests(service, "/items/{item_id}", status="422") == 1
    assert requests(service, metrics.UNMATCHED, method="POST", status="413") == 1
    assert requests(service, "/items/{item_id}", method=metrics.OTHER_METHOD, status="405") == 1
    scraped = client.get("/metrics").text
    assert "<script>" not in scraped and "alert(" not in scraped and "BREW" not in scraped


def test_starlettes_own_routes_are_counted_by_their_path_not_as_unmatched(
    client: TestClient, service: str
) -> None:
    """/metrics, the docs pages and a Mount are Starlette routes, which leave only
    their endpoint in the scope: still counted under their path."""
    client.get("/metrics")
    client.get("/metrics")
    assert client.get("/openapi.json").status_code == 200
    assert client.head("/openapi.json").status_code == 200
    assert requests(service, "/metrics") == 2
    assert requests(service, "/openapi.json") == 1
    assert requests(service, "/openapi.json", method="HEAD") == 1
    assert requests(service, metrics.UNMATCHED) == 0


def test_a_mount_is_counted_by_its_path(settings: Settings, database: Database) -> None:
    from song_service.main import create_app as create_song_app

    app = create_song_app(settings, database)
    with TestClient(app) as song_client:
        assert song_client.get("/player/").status_code == 200
    assert requests("song_service", "/player") >= 1


def test_head_is_counted_under_the_get_routes_template(client: TestClient, service: str) -> None:
    assert client.head("/items/3").status_code == 200
    assert requests(service, "/items/{item_id}", method="HEAD") == 1


def test_metrics_are_prometheus_text_outside_the_openapi_document(
    client: TestClient, service: str
) -> None:
    client.get("/items/1")
    response = client.get("/metrics")
    assert response.status_code == 200
    # prometheus-client's own type for a scraper that names no format.
    assert response.headers["content-type"] == CONTENT_TYPE_PLAIN_0_0_4
    families = {family.name: family for family in text_string_to_metric_families(response.text)}
    assert families["musicplayer_http_requests"].type == "counter"
    assert families["musicplayer_http_request_duration_seconds"].type == "histogram"
    assert families["musicplayer_http_requests_in_flight"].type == "gauge"
    samples = [
        sample
        for sample in families["musicplayer_http_requests"].samples
        if sample.labels.get("service") == service
    ]
    assert {(s.labels["route"], s.value) for s in samples} >= {("/items/{item_id}", 1.0)}
    assert "/metrics" not in client.get("/openapi.json").json()["paths"]
    # OpenMetrics for a scraper that asks for it.
    openmetrics = client.get("/metrics", headers={"Accept": "application/openmetrics-text"})
    assert openmetrics.headers["content-type"].startswith("application/openmetrics-text")
    assert openmetrics.text.endswith("# EOF\n")


def test_the_pool_gauge_counts_a_held_connection(client: TestClient, service: str) -> None:
    assert client.get("/holding-a-connection").json() == {"value": 1.0}
    assert value("musicplayer_db_pool_checked_out_connections", service=service) == 0


def test_pool_overflow_is_the_connections_beyond_the_pool_size(tmp_path: Path) -> None:
    metrics.install_pool_metrics()
    service = f"test_{uuid.uuid4().hex[:8]}"
    engine = create_engine(f"sqlite:///{tmp_path}/pool.db", pool_size=1, max_overflow=2)
    token = metrics.service_var.set(service)
    try:
        first, second, third = (engine.connect() for _ in range(3))
        assert value("musicplayer_db_pool_checked_out_connections", service=service) == 3
        assert value("musicplayer_db_pool_overflow_connections", service=service) == 2
        for connection in (third, second, first):
            connection.close()
        assert value("musicplayer_db_pool_checked_out_connections", service=service) == 0
        assert value("musicplayer_db_pool_overflow_connections", service=service) == 0
    finally:
        metrics.service_var.reset(token)
        engine.dispose()


def test_a_connection_checked_in_from_another_thread_is_its_services() -> None:
    """The check-in undoes the checkout's own labels, wherever it runs."""
    metrics.install_pool_metrics()
    service = f"test_{uuid.uuid4().hex[:8]}"
    engine = create_engine("sqlite://")
    token = metrics.service_var.set(service)
    connection = engine.connect()
    metrics.service_var.reset(token)
    closer = threading.Thread(target=connection.close)
    closer.start()
    closer.join()
    assert value("musicplayer_db_pool_checked_out_connections", service=service) == 0
    engine.dispose()


def test_every_metric_has_a_service_label_and_bounded_labels() -> None:
    bounded = {"service", "route", "method", "status", "flow", "state", "purpose", "kind",
               "format", "result"}  # fmt: skip
    for family in REGISTRY.collect():
        if not family.name.startswith("musicplayer_"):
            continue
        for sample in family.samples:
            labels = set(sample.labels) - {"le"}
            assert "service" in labels, sample
            assert labels <= bounded, sample


def test_json_logs_are_one_object_per_line_with_the_request_id(
    settings: Settings, database: Database, capsys: pytest.CaptureFixture[str]
) -> None:
    service = f"test_{uuid.uuid4().hex[:8]}"
    app = create_service_app(
        name=service,
        title="JSON logs",
        description="",
        settings=settings.model_copy(update={"log_format": "json", "log_level": "INFO"}),
        routers=[router],
        database=database,
    )
    try:
        with TestClient(app, raise_server_exceptions=False) as test_client:
            ok = test_client.get("/items/1", headers={"X-Request-ID": "req-ok"})
            failed = test_client.get("/fails", headers={"X-Request-ID": "req-fail"})
        assert (ok.status_code, failed.status_code) == (200, 500)
        lines = capsys.readouterr().out.splitlines()
    finally:
        logging.getLogger().handlers[:] = []  # the next app configures its own
        logging.captureWarnings(False)
    entries = [json.loads(line) for line in lines]  # every line is one JSON object
    assert entries
    for entry in entries:
        assert {"time", "level", "logger", "message", "service", "request_id"} <= set(entry)
        assert entry["service"] == service
    access = [entry for entry in entries if entry["logger"] == "musicplayer.access"]
    assert [entry["request_id"] for entry in access] == ["req-ok", "req-fail"]
    assert access[0]["http"] | {"duration_ms": 0} == {
        "client": "testclient",
        "method": "GET",
        "path": "/items/1",
        "route": "/items/{item_id}",
        "status": 200,
        "duration_ms": 0,
    }
    failure = [entry for entry in entries if entry["request_id"] == "req-fail"]
    assert any(entry["message"] == "about to fail" for entry in failure)
    errors = [entry for entry in failure if "exception" in entry]
    assert errors and "RuntimeError: broken on purpose" in errors[0]["exception"]
    assert errors[0]["level"] == "ERROR"


# Streams and transcodes (media.serve, media.transcode), labelled with the service
# that asked: song_service and subsonic_service share that code.


def stream_count(service: str, kind: str, purpose: str = "stream") -> float:
    labels = {"service": service, "purpose": purpose, "kind": kind}
    return value("musicplayer_streams_total", **labels) or 0.0


def test_streams_are_counted_by_kind_for_the_calling_service(
    settings: Settings, tmp_path: Path, service: str
) -> None:
    target = storage.root_dir("media", settings) / "a" / "song.ogg"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(b"OggS")
    stored = MediaFile(
        song_id=1, root="media", path="a/song.ogg", size=4, mtime_ns=1_700_000_000 * 10**9,
        checksum="ab" * 32, content_type="audio/ogg", suffix="ogg", bitrate=320,
        sample_rate=44100, channels=2, duration=1.0, embedded_cover=False, cover_path=None,
    )  # fmt: skip
    fake_ffmpeg = tmp_path / "ffmpeg"
    fake_ffmpeg.write_text('#!/bin/sh\nfor arg; do last="$arg"; done\necho mp3 > "$last"\n')
    fake_ffmpeg.chmod(0o755)
    transcoder = Transcoder(tmp_path / "cache", 1, ffmpeg=str(fake_ffmpeg))
    accel = settings.model_copy(update={"media_accel_redirect": "/_media"})

    async def answers() -> None:
        token = metrics.service_var.set(service)  # as ServiceMiddleware sets it
        try:
            await audio_response(settings, stored, None, song_id=1, expires_at=0)
            await audio_response(
                settings, stored, None, song_id=1, expires_at=0, purpose="download"
            )
            await audio_response(accel, stored, None, song_id=1, expires_at=2**40)
            await audio_response(settings, None, "https://cdn.example/a.mp3", song_id=1,
                                 expires_at=0)  # fmt: skip
            for _ in range(2):  # ffmpeg once, then the cache
                await audio_response(settings, stored, None, song_id=1, expires_at=0,
                                     transcoder=transcoder, format="mp3")  # fmt: skip
            transcoder.ffmpeg = None  # as when none is installed
            with pytest.raises(FfmpegMissingError):
                await transcoder.get(target, 1, "cd" * 32, Plan("opus", 96))
        finally:
            metrics.service_var.reset(token)

    asyncio.run(answers())
    assert stream_count(service, "file") == 1
    assert stream_count(service, "file", "download") == 1
    assert stream_count(service, "accel") == 1
    assert stream_count(service, "redirect") == 1
    assert stream_count(service, "transcode") == 2

    def transcodes(result: str, format: str = "mp3") -> float | None:
        labels = {"service": service, "format": format, "result": result}
        return value("musicplayer_transcodes_total", **labels)

    assert (transcodes("done"), transcodes("cached")) == (1, 1)
    assert transcodes("unavailable", "opus") == 1
    labels = {"service": service, "format": "mp3"}
    assert value("musicplayer_transcode_duration_seconds_count", **labels) == 1


# The Grafana dashboard (deploy/grafana/musicplayer.json) cannot drift from the metrics.

DASHBOARD = Path(__file__).resolve().parents[2] / "deploy" / "grafana" / "musicplayer.json"
METRIC_NAME = re.compile(r"\bmusicplayer_[a-z0-9_]+")
GROUPING = re.compile(r"\bby\s*\(([^)]*)\)")


def dashboard_queries() -> list[str]:
    """Every PromQL expression in the dashboard: panel targets (rows included)
    and template variable queries."""
    dashboard = json.loads(DASHBOARD.read_text())
    queries = []

    def walk(node: object) -> None:
        if isinstance(node, dict):
            for key, item in node.items():
                if key in ("expr", "definition") and isinstance(item, str):
                    queries.append(item)
                else:
                    walk(item)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(dashboard["panels"])
    walk(dashboard["templating"])
    return queries


def test_every_metric_the_dashboard_queries_exists() -> None:
    queries = dashboard_queries()
    assert len(queries) >= 15
    used = {name for query in queries for name in METRIC_NAME.findall(query)}
    assert used, "no musicplayer_ metric in the dashboard"
    assert used - metrics.metric_names() == set()


def test_the_dashboard_shows_every_metric_and_groups_by_real_labels() -> None:
    queries = dashboard_queries()
    used = {name for query in queries for name in METRIC_NAME.findall(query)}
    families = {
        family.name for family in REGISTRY.collect() if family.name.startswith("musicplayer_")
    }
    assert families, "the metrics are not registered"
    for family in families:  # a counter's family is named without `_total`
        samples = {family + suffix for suffix in ("", "_total", "_bucket", "_sum", "_count")}
        assert samples & used, f"{family} is on no panel"
    labels = {"le", "service", "route", "method", "status", "flow", "state", "purpose",
              "kind", "format", "result"}  # fmt: skip
    for query in queries:
        for grouping in GROUPING.findall(query):
            assert {label.strip() for label in grouping.split(",")} <= labels, query


def test_a_json_log_line_survives_what_orjson_refuses() -> None:
    """A file name that is not UTF-8 (os.walk gives it with a lone surrogate) and
    an integer beyond 64 bits: the line is still written, as JSON."""
    formatter = JsonFormatter("song_service")
    name = os.fsdecode(b"/srv/library/bad\xff.mp3")
    record = logging.LogRecord("x", logging.WARNING, __file__, 1, "cannot read %s", (name,), None)
    record.http = {"size": 2**70}
    entry = json.loads(formatter.format(record))
    assert entry["message"].startswith("cannot read /srv/library/bad")
    assert entry["http"] == {"size": 2**70}
