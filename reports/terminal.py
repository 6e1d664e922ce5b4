"""The compact verdict table printed at the end of a run, and the report's path."""

from __future__ import annotations

from typing import Any

from reports.explain import drift_line


def render_terminal(report: dict[str, Any], html_path: str | None = None) -> str:
    """A few lines for a terminal: verdict, phases, endpoints, spike or drift, report path."""
    totals = report["totals"]
    head = f"{report['scenario']}: {report['verdict'].upper()}"
    if report["partial"]:
        head += " (partial run)"
    head += (
        f"  ·  {_int(totals['requests'])} requests, {_num(totals['error_rate_pct'], 2)} % errors,"
        f" p95 {_num(totals['p95_ms'])} ms"
    )
    rows = [["", "users", "requests", "req/s", "p95 ms", "p99 ms", "err %", "verdict"]]
    for p in report["phases"]:
        rows.append(
            [
                "phase " + p["name"],
                "-" if p["users"] is None else str(p["users"]),
                _int(p["requests"]),
                _num(p["rps"]),
                _num(p["p95_ms"]),
                _num(p["p99_ms"]),
                _num(p["error_rate_pct"], 2),
                p["verdict"].upper(),
            ]
        )
    for e in report["endpoints"]:
        rows.append(
            [
                e["name"],
                "",
                _int(e["requests"]),
                _num(e["rps"]),
                _num(e["p95_ms"]),
                _num(e["p99_ms"]),
                _num(e["error_rate_pct"], 2),
                e["verdict"].upper(),
            ]
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = [head, ""]
    for row in rows:
        cells = [row[0].ljust(widths[0])] + [
            c.rjust(w) for c, w in zip(row[1:], widths[1:], strict=True)
        ]
        lines.append("  ".join(cells).rstrip())
    recovery = report.get("recovery")
    if recovery:
        degradation = report.get("degradation_pct")
        spike = "n/a" if degradation is None else f"{degradation:+.1f} %"
        back = f"{recovery['seconds']} s" if recovery["seconds"] is not None else "not recovered"
        lines += [
            "",
            f"spike degradation {spike}  ·  recovery {back} ({recovery['verdict'].upper()})",
        ]
    if report.get("drift"):
        lines += ["", drift_line(report["drift"])]
    if report["warnings"]:
        lines += [
            "",
            f"{len(report['warnings'])} warning(s): "
            + ", ".join(w["code"] for w in report["warnings"]),
        ]
    path = html_path or f"{report['run']['dir']}/report.html"
    lines += ["", f"report: {path}"]
    return "\n".join(lines)


def _num(value: float | None, digits: int = 1) -> str:
    return "-" if value is None else f"{value:,.{digits}f}"


def _int(value: int | None) -> str:
    return "-" if value is None else f"{value:,}"
