"""The compact verdict table printed at the end of a run, and the report's path."""

from __future__ import annotations

from typing import Any

from reports import explain
from reports.numbers import count, num, seconds


def head_line(report: dict[str, Any]) -> str:
    """``spike: CRITICAL`` or, for an interrupted run, ``spike: PARTIAL (CRITICAL so far)``."""
    verdict = report["verdict"].upper()
    word = f"PARTIAL ({verdict} so far)" if report["partial"] else verdict
    return f"{report['scenario']}: {word}"


def render_terminal(report: dict[str, Any], html_path: str | None = None) -> str:
    """A few lines for a terminal: verdict, phases, endpoints, spike or drift, report path."""
    totals = report["totals"]
    head = (
        f"{head_line(report)}  ·  {count(totals['requests'])} requests, "
        f"{num(totals['error_rate_pct'], 2)} % errors, p95 {num(totals['p95_ms'])} ms"
    )
    rows = [["", "users", "requests", "req/s", "p95 ms", "p99 ms", "err %", "verdict", "set by"]]
    for p in report["phases"]:
        rows.append(
            [
                "phase " + p["name"],
                "–" if p["users"] is None else str(p["users"]),
                count(p["requests"]),
                num(p["rps"]),
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
                num(e["rps"]),
                num(e["p95_ms"]),
                num(e["p99_ms"]),
                num(e["error_rate_pct"], 2),
                e["verdict"].upper(),
                "",
            ]
        )
    if not any(row[-1] for row in rows[1:]):
        rows = [row[:-1] for row in rows]  # every phase healthy: no "set by" column
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = [head]
    if report["partial"]:
        lines.append(explain.partial_sentence(report))
    lines.append("")
    for row in rows:
        cells = [row[0].ljust(widths[0])]
        cells += [c.rjust(w) for c, w in zip(row[1:8], widths[1:8], strict=True)]
        cells += row[8:]  # "set by": text, left as it is
        lines.append("  ".join(cells).rstrip())
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
