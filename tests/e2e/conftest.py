"""The real fleet, started once per test session for the end-to-end tests."""

from __future__ import annotations

from collections.abc import Generator, Iterator

import pytest

from tests.databases import require_server, scratch_database
from tests.e2e.fleet import Fleet, running_fleet


@pytest.fixture(scope="session", params=["sqlite", "postgresql", "mariadb"])
def fleet(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Fleet]:
    """The five services on each database: SQLite, and every server the run has."""
    data_dir = tmp_path_factory.mktemp(f"fleet-{request.param}")
    if request.param == "sqlite":
        with running_fleet(data_dir) as started:
            yield started
        return
    server = require_server(request.param)
    with (
        scratch_database(server, "e2e") as url,
        running_fleet(data_dir, url.render_as_string(hide_password=False)) as started,
    ):
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
