"""The Markdown report of one backend's run: medians, ratios, ceilings and the checks behind them."""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field

from .loadgen import RunResult
from .workloads import Workload


@dataclass(frozen=True)
class Summary:
    """Medians of repeated runs (each figure its own median)."""

    rate: float
    p50_ms: float
    p99_ms: float
    status_errors: int
    socket_errors: int
    precondition_failed: int
    sub_failures: int
    empty_answers: int
    generator_cpu: float
    server_cpu: float
    database_cpu: float
    other_cpu: float
    failed_statuses: dict[int, int]  # non-2xx answers by status, summed over runs (counted workloads only)
    runs: int
    probe_ms: float = 0.0  # the slowest CPU speed probe of the runs (``loadgen.cpu_probe``)


def failed_statuses(runs: list[RunResult]) -> dict[int, int]:
    totals: dict[int, int] = {}
    for run in runs:
        for status, count in run.statuses.items():
            if not 200 <= status < 400:
                totals[status] = totals.get(status, 0) + count
    return dict(sorted(totals.items()))


def summarize(runs: list[RunResult]) -> Summary:
    def median(values: list[float]) -> float:
        return statistics.median(values)

    return Summary(
        rate=median([run.rate for run in runs]),
        p50_ms=median([run.p50_ms for run in runs]),
        p99_ms=median([run.p99_ms for run in runs]),
        status_errors=sum(run.status_errors for run in runs),
        socket_errors=sum(run.socket_errors for run in runs),
        precondition_failed=sum(run.precondition_failed for run in runs),
        sub_failures=sum(run.sub_failures for run in runs),
        empty_answers=sum(run.empty_answers for run in runs),
        generator_cpu=max(run.generator_cpu for run in runs),
        server_cpu=median([run.server_cpu for run in runs]),
        database_cpu=median([run.database_cpu for run in runs]),
        other_cpu=median([run.other_cpu for run in runs]),
        failed_statuses=failed_statuses(runs),
        runs=len(runs),
        probe_ms=max(run.probe_ms for run in runs),
    )


@dataclass(frozen=True)
class ServerColumn:
    key: str
    short: str  # column title: "Kinto", "ours"
    label: str  # e.g. "Kinto 26.5.0 (memory backend)"


@dataclass
class BackendReport:
    """Everything measured for one backend in one run."""

    backend: str
    date: str
    header: list[str]
    servers: list[ServerColumn]
    workloads: list[Workload]
    server_kind: str = "granian"  # the WSGI server every application ran under
    runs: dict[tuple[str, str], list[RunResult]] = field(default_factory=dict)
    ceilings: dict[str, tuple[str, list[RunResult]]] = field(default_factory=dict)  # key -> (label, runs)
    database: list[dict] = field(default_factory=list)  # pg_ceiling outputs
    database_clients: int = 0
    notes: list[str] = field(default_factory=list)

    def summary(self, server: str, workload: str) -> Summary | None:
        runs = self.runs.get((server, workload))
        return summarize(runs) if runs else None

    def database_rate(self, operation: str) -> float | None:
        if not self.database:
            return None
        return statistics.median(run[operation]["rate"] for run in self.database)

    def ceiling(self, workload: Workload) -> tuple[float, str] | None:
        """The lowest limit that applies: the empty Cornice service, and for PostgreSQL the raw DB rate."""
        candidates = []
        if "cornice" in self.ceilings:
            candidates.append((summarize(self.ceilings["cornice"][1]).rate, "Cornice"))
        if workload.database_operation and self.database:
            operation, count = workload.database_operation
            rate = self.database_rate(operation)
            if rate:
                label = f"PG {operation}" + (f" ÷{count}" if count > 1 else "")
                candidates.append((rate / count, label))
        return min(candidates) if candidates else None


def number(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:,.0f}" if value >= 100 else f"{value:,.1f}"


def milliseconds(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:.1f}" if value >= 10 else f"{value:.2f}"


def percent(value: float | None) -> str:
    return "-" if value is None else f"{value * 100:.0f}%"


def table(headers: list[str], rows: list[list[str]]) -> list[str]:
    lines = [
        "| " + " | ".join(headers) + " |",
        "|" + "|".join("---" if i == 0 else "--:" for i in range(len(headers))) + "|",
    ]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return lines


