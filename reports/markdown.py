"""summary.md: the verdict and tables in Markdown, ready for a CI step summary."""

from __future__ import annotations

from typing import Any

from reports import explain
from reports.numbers import count, num, seconds
from reports.server_series import METHOD

ICONS = {"healthy": "🟢", "degraded": "🟠", "critical": "🔴"}
#: Neutral: an interrupted run, or one whose load generator did not keep up, is neither a pass
#: nor a judged failure.
PARTIAL_ICON = "⚪"


def render_summary(report: dict[str, Any], html_name: str = "report.html") -> str:
    totals = report["totals"]
    verdict = report["verdict"]
    words = explain.verdict_words(report)
    if report["partial"]:
        lines = [
            f"## {PARTIAL_ICON} Load test `{report['scenario']}`: **PARTIAL**",
            "",
            f"Verdict so far: **{words}**. {explain.partial_sentence(report)}",
        ]
    else:
        icon = PARTIAL_ICON if explain.generator_limited(report) else ICONS[verdict]
        lines = [f"## {icon} Load test `{report['scenario']}`: **{words}**"]
    lines += [
        "",
        explain.load_summary(report),
        "",
        *[f"- {line}" for line in explain.reasons(report)],
        "",
        f"{count(totals['requests'])} requests, {num(totals['rps'])} req/s, "
        f"{num(totals['error_rate_pct'], 2)} % errors, p95 {num(totals['p95_ms'])} ms, "
        f"p99 {num(totals['p99_ms'])} ms (source: {report['source']}).",
    ]
    lines += _capacity_section(report)
    degradation = explain.degradation(report)
    if degradation is not None:
        lines += ["", f"Spike degradation: {degradation.text()}. {degradation.note}"]
    recovery = report.get("recovery")
    if recovery:
        back = seconds(recovery["seconds"]) if recovery["seconds"] is not None else "not recovered"
        rule = explain.recovery_rule(recovery)
        lines += ["", f"Recovery: **{back}** ({recovery['verdict']}; limits: {rule})."]
    open_run = report.get("model") == "open"
    corrected = isinstance(totals.get("uncorrected"), dict)
    lines += [
        "",
        "### Phases",
        "",
        _table(
            [
                "phase",
                "users",
                "requests",
                *(["offered/s", "achieved/s", "dropped"] if open_run else ["req/s"]),
                "avg ms",
                "p95 ms",
                "p99 ms",
                *(["p99 from send ms"] if corrected else []),
                "errors %",
                "verdict",
                "set by",
            ],
            [
                [
                    p["name"],
                    "–" if p["users"] is None else str(p["users"]),
                    count(p["requests"]),
                    *(
                        [num(p.get("offered_rps")), num(p["rps"]), explain.dropped_cell(p)]
                        if open_run
                        else [num(p["rps"])]
                    ),
                    num(p["avg_ms"]),
                    num(p["p95_ms"]),
                    num(p["p99_ms"]),
                    *([num((p.get("uncorrected") or {}).get("p99_ms"))] if corrected else []),
                    num(p["error_rate_pct"], 2),
                    _verdict(p["verdict"]),
                    _cause(explain.verdict_source(p)),
                ]
                for p in report["phases"]
            ],
            centred=("verdict",),
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
                    count(e["requests"]),
                    count(e["failures"]),
                    num(e["error_rate_pct"], 2),
                    num(e["avg_ms"]),
                    num(e["p50_ms"]),
                    num(e["p95_ms"]),
                    num(e["p99_ms"]),
                    num(e["rps"]),
                    _verdict(e["verdict"]),
                ]
                for e in report["endpoints"]
            ],
            centred=("verdict",),
        ),
    ]
    lines += _server_section(report)
    if report.get("drift"):
        lines += ["", "### Drift", "", explain.drift_line(report["drift"])]
    if report["warnings"]:
        lines += ["", "### Warnings", "", *[f"- ⚠️ {w['message']}" for w in report["warnings"]]]
    lines += ["", f"Full report: `{report['run']['dir']}/{html_name}`", ""]
    return "\n".join(lines)


def _capacity_section(report: dict[str, Any]) -> list[str]:
    """A capacity search's answer, its steps and what broke first; nothing for other runs."""
    block = explain.capacity_block(report)
    if block is None:
        return []
    lines = ["", "### Capacity", "", f"**{explain.capacity_line(report)}**"]
    if block["steps"]:
        lines += [
            "",
            _table(
                list(explain.CAPACITY_HEADER),
                [
                    [*row[:-1], _verdict(step["level"]) if step["level"] else "–"]
                    for row, step in zip(explain.capacity_rows(block), block["steps"], strict=True)
                ],
                centred=("level",),
                text=("outcome",),
            ),
        ]
    broke = explain.first_to_break(block)
    if broke:
        lines += ["", "First to break:", "", *[f"- {line}" for line in broke]]
    return [*lines, "", block["method"]]


def _server_section(report: dict[str, Any]) -> list[str]:
    """The server's figures per phase, its Prometheus series, or the line saying it was not
    sampled; nothing when there is none of these."""
    server = report.get("server") or {}
    blocks = []
    line = explain.server_not_sampled(report)
    if line:
        blocks.append(line)
    if explain.has_server_figures(server):
        blocks.append(
            _table(
                [
                    "phase",
                    "client p95 ms",
                    "server p95 ms",
                    "not server p50 ms",
                    "not server p95 ms",
                    "cache hit %",
                ],
                [
                    [
                        p["name"],
                        num(p["client_p95_ms"]),
                        num(p["server_p95_ms"]),
                        num(p.get("non_server_p50_ms")),
                        num(p.get("non_server_p95_ms")),
                        num(p["cache_hit_rate_pct"]),
                    ]
                    for p in server["phases"]
                ],
            )
        )
    series = server.get("series")
    if series:
        blocks.append(
            _table(
                ["series", "shown as", "whole run", *[p["phase"] for p in series[0]["phases"]]],
                [
                    [
                        f"`{s['name']}`",
                        s["unit"],
                        num(s["overall"], 2),
                        *[num(p["value"], 2) for p in s["phases"]],
                    ]
                    for s in series
                ],
                text=("shown as",),
            )
        )
    if server.get("sampled"):
        source = server.get("sampled_from") or "an unnamed source"
        blocks.append(f"Server side sampled from {source}." + (f" {METHOD}" if series else ""))
    if not blocks:
        return []
    return ["", "### Server side", *[part for block in blocks for part in ("", block)]]


def _table(
    header: list[str],
    rows: list[list[str]],
    centred: tuple[str, ...] = (),
    text: tuple[str, ...] = ("set by",),
) -> str:
    """Text left (the first column and the ``text`` columns), numbers right, ``centred``
    centred."""
    aligned = [
        ":---:" if name in centred else "---" if i == 0 or name in text else "---:"
        for i, name in enumerate(header)
    ]
    out = ["| " + " | ".join(header) + " |", "| " + " | ".join(aligned) + " |"]
    out += ["| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |" for row in rows]
    return "\n".join(out)


def _verdict(level: str) -> str:
    return f"{ICONS[level]} {level}"


def _cause(source: tuple[str, str] | None) -> str:
    """The endpoint (as code) and metric that set a phase's verdict; empty when healthy."""
    return "" if source is None else f"`{source[0]}` {source[1]}"
