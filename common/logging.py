"""Logging with the request id in every line, configured once per process."""

from __future__ import annotations

import logging
import sys
from contextvars import ContextVar

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


def configure_logging(service: str, level: str = "INFO") -> None:
    handler = logging.StreamHandler(sys.stdout)
    handler.addFilter(RequestIdFilter())
    handler.addFilter(ExplainedExitFilter())
    handler.setFormatter(
        logging.Formatter(
            f"%(asctime)s %(levelname)s {service}[%(process)d] [%(request_id)s] "
            "%(name)s: %(message)s"
        )
    )
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
