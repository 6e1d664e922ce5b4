"""summary.md: the verdict and tables in Markdown, ready for a CI step summary."""

from __future__ import annotations

from typing import Any

from reports.explain import drift_line, reasons

ICONS = {"healthy": "🟢", "degraded": "🟠", "critical": "🔴"}


def render_summary(report: dict[str, Any], html_name: str = "report.html") -> str:
    totals = report["totals"]
    lines = [
        f"## {ICONS[report['verdict']]} Load test `{report['scenario']}`: "
        f"**{report['verdict'].upper()}**" + (" (partial run)" if report["partial"] else ""),
        "",
        *[f"- {line}" for line in reasons(report)],
        "",
        f"{_int(totals['requests'])} requests, {_num(totals['rps'])} req/s, "
        f"{_num(totals['error_rate_pct'], 2)} % errors, p95 {_num(totals['p95_ms'])} ms, "
        f"p99 {_num(totals['p99_ms'])} ms (source: {report['source']}).",
    ]
    if report.get("recovery"):
        rec = report["recovery"]
        degradation = report["degradation_pct"]
        lines += [
            "",
            f"Spike degradation: **{'n/a' if degradation is None else f'{degradation:+.1f} %'}**; "
            "recovery: **"
            + (f"{rec['seconds']} s" if rec["seconds"] is not None else "not recovered")
            + f"** ({rec['verdict']}).",
        ]
    lines += [
        "",
        "### Phases",
        "",
        _table(
            [
                "phase",
                "users",
                "requests",
                "req/s",
                "avg ms",
                "p95 ms",
                "p99 ms",
                "errors %",
                "verdict",
            ],
            [
                [
                    p["name"],
                    "–" if p["users"] is None else str(p["users"]),
                    _int(p["requests"]),
                    _num(p["rps"]),
                    _num(p["avg_ms"]),
                    _num(p["p95_ms"]),
                    _num(p["p99_ms"]),
                    _num(p["error_rate_pct"], 2),
                    _verdict(p["verdict"]),
                ]
                for p in report["phases"]
            ],
        ),
    ]
    lines += [
        "",
        "### Endpoints",
        "",
        _table(
            [
                "endpoint",
                "requests",
                "failures",
                "errors %",
                "avg ms",
                "p50 ms",
                "p95 ms",
                "p99 ms",
                "req/s",
                "verdict",
            ],
            [
                [
                    f"`{e['name']}`",
                    _int(e["requests"]),
                    _int(e["failures"]),
                    _num(e["error_rate_pct"], 2),
                    _num(e["avg_ms"]),
                    _num(e["p50_ms"]),
                    _num(e["p95_ms"]),
                    _num(e["p99_ms"]),
                    _num(e["rps"]),
                    _verdict(e["verdict"]),
                ]
                for e in report["endpoints"]
            ],
        ),
    ]
    server = report.get("server")
    if server:
        lines += [
            "",
            "### Server side",
            "",
            _table(
                ["phase", "client p95 ms", "server p95 ms", "not server ms", "cache hit %"],
                [
                    [
                        p["name"],
                        _num(p["client_p95_ms"]),
                        _num(p["server_p95_ms"]),
                        _num(p["non_server_ms"]),
                        _num(p["cache_hit_rate_pct"]),
                    ]
                    for p in server["phases"]
                ],
            ),
        ]
    if report.get("drift"):
        lines += ["", "### Drift", "", drift_line(report["drift"])]
    if report["warnings"]:
        lines += ["", "### Warnings", "", *[f"- ⚠️ {w['message']}" for w in report["warnings"]]]
    lines += ["", f"Full report: `{report['run']['dir']}/{html_name}`", ""]
    return "\n".join(lines)


def _table(header: list[str], rows: list[list[str]]) -> str:
    aligned = ["---"] + ["---:"] * (len(header) - 2) + [":---:"]
    out = ["| " + " | ".join(header) + " |", "| " + " | ".join(aligned) + " |"]
    out += ["| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |" for row in rows]
    return "\n".join(out)


def _verdict(level: str) -> str:
    return f"{ICONS[level]} {level}"


def _num(value: float | None, digits: int = 1) -> str:
    return "–" if value is None else f"{value:,.{digits}f}"


def _int(value: int | None) -> str:
    return "–" if value is None else f"{value:,}"
