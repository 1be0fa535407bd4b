"""The fleet's Prometheus metrics (prometheus-client), defined once for every
service and served at `GET /metrics` (common.app).

Every series carries a `service` label ("song_service", ...): the metrics are
module-level, so several apps in one process (the tests) still say which app a
series belongs to. Label values are bounded: route templates
(`/songs/{song_id}`, never the raw path; UNMATCHED when no route matched), a
fixed set of methods (OTHER_METHOD for the rest), status codes, and small enums
chosen by our code. No ids, no user input.

Several worker processes (common.server `--workers N`) share one folder,
PROMETHEUS_MULTIPROC_DIR, made fresh for each run by common.server before the
workers start: every process writes its values to memory-mapped files there,
and a scrape, answered by whichever worker the kernel picks, sums them all
(prometheus_client.multiprocess). Gauges say how: the in-flight and pool gauges
are `livesum`, the sum over the workers alive (common.server removes a dead
worker's files). Without the folder (one worker) the values live in the
process. prometheus-client decides which at its import, so the folder must be
in the environment before anything imports this module: common.server sets it
before the app is loaded.

Recording a request (common.middleware) costs a dict lookup and three
lock-protected increments; see `RequestMetrics`.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterable, Mapping
from contextvars import ContextVar
from typing import Any

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client import disable_created_metrics as _disable_created_metrics
from prometheus_client.exposition import choose_encoder
from sqlalchemy import event
from sqlalchemy.pool import Pool, QueuePool

MULTIPROCESS_DIR_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"
# Decided once, as prometheus-client decides where values live at its import.
MULTIPROCESS = bool(os.environ.get(MULTIPROCESS_DIR_VARIABLE))

# The `route` of a request no route matched (a 404, a body refused before
# routing): the raw path is user input and would make a series per URL.
UNMATCHED = "unmatched"
# Methods labelled as themselves; anything else a client invents is OTHER_METHOD.
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
OTHER_METHOD = "other"
# Seconds. A point read takes ~0.2 ms, a login (bcrypt) ~0.25 s, a stream of a
# whole file seconds; the buckets cover all three with p50/p95/p99 resolution.
LATENCY_BUCKETS = (
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
)  # fmt: skip
# Seconds an ffmpeg run takes: about a second for a song, up to media.transcode's
# 600 s timeout.
TRANSCODE_BUCKETS = (0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0)

# `<name>_created` series double the count of series for a timestamp nobody
# graphs; multiprocess mode never exports them, so one process does not either.
_disable_created_metrics()

# --- HTTP (common.middleware) -------------------------------------------------
HTTP_REQUESTS = Counter(
    "musicplayer_http_requests",
    "HTTP requests answered, by route template, method and status",
    ["service", "route", "method", "status"],
)
HTTP_REQUEST_DURATION = Histogram(
    "musicplayer_http_request_duration_seconds",
    "Time from a request's arrival to the end of its answer, in seconds",
    ["service", "route", "method"],
    buckets=LATENCY_BUCKETS,
)
HTTP_IN_FLIGHT = Gauge(
    "musicplayer_http_requests_in_flight",
    "Requests being answered now",
    ["service"],
    multiprocess_mode="livesum",
)

# --- Database pools (install_pool_metrics) -------------------------------------
DB_POOL_CHECKED_OUT = Gauge(
    "musicplayer_db_pool_checked_out_connections",
    "Database connections checked out of the service's pools now",
    ["service"],
    multiprocess_mode="livesum",
)
DB_POOL_OVERFLOW = Gauge(
    "musicplayer_db_pool_overflow_connections",
    "Connections checked out beyond their pool's size now (always 0 on a server "
    "database, whose pools allow no overflow)",
    ["service"],
    multiprocess_mode="livesum",
)

# --- Logins (auth_service) ------------------------------------------------------
# `flow`: "login" (POST /auth/login, /auth/token) or "subsonic" (the exchange of
# an API key or app password, auth_service.services.third_party).
LOGIN_FAILURES = Counter(
    "musicplayer_login_failures",
    "Failed logins the login throttle recorded",
    ["service", "flow"],
)
LOGIN_THROTTLED = Counter(
    "musicplayer_login_throttled",
    "Login attempts the login throttle refused with 429",
    ["service", "flow"],
)

# --- Library scans (song_service) -------------------------------------------------
SCANS_STARTED = Counter("musicplayer_library_scans_started", "Library scans started", ["service"])
SCANS_FINISHED = Counter(
    "musicplayer_library_scans_finished",
    "Library scans finished, by final state (done, failed)",
    ["service", "state"],
)
SCAN_FILES_SEEN = Counter(
    "musicplayer_library_scan_files_seen", "Audio files library scans looked at", ["service"]
)

# --- Streams and transcodes (media.serve, media.transcode) -------------------------
STREAM_KINDS = ("file", "accel", "redirect", "transcode")
STREAMS = Counter(
    "musicplayer_streams",
    "Audio answers (stream, download) by how the bytes go out: file (sent by the "
    "service), accel (X-Accel-Redirect to the gateway), redirect (a remote file_url), "
    "transcode (ffmpeg's output)",
    ["service", "purpose", "kind"],
)
# `result`: done, failed (ffmpeg could not), cached (no ffmpeg needed), busy (429),
# unavailable (no ffmpeg installed, 501).
TRANSCODES = Counter(
    "musicplayer_transcodes", "Transcode requests by result", ["service", "format", "result"]
)
TRANSCODE_DURATION = Histogram(
    "musicplayer_transcode_duration_seconds",
    "Time an ffmpeg run took, in seconds",
    ["service", "format"],
    buckets=TRANSCODE_BUCKETS,
)

# --- Which service ---------------------------------------------------------------
# Set by common.middleware for each request, so code shared by services (media.*)
# labels its series with the app that called it; `_process_service` (the app this
# process built last: in production the only one) covers code outside a request.
service_var: ContextVar[str | None] = ContextVar("musicplayer_service", default=None)
_process_service = "unknown"


def current_service() -> str:
    """The service the running code works for (see `service_var`)."""
    return service_var.get() or _process_service


def serve_as(service: str) -> None:
    """Called by common.app for each app it builds; installs the pool listeners."""
    global _process_service
    _process_service = service
    install_pool_metrics()
    # Series at 0 from the start, so that the dashboard has them before the first
    # checkout (a gauge never set is no series at all).
    _pool_gauges(service)


def route_label(scope: dict[str, Any], endpoint_paths: Mapping[Any, str]) -> str:
    """The matched route's template (`/songs/{song_id}`), or UNMATCHED: never the raw
    path. FastAPI's routes leave themselves in `scope["route"]`; Starlette's own
    (`/metrics`, the docs pages, a Mount such as the web player's) only their
    `scope["endpoint"]`, which `endpoint_paths` (endpoint_paths_of) turns into
    their path."""
    path = getattr(scope.get("route"), "path", None)
    if isinstance(path, str):
        return path
    endpoint = scope.get("endpoint")
    found = endpoint_paths.get(endpoint) if endpoint is not None else None
    return found if found is not None else UNMATCHED


def endpoint_paths_of(routes: Iterable[Any]) -> dict[Any, str]:
    """Each route's endpoint (a Mount's app) to its path template, for route_label."""
    paths: dict[Any, str] = {}
    for route in routes:
        endpoint = getattr(route, "endpoint", None) or getattr(route, "app", None)
        path = getattr(route, "path", None)
        if endpoint is not None and isinstance(path, str):
            paths.setdefault(endpoint, path)
    return paths


def method_label(method: str) -> str:
    return method if method in METHODS else OTHER_METHOD


class RequestMetrics:
    """The request series of one service, with the label children cached: a
    `labels()` call hashes and locks (~1 us), a dict lookup is ~50 ns. The cache is
    bounded like the labels: routes x methods x statuses."""

    def __init__(self, service: str) -> None:
        self.service = service
        self.in_flight = HTTP_IN_FLIGHT.labels(service)
        self._children: dict[tuple[str, str, int], tuple[Any, Any]] = {}

    def observe(self, route: str, method: str, status: int, seconds: float) -> None:
        """Count one answered request and its duration (seconds)."""
        key = (route, method, status)
        children = self._children.get(key)
        if children is None:
            label = method_label(method)
            children = self._children[key] = (
                HTTP_REQUESTS.labels(self.service, route, label, str(status)),
                HTTP_REQUEST_DURATION.labels(self.service, route, label),
            )
        children[0].inc()
        children[1].observe(seconds)


# --- Database pools ----------------------------------------------------------------
_RECORD_KEY = "musicplayer_metrics"
_pool_lock = threading.Lock()
_pool_listening = False
# service -> (checked-out child, overflow child): `labels()` costs ~1 us a call.
_pool_children: dict[str, tuple[Any, Any]] = {}


def install_pool_metrics() -> None:
    """Listen to every SQLAlchemy pool's checkouts and check-ins (once per process).

    Counted from events, not read at scrape time: a scrape reaches one worker,
    which could only read its own pools. Each worker keeps its own gauges exact
    (livesum adds them up). Pool events run once per checkout, never per
    statement (unlike connection events, see database.engine._begin_with). What
    a checkout counted is kept on the connection's record, so its check-in
    (perhaps of a garbage-collected connection, outside any request) undoes
    exactly that, and a failed checkout's return undoes nothing."""
    global _pool_listening
    with _pool_lock:
        if _pool_listening:
            return
        _pool_listening = True
    event.listen(Pool, "checkout", _on_checkout)
    event.listen(Pool, "checkin", _on_return)
    # A detached connection leaves its pool without a check-in.
    event.listen(Pool, "detach", _on_return)


