"""compare.html and compare.md from a comparison document (``reports.comparison``)."""

from __future__ import annotations

from typing import Any

from reports.comparison import COMPARED
from reports.html import environment
from reports.numbers import NA, plain, signed

LABELS = {
    "p50_ms": "p50",
    "p95_ms": "p95",
    "p99_ms": "p99",
    "avg_ms": "avg",
    "error_rate_pct": "errors %",
    "rps": "req/s",
}


def render_compare_html(comparison: dict[str, Any]) -> str:
    return (
        environment()
        .get_template("compare.html.j2")
        .render(c=comparison, metrics=COMPARED, labels=LABELS)
    )


def render_compare_md(comparison: dict[str, Any]) -> str:
    c = comparison
    word = "REGRESSION" if c["regressed"] else "NO REGRESSION"
    icon = "🔴" if c["regressed"] else "🟢"
    lines = [
        f"## {icon} Run comparison: **{word}** (limit {c['max_regression_pct']:g} %)",
        "",
        f"- base: `{c['base']['dir']}` ({c['base']['scenario']}, {c['base']['verdict']})",
        f"- new: `{c['new']['dir']}` ({c['new']['scenario']}, {c['new']['verdict']})",
    ]
    for title, items in (
        ("Regressions", c["regressions"]),
        ("Improvements", c["improvements"]),
        ("Notes", c["notes"]),
    ):
        if items:
            lines += ["", f"### {title}", "", *[f"- {item}" for item in items]]
    for title, rows in (
        ("Endpoints", c["endpoints"]),
        ("Phases", c["phases"]),
        ("Whole run", [c["totals"]]),
    ):
        lines += [
            "",
            f"### {title}",
            "",
            "| name | status | " + " | ".join(LABELS[m] for m in COMPARED) + " |",
            "| --- | --- | " + " | ".join("---:" for _ in COMPARED) + " |",
        ]
        for row in rows:
            cells = [_cell(row["metrics"][m]) for m in COMPARED]
            lines.append(f"| `{row['name']}` | {row['status']} | " + " | ".join(cells) + " |")
    spike = c["spike"]
    if any(v is not None for pair in spike.values() for v in pair.values()):
        d, r = spike["degradation_pct"], spike["recovery_seconds"]
        lines += [
            "",
            f"Spike degradation {_v(d['base'])} % -> {_v(d['new'])} %; "
            f"recovery {_v(r['base'])} s -> {_v(r['new'])} s.",
        ]
    return "\n".join(lines) + "\n"


def _cell(entry: dict[str, Any]) -> str:
    text = f"{_v(entry['base'])} → {_v(entry['new'])}"
    if entry["change_pct"] is not None:
        text += f" ({signed(entry['change_pct'])} %)"
    if entry.get("status") == "regression":
        text = f"**{text}** 🔴"
    elif entry.get("status") == "improvement":
        text += " 🟢"
    return text


def _v(value: Any) -> str:
    return plain(value, missing=NA)
