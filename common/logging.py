"""Logging with the request id in every line, configured once per process:
text for people (LOG_FORMAT=text, the default) or one JSON object per line for
log collectors (LOG_FORMAT=json, JsonFormatter)."""

from __future__ import annotations

import json
import logging
import sys
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any, Literal

import orjson

from common.startup import STARTUP_FAILURE

request_id_var: ContextVar[str] = ContextVar("request_id", default="-")


class ExplainedExitFilter(logging.Filter):
    """A start-up hook that explained its failure in one line exits (common.startup);
    uvicorn then logs the traceback of that exit, which says nothing more."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name != "uvicorn.error" or not isinstance(record.msg, str):
            return True
        text = record.msg.rstrip()
        return not (
            text.startswith("Traceback") and text.endswith(f"SystemExit: {STARTUP_FAILURE}")
        )


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id_var.get()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per record, on one line (newlines in a message or a
    traceback are escaped inside its strings):

        {"time": "2026-01-31T12:00:00.123456+00:00", "level": "INFO",
         "logger": "musicplayer.access", "message": "...", "service": "song_service",
         "process": 1234, "request_id": "..." | null, "exception": "Traceback ..."}

    `time` is UTC, ISO 8601; `request_id` null outside a request; `exception`
    only when the record carries one (`stack` likewise for stack_info). An access
    line adds `http`: client, method, path, route, status, duration_ms
    (common.middleware)."""

    def __init__(self, service: str) -> None:
        super().__init__()
        self.service = service

    def format(self, record: logging.LogRecord) -> str:
        request_id = getattr(record, "request_id", "-")
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "service": self.service,
            "process": record.process,
            "request_id": None if request_id == "-" else request_id,
        }
        http = getattr(record, "http", None)
        if http is not None:
            entry["http"] = http
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            entry["exception"] = record.exc_text
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        # default=str: an odd object in `http` or the message's args never loses
        # the line. orjson refuses what JSON can carry but it cannot: a lone
        # surrogate (a file name that is not UTF-8, from os.walk) or an integer
        # beyond 64 bits; the standard library writes those (escaped).
        try:
            return orjson.dumps(entry, default=str).decode()
        except (TypeError, orjson.JSONEncodeError):
            return json.dumps(entry, default=str)


def configure_logging(
    service: str, level: str = "INFO", log_format: Literal["text", "json"] = "text"
) -> None:
    """Send every logger's records to stdout, as text or JSON (`log_format`), with
    the request id; called by each app (common.app) and by the server process
    that supervises several workers (common.server)."""
    handler = logging.StreamHandler(sys.stdout)
    handler.addFilter(RequestIdFilter())
    handler.addFilter(ExplainedExitFilter())
    if log_format == "json":
        handler.setFormatter(JsonFormatter(service))
    else:
        handler.setFormatter(
            logging.Formatter(
                f"%(asctime)s %(levelname)s {service}[%(process)d] [%(request_id)s] "
                "%(name)s: %(message)s"
            )
        )
    # Python's warnings go through logging too, else they are plain stderr lines
    # in a JSON log.
    logging.captureWarnings(log_format == "json")
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # Our middleware writes one access line per request, with its request id;
    # uvicorn's own access log would repeat it without one.
    logging.getLogger("uvicorn.access").disabled = True
    for name in ("uvicorn", "uvicorn.error"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True
    # uvicorn's few lifecycle lines (server started, startup complete, shutting
    # down) are kept under a quieter LOG_LEVEL too: without them the log of a
    # service that never became ready says nothing about how far it got.
    logging.getLogger("uvicorn.error").setLevel(min(logging.INFO, root.level))
