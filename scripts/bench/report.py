"""The table: one row per measurement, its target, PASS or FAIL; and its JSON.

Each measured row's requests/s is shown as a ratio to the baseline's ("x base") and
to the reference app's ("x ref": its page for the pages, scenarios.PAGES, its
GET /songs/{id} for everything else)."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from scripts.bench.scenarios import PAGES, REFERENCE_TARGET_DATABASES, Scenario
from scripts.bench.wrk import WrkResult

HEALTH_P99_MS = 50.0
# A like's p99 during a search flood may be at most this many times its quiet p99.
FLOOD_P99_FACTOR = 5.0
RSS_LIMIT_MB = 90.0
MIN_GROWTH = 1.6
HEADER = ("db", "scenario", "conns", "req/s", "p50 ms", "p99 ms", "errors", "x base",
          "x ref", "target", "result")  # fmt: skip


@dataclass(frozen=True)
class Reference:
    """The reference app's requests/s in this run, on this database."""

    by_id_rps: float
    page_rps: float

    def ratio(self, scenario_key: str, requests_per_second: float) -> float | None:
        """`requests_per_second` of scenario `scenario_key` over the reference's of
        its kind; None when the reference answered nothing."""
        reference = self.page_rps if scenario_key in PAGES else self.by_id_rps
        return requests_per_second / reference if reference else None


@dataclass
class Row:
    database: str
    key: str
    label: str
    connections: int | None = None
    requests: int | None = None
    requests_per_second: float | None = None
    p50_ms: float | None = None
    p99_ms: float | None = None
    errors: int | None = None
    error_detail: dict[str, int] | None = None
    ratio: float | None = None
    reference_ratio: float | None = None  # see Reference.ratio
    # A row measured in something else than requests (scripts/bench/media.py):
    # MB/s, files/s, MB; its target text says it too.
    value: float | None = None
    unit: str | None = None
    counts: dict[str, int] | None = None  # a library scan's files_seen, added, ...
    target: str = "0 errors"
    passed: bool = True

    def cells(self) -> list[str]:
        def number(value: float | None, digits: int) -> str:
            return "-" if value is None else f"{value:,.{digits}f}"

        return [self.database, self.label,
                "-" if self.connections is None else str(self.connections),
                number(self.requests_per_second, 0), number(self.p50_ms, 1),
                number(self.p99_ms, 1), "-" if self.errors is None else str(self.errors),
                number(self.ratio, 2), number(self.reference_ratio, 2),
                self.target, "PASS" if self.passed else "FAIL"]  # fmt: skip


def measured(
    database: str,
    scenario: Scenario,
    connections: int,
    result: WrkResult,
    baseline_rps: float,
    label: str | None = None,
    *,
    reference: Reference | None = None,
) -> Row:
    """A wrk result; PASS needs no errors, and the scenario's ratio when it has a
    target: to the reference on REFERENCE_TARGET_DATABASES when it has one there,
    else to the baseline."""
    ratio = result.requests_per_second / baseline_rps if baseline_rps else 0.0
    reference_ratio = (
        None if reference is None else reference.ratio(scenario.key, result.requests_per_second)
    )
    row = Row(
        database=database,
        key=scenario.key,
        label=label or scenario.label,
        connections=connections,
        requests=result.requests,
        requests_per_second=result.requests_per_second,
        p50_ms=result.p50_ms,
        p99_ms=result.p99_ms,
        errors=result.errors,
        error_detail=result.error_detail,
        ratio=ratio,
        reference_ratio=reference_ratio,
        passed=result.errors == 0 and result.requests > 0,
    )
    targets = []
    minimum = scenario.min_reference_ratio
    if minimum is not None and reference is not None and database in REFERENCE_TARGET_DATABASES:
        # Where the reference is the target, it replaces the baseline's.
        targets.append(f">= {minimum:.2f}x ref")
        row.passed = row.passed and reference_ratio is not None and reference_ratio >= minimum
    elif scenario.min_ratio is not None:
        targets.append(f">= {scenario.min_ratio:.2f}x base")
        row.passed = row.passed and ratio >= scenario.min_ratio
    if targets:
        row.target = ", ".join([*targets, "0 errors"])
    return row


def health_target(row: Row) -> Row:
    row.target = f"p99 <= {HEALTH_P99_MS:.0f} ms, 0 errors"
    row.passed = row.passed and row.p99_ms is not None and row.p99_ms <= HEALTH_P99_MS
    return row


def flood_target(row: Row, quiet: Row) -> Row:
    """The likes measured during the search flood, judged against the quiet likes."""
    limit = (quiet.p99_ms or 0.0) * FLOOD_P99_FACTOR
    row.target = f"p99 <= {FLOOD_P99_FACTOR:.0f}x quiet ({limit:.1f} ms), 0 errors"
    row.passed = row.passed and row.p99_ms is not None and row.p99_ms <= limit
    return row


def growth_target(row: Row, single_worker: Row) -> Row:
    """The WORKERS=2 row of a read scenario, judged by its growth over one worker."""
    one = single_worker.requests_per_second or 0.0
    growth = (row.requests_per_second or 0.0) / one if one else 0.0
    row.target = f"growth {growth:.2f}x >= {MIN_GROWTH}x, 0 errors"
    # Judged by growth alone: the single-worker row already holds the ratio target.
    row.passed = row.errors == 0 and growth >= MIN_GROWTH
    return row


def memory(database: str, service: str, megabytes: float) -> Row:
    return Row(
        database=database,
        key=f"rss_{service}",
        label=f"idle RSS {service}_service",
        target=f"{megabytes:.0f} MB <= {RSS_LIMIT_MB:.0f} MB",
        passed=megabytes <= RSS_LIMIT_MB,
    )


def table(rows: list[Row]) -> str:
    """A Markdown table, so that it can be pasted into the README as it is."""
    lines = [HEADER, *(row.cells() for row in rows)]
    widths = [max(len(line[i]) for line in lines) for i in range(len(HEADER))]
    right = {2, 3, 4, 5, 6, 7, 8}

    def render(cells: list[str] | tuple[str, ...]) -> str:
        padded = [c.rjust(w) if i in right else c.ljust(w)
                  for i, (c, w) in enumerate(zip(cells, widths, strict=True))]  # fmt: skip
        return "| " + " | ".join(padded) + " |"

    rule = "|" + "|".join(("-" * (w + 1) + ":" if i in right else "-" * (w + 2))
                          for i, w in enumerate(widths)) + "|"  # fmt: skip
    return "\n".join([render(HEADER), rule, *(render(cells) for cells in lines[1:])])


def summary(rows: list[Row]) -> str:
    failed = [f"{row.database}: {row.label}" for row in rows if not row.passed]
    if not failed:
        return f"all {len(rows)} rows PASS"
    return f"{len(rows) - len(failed)} of {len(rows)} rows PASS; FAIL: " + "; ".join(failed)


def as_json(rows: list[Row]) -> list[dict[str, object]]:
    return [asdict(row) for row in rows]
