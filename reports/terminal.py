"""The compact verdict table printed at the end of a run, and the report's path."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from reports import explain
from reports.numbers import count, num, seconds


def head_line(report: dict[str, Any]) -> str:
    """``spike: CRITICAL``; for an interrupted run ``spike: PARTIAL (CRITICAL so far)``; and
    ``— generator-limited`` after either when the load generator did not keep up."""
    verdict = report["verdict"].upper()
    word = f"PARTIAL ({verdict} so far)" if report["partial"] else verdict
    if explain.generator_limited(report):
        word += f" — {explain.LIMITED_MARK}"
    return f"{report['scenario']}: {word}"


def render_terminal(report: dict[str, Any], html_path: str | None = None) -> str:
    """A few lines for a terminal: verdict and load model, a capacity search's answer and steps,
    phases, endpoints, spike or drift, warnings, report path."""
    totals = report["totals"]
    head = (
        f"{head_line(report)}  ·  {count(totals['requests'])} requests, "
        f"{num(totals['error_rate_pct'], 2)} % errors, p95 {num(totals['p95_ms'])} ms  ·  "
        + explain.load_line(report)
    )
    open_run = report.get("model") == "open"
    rate = ["offered/s", "achieved/s", "dropped"] if open_run else ["req/s"]
    rows = [["", "users", "requests", *rate, "p95 ms", "p99 ms", "err %", "verdict", "set by"]]
    for p in report["phases"]:
        rows.append(
            [
                "phase " + p["name"],
                "–" if p["users"] is None else str(p["users"]),
                count(p["requests"]),
                *_rates(p, open_run),
                num(p["p95_ms"]),
                num(p["p99_ms"]),
                num(p["error_rate_pct"], 2),
                p["verdict"].upper(),
                explain.phase_cause(p) or "",
            ]
        )
    for e in report["endpoints"]:
        rows.append(
            [
                e["name"],
                "",
                count(e["requests"]),
                *_rates(e, open_run),
                num(e["p95_ms"]),
                num(e["p99_ms"]),
                num(e["error_rate_pct"], 2),
                e["verdict"].upper(),
                "",
            ]
        )
    if not any(row[-1] for row in rows[1:]):
        rows = [row[:-1] for row in rows]  # every phase healthy: no "set by" column
    text = len(rows[0]) - (rows[0][-1] == "set by")  # "set by" is text, left as it is
    lines = [head]
    answer = explain.capacity_line(report)
    if answer:
        lines.append(answer)
    if report["partial"]:
        lines.append(explain.partial_sentence(report))
    latency = explain.latency_line(report)
    if latency:
        lines.append(latency)
    lines.append("")
    block = explain.capacity_block(report)
    if block is not None and block["steps"]:
        lines.append("capacity steps (as the search judged them live on each steady part):")
        steps = [list(explain.CAPACITY_HEADER), *explain.capacity_rows(block)]
        lines += [*_aligned(steps, right=(0, 1, 3, 4, 5, 6)), ""]
    lines += _aligned(rows, right=range(1, text), text=range(text, len(rows[0])))
    spike = []
    degradation = explain.degradation(report)
    if degradation is not None:
        spike.append(f"spike degradation {degradation.text()}  (no threshold: context only)")
    recovery = report.get("recovery")
    if recovery:
        back = seconds(recovery["seconds"]) if recovery["seconds"] is not None else "not recovered"
        rule = explain.recovery_rule(recovery)
        spike.append(f"recovery {back} ({recovery['verdict'].upper()}; limits: {rule})")
    if spike:
        lines += ["", *spike]
    if report.get("drift"):
        lines += ["", explain.drift_line(report["drift"])]
    not_sampled = explain.server_not_sampled(report)
    if not_sampled:
        lines += ["", not_sampled]
    if report["warnings"]:
        lines += ["", *[f"warning: {w['message']}" for w in report["warnings"]]]
    path = html_path or f"{report['run']['dir']}/report.html"
    lines += ["", f"report: {path}"]
    return "\n".join(lines)


def _aligned(
    rows: list[list[str]], right: Collection[int], text: Collection[int] = ()
) -> list[str]:
    """The rows as padded columns: the ``right`` ones right-aligned, the ``text`` ones as they
    are, every other left-aligned."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = []
    for row in rows:
        cells = [
            cell if i in text else cell.rjust(widths[i]) if i in right else cell.ljust(widths[i])
            for i, cell in enumerate(row)
        ]
        lines.append("  ".join(cells).rstrip())
    return lines


def _rates(entry: dict[str, Any], open_run: bool) -> list[str]:
    """req/s; in an open run, offered/s, achieved/s and dropped (a phase's: an endpoint has
    only the achieved rate)."""
    achieved = num(entry["rps"])
    if not open_run:
        return [achieved]
    if "dropped" not in entry:
        return ["", achieved, ""]
    return [num(entry.get("offered_rps")), achieved, explain.dropped_cell(entry)]