def _pool_gauges(service: str) -> tuple[Any, Any]:
    children = _pool_children.get(service)
    if children is None:
        children = (DB_POOL_CHECKED_OUT.labels(service), DB_POOL_OVERFLOW.labels(service))
        _pool_children[service] = children
    return children


def _on_checkout(_dbapi_connection: Any, record: Any, proxy: Any) -> None:
    service = service_var.get() or _process_service
    pool = getattr(proxy, "_pool", None)
    # The pool's own count already includes this connection: beyond the pool's
    # size, it is an overflow connection (never, with max_overflow=0: the servers').
    overflow = isinstance(pool, QueuePool) and pool.checkedout() > pool.size()
    record.record_info[_RECORD_KEY] = (service, overflow)
    checked_out, overflowing = _pool_gauges(service)
    checked_out.inc()
    if overflow:
        overflowing.inc()


def _on_return(_dbapi_connection: Any, record: Any) -> None:
    info = record.record_info
    counted = info.pop(_RECORD_KEY, None) if info is not None else None
    if counted is None:  # a failed checkout's return: it was never counted
        return
    service, overflow = counted
    checked_out, overflowing = _pool_gauges(service)
    checked_out.dec()
    if overflow:
        overflowing.dec()


# --- Exposition ----------------------------------------------------------------------
def exposition(accept: str | None) -> tuple[bytes, str]:
    """The metrics as (body, Content-Type), in the format `accept` asks for
    (Prometheus' text format by default, OpenMetrics when asked): every
    worker's values in multiprocess mode, this process's otherwise."""
    encoder, content_type = choose_encoder(accept or "")
    if MULTIPROCESS:
        from prometheus_client.multiprocess import MultiProcessCollector

        registry = CollectorRegistry()
        MultiProcessCollector(registry)
        return encoder(registry), content_type
    return encoder(REGISTRY), content_type


def metric_names() -> set[str]:
    """Every sample name the metrics above expose (`..._total`, `..._bucket`,
    `..._sum`, `..._count`, a gauge's own): what a dashboard may query."""
    suffixes = {
        "counter": ("_total",),
        "histogram": ("_bucket", "_sum", "_count"),
        "gauge": ("",),
    }
    names = set()
    for value in globals().values():
        if isinstance(value, Counter | Gauge | Histogram):
            base = value._name  # the family name, without `_total` for a counter
            names.update(base + suffix for suffix in suffixes[value._type])
    return names