def main_table(report: BackendReport) -> list[str]:
    """One row per workload: each server's medians, the ratio of the second to the first, the ceiling."""
    headers = ["workload"]
    for server in report.servers:
        headers += [f"{server.short} req/s", f"{server.short} p50 ms", f"{server.short} p99 ms"]
    compared = len(report.servers) >= 2
    if compared:
        headers.append(f"{report.servers[1].short}/{report.servers[0].short}")
    headers += ["ceiling req/s"] + [f"{server.short} % of ceiling" for server in report.servers]
    rows = []
    for workload in report.workloads:
        summaries = [report.summary(server.key, workload.name) for server in report.servers]
        row = [f"`{workload.name}`"]
        for summary in summaries:
            row += [
                number(summary and summary.rate),
                milliseconds(summary and summary.p50_ms),
                milliseconds(summary and summary.p99_ms),
            ]
        if compared:
            first, second = summaries[0], summaries[1]
            row.append(f"{second.rate / first.rate:.2f}x" if first and second and first.rate else "-")
        ceiling = report.ceiling(workload)
        row.append(f"{number(ceiling[0])} ({ceiling[1]})" if ceiling else "-")
        for summary in summaries:
            row.append(percent(summary.rate / ceiling[0]) if summary and ceiling else "-")
        rows.append(row)
    return table(headers, rows)


def ceiling_table(report: BackendReport) -> list[str]:
    rows = []
    for label, runs in report.ceilings.values():
        summary = summarize(runs)
        rows.append(
            [
                label,
                number(summary.rate),
                milliseconds(summary.p50_ms),
                milliseconds(summary.p99_ms),
                percent(summary.generator_cpu),
                percent(summary.server_cpu),
                percent(summary.other_cpu),
            ]
        )
    for operation in ("insert", "select"):
        if report.database:
            rows.append(
                [
                    f"PostgreSQL {operation} (psycopg, {report.database_clients} connections, one row per statement, autocommit)",
                    number(report.database_rate(operation)),
                    milliseconds(statistics.median(run[operation]["p50_ms"] for run in report.database)),
                    milliseconds(statistics.median(run[operation]["p99_ms"] for run in report.database)),
                    "-",
                    "-",
                    "-",
                ]
            )
    return table(
        ["ceiling", "req/s (ops/s)", "p50 ms", "p99 ms", "wrk CPU (max)", "server CPU", "others on server CPU"], rows
    )


def describe_statuses(statuses: dict[int, int]) -> str:
    if not statuses:
        return ""
    return " (" + ", ".join(f"{count}x {status}" for status, count in statuses.items()) + ")"


def all_runs(report: BackendReport) -> list[RunResult]:
    return [run for runs in report.runs.values() for run in runs] + [
        run for _, runs in report.ceilings.values() for run in runs
    ]


def fastest_probe(report: BackendReport) -> float:
    return min((run.probe_ms for run in all_runs(report) if run.probe_ms), default=0.0)


def details_table(report: BackendReport) -> list[str]:
    with_database = report.backend == "postgresql"
    fastest = fastest_probe(report)
    headers = ["workload"]
    for server in report.servers:
        headers.append(f"{server.short} server CPU")
        if with_database:
            headers.append(f"{server.short} PostgreSQL CPU")
        headers += [
            f"{server.short} CPU speed (slowest run)",
            f"{server.short} others on its CPU",
            f"{server.short} wrk CPU (max)",
            f"{server.short} non-2xx",
            f"{server.short} 412s / failed sub-requests / empty deletes",
        ]
    rows = []
    for workload in report.workloads:
        row = [f"`{workload.name}`"]
        for server in report.servers:
            summary = report.summary(server.key, workload.name)
            if summary is None:
                row += ["-"] * (7 if with_database else 6)
                continue
            errors = summary.status_errors + summary.socket_errors
            row.append(percent(summary.server_cpu))
            if with_database:
                row.append(percent(summary.database_cpu))
            row += [
                percent(fastest / summary.probe_ms) if summary.probe_ms else "-",
                percent(summary.other_cpu),
                percent(summary.generator_cpu),
                str(errors) + describe_statuses(summary.failed_statuses),
                f"{summary.precondition_failed} / {summary.sub_failures} / {summary.empty_answers}",
            ]
        rows.append(row)
    return table(headers, rows)


def generator_check(report: BackendReport) -> str:
    """Whether wrk could have been the limit: its CPU use, and how far the empty app goes beyond the servers."""
    kept = all_runs(report)
    if not kept:
        return "No run."
    busiest = max(run.generator_cpu for run in kept)
    fastest_server = max((summarize(runs).rate for runs in report.runs.values()), default=0.0)
    raw = report.ceilings.get("raw")
    text = f"wrk used at most {busiest * 100:.0f}% of its CPU in any run"
    if raw:
        raw_rate = summarize(raw[1]).rate
        text += (
            f"; against the raw WSGI callable it drove {number(raw_rate)} req/s, "
            f"{raw_rate / fastest_server:.1f}x the fastest server line"
            if fastest_server
            else ""
        )
    verdict = "so the generator was not the limit" if busiest < 0.9 else "so wrk may be the limit of the fastest lines"
    return f"{text}: {verdict}."


