"""The table: one row per measurement, its target, PASS or FAIL; and its JSON."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from scripts.bench.scenarios import Scenario
from scripts.bench.wrk import WrkResult

HEALTH_P99_MS = 50.0
# A like's p99 during a search flood may be at most this many times its quiet p99.
FLOOD_P99_FACTOR = 5.0
RSS_LIMIT_MB = 90.0
MIN_GROWTH = 1.6
HEADER = ("db", "scenario", "conns", "req/s", "p50 ms", "p99 ms", "errors", "x base",
          "target", "result")  # fmt: skip


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
    target: str = "0 errors"
    passed: bool = True

    def cells(self) -> list[str]:
        def number(value: float | None, digits: int) -> str:
            return "-" if value is None else f"{value:,.{digits}f}"

        return [self.database, self.label,
                "-" if self.connections is None else str(self.connections),
                number(self.requests_per_second, 0), number(self.p50_ms, 1),
                number(self.p99_ms, 1), "-" if self.errors is None else str(self.errors),
                "-" if self.ratio is None else f"{self.ratio:.2f}",
                self.target, "PASS" if self.passed else "FAIL"]  # fmt: skip


def measured(
    database: str,
    scenario: Scenario,
    connections: int,
    result: WrkResult,
    baseline_rps: float,
    label: str | None = None,
) -> Row:
    """A wrk result; PASS needs no errors, and the scenario's ratio when it has one."""
    ratio = result.requests_per_second / baseline_rps if baseline_rps else 0.0
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
        passed=result.errors == 0 and result.requests > 0,
    )
    if scenario.min_ratio is not None:
        row.target = f">= {scenario.min_ratio:.2f}x base, 0 errors"
        row.passed = row.passed and ratio >= scenario.min_ratio
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
    right = {2, 3, 4, 5, 6, 7}

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
