"""The real fleet, started once per test session for the end-to-end tests."""

from __future__ import annotations

from collections.abc import Generator, Iterator

import pytest

from tests.e2e.fleet import Fleet, running_fleet


@pytest.fixture(scope="session")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fleet]:
    with running_fleet(tmp_path_factory.mktemp("fleet")) as started:
        yield started


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Attach the services' logs to a failing end-to-end test's report."""
    report = yield
    fleet = getattr(item, "funcargs", {}).get("fleet")
    if report.when == "call" and report.failed and isinstance(fleet, Fleet):
        report.sections.append(("fleet logs", fleet.log_text()))
    return report