def contention_check(report: BackendReport) -> str:
    """How many runs had to be measured again because other jobs of the machine took the server CPU."""
    runs = all_runs(report)
    retried = sum(run.retried for run in runs)
    worst = max((run.other_cpu for run in runs), default=0.0)
    return (
        f"{retried} measurement(s) were repeated because other jobs of this shared machine took more of the server "
        f"CPU than allowed, or because that CPU ran slow (see CPU speed); in the runs kept, other jobs took at most "
        f"{worst * 100:.0f}% of it."
    )


def speed_check(report: BackendReport) -> str:
    """How fast the server CPU ran during the runs kept, against the fastest probe of this report."""
    fastest = fastest_probe(report)
    probes = [run.probe_ms for run in all_runs(report) if run.probe_ms]
    if not probes:
        return "No CPU speed probe."
    slowest = fastest / max(probes)
    return (
        f"a fixed pure-Python loop, timed on the server CPU just before and after each run, took "
        f"{fastest:.0f} ms at best; the runs kept ran at {slowest * 100:.0f}% of that speed or better (a run "
        "below the `--min-cpu-speed` share of the invocation's fastest probe is measured again, counted above)."
    )


def render(report: BackendReport) -> str:
    lines = [f"# HTTP benchmark: {report.backend} backend under {report.server_kind}, {report.date}", ""]
    lines += [f"- {line}" for line in report.header]
    lines += ["", *main_table(report), ""]
    lines += [
        (
            f"Ceiling: the lowest limit that applies to the workload: the empty Cornice service on the same "
            f"{report.server_kind} settings, and on PostgreSQL the raw psycopg rate of the same statements (inserts ÷ records written "
            "per request, selects for single-record reads)."
        ),
        "",
    ]
    lines += [f"## Ceilings (same run, same {report.server_kind} settings, `GET /`)", "", *ceiling_table(report), ""]
    lines += ["## Workloads", ""]
    lines += [f"- `{workload.name}`: {workload.description}" for workload in report.workloads]
    lines += ["", "## Checks", "", f"- Generator: {generator_check(report)}"]
    lines += [f"- {note}" for note in report.notes]
    lines.append(f"- Contention: {contention_check(report)}")
    lines.append(f"- CPU speed: {speed_check(report)}")
    lines += [
        "",
        (
            "Per-run details (CPU time over wall time, medians: server CPU for the server's processes, PostgreSQL "
            "CPU for the PostgreSQL backends serving the run's databases (on any CPU), others for what other jobs "
            "of this shared machine ran on the "
            "server's CPU meanwhile; CPU speed for the slowest probe of the runs against the report's fastest; "
            "failures are totals over all runs; non-2xx answers are broken down by status on the write workloads; "
            "412s are the PATCH precondition failures, failed sub-requests those inside 200 batch answers, empty "
            "deletes the plural DELETEs that found no record left to delete):"
        ),
        "",
        *details_table(report),
        "",
    ]
    return "\n".join(lines)


def ratio_cell(report: BackendReport, workload: str) -> str:
    """``ours/Kinto`` requests per second, then both p99s: "2.10x (p99 7.1 / 3.2 ms)"."""
    if len(report.servers) < 2:
        return "-"
    first, second = (report.summary(server.key, workload) for server in report.servers[:2])
    if not first or not second or not first.rate:
        return "-"
    return f"{second.rate / first.rate:.2f}x (p99 {milliseconds(first.p99_ms)} / {milliseconds(second.p99_ms)} ms)"


def render_side_by_side(reports: list[BackendReport], command: str) -> str:
    """One table of every backend and server kind of a run (ratios and p99s), then each report in full."""
    columns = [f"{report.backend}, {report.server_kind}" for report in reports]
    names = list(dict.fromkeys(workload.name for report in reports for workload in report.workloads))
    rows = [[f"`{name}`", *(ratio_cell(report, name) for report in reports)] for name in names]
    pairs = {f"{report.servers[1].short}/{report.servers[0].short}" for report in reports if len(report.servers) > 1}
    lines = [
        f"# HTTP benchmark side by side, {reports[0].date}",
        "",
        f"`{command}`: every backend and WSGI server kind of one run. Each cell: "
        f"{' or '.join(sorted(pairs)) or 'the ratio'} in requests per second (medians), then the p99 of each "
        "server (same order). The full report of each column follows.",
        "",
        *table(["workload", *columns], rows),
        "",
    ]
    for report in reports:
        body = render(report).replace("\n## ", "\n### ").replace("# HTTP benchmark: ", "## ", 1)
        lines += [body]
    return "\n".join(lines)
