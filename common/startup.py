"""Start-up problems said in one line: what is wrong and what to do about it.

The setup steps (`python -m common.keys`, `python -m user_service.admin`,
`python -m database migrate`) print the line and exit non-zero. A service's
start-up hook logs it and exits (`explained`); uvicorn would then log the
traceback of that exit, which adds nothing, so common.logging leaves it out.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

R = TypeVar("R")

# uvicorn's own exit status for a failed start-up.
STARTUP_FAILURE = 3


class StartupError(Exception):
    """A start-up problem whose message (one line) names the cause and the fix."""


@contextmanager
def explained(logger: logging.Logger) -> Iterator[None]:
    """Inside a start-up hook: a StartupError becomes one logged line and an exit."""
    try:
        yield
    except StartupError as exc:
        logger.error("%s", exc)
        raise SystemExit(STARTUP_FAILURE) from None


def run_step(step: Callable[[], R], describe: Callable[[BaseException], str | None]) -> R:
    """Run a command-line setup step; a StartupError, or an error `describe` can
    explain, is printed as one line on stderr and exits with status 1."""
    try:
        return step()
    except StartupError as exc:
        print(exc, file=sys.stderr)
    except Exception as exc:
        line = describe(exc)
        if line is None:
            raise
        print(line, file=sys.stderr)
    raise SystemExit(1)
