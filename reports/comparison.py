"""Run-to-run comparison as pure data: per endpoint and per phase, regressions flagged.

A p95 regresses when it grows by more than ``max_regression_pct`` % of the base value. The
error rate is compared the same way, but against a base of at least 0.1 % (one failure in a
thousand), so that a base run with no failure at all does not turn a single stray failure into
an infinite regression; an error rate rising from 0 to 0.5 % is still +500 %. A report from before
the open model has no ``model`` (a closed run) and no ``generator`` (nothing known of it).

Reading runs and writing files is ``reports.compare``'s job, rendering
``reports.compare_render``'s; this module imports neither.
"""

from __future__ import annotations

from typing import Any

from reports.numbers import NA, num

FLAGGED = ("p95_ms", "error_rate_pct")
COMPARED = ("p50_ms", "p95_ms", "p99_ms", "avg_ms", "error_rate_pct", "rps")
ERROR_RATE_FLOOR_PCT = 0.1
DEFAULT_MAX_REGRESSION_PCT = 10.0


def change_pct(metric: str, base: float | None, new: float | None) -> float | None:
    """Relative change of ``new`` against ``base`` in % (see the module's note on error rates)."""
    if base is None or new is None:
        return None
    if metric == "error_rate_pct":
        return (new - base) / max(base, ERROR_RATE_FLOOR_PCT) * 100.0
    if base == 0:
        return None  # no meaningful ratio against a zero base
    return (new - base) / base * 100.0


def compare_rows(
    base: dict[str, Any] | None, new: dict[str, Any] | None, limit_pct: float
) -> dict[str, Any]:
    """One endpoint's (or phase's) metrics side by side, with each flagged metric's status."""
    metrics = {}
    status = "unchanged"
    for metric in COMPARED:
        b = base.get(metric) if base else None
        n = new.get(metric) if new else None
        change = change_pct(metric, b, n)
        entry: dict[str, Any] = {"base": b, "new": n, "change_pct": _round(change)}
        if metric in FLAGGED and change is not None:
            if change > limit_pct:
                entry["status"] = "regression"
                status = "regression"
            elif change < -limit_pct:
                entry["status"] = "improvement"
                if status == "unchanged":
                    status = "improvement"
            else:
                entry["status"] = "unchanged"
        metrics[metric] = entry
    if base is None:
        status = "only in new"
    elif new is None:
        status = "only in base"
    return {
        "verdict": {
            "base": base.get("verdict") if base else None,
            "new": new.get("verdict") if new else None,
        },
        "status": status,
        "metrics": metrics,
    }


def compare_reports(
    base: dict[str, Any],
    new: dict[str, Any],
    max_regression_pct: float = DEFAULT_MAX_REGRESSION_PCT,
) -> dict[str, Any]:
    """The comparison document (compare.json)."""
    sections: dict[str, list[dict[str, Any]]] = {}
    for key in ("endpoints", "phases"):
        b_rows = {row["name"]: row for row in base.get(key, [])}
        n_rows = {row["name"]: row for row in new.get(key, [])}
        names = list(b_rows) + [name for name in n_rows if name not in b_rows]
        sections[key] = [
            {"name": name, **compare_rows(b_rows.get(name), n_rows.get(name), max_regression_pct)}
            for name in names
        ]
    totals = {
        "name": "whole run",
        **compare_rows(
            {**base["totals"], "verdict": base["verdict"]},
            {**new["totals"], "verdict": new["verdict"]},
            max_regression_pct,
        ),
    }
    regressions, improvements = [], []
    for kind, rows in (
        ("endpoint", sections["endpoints"]),
        ("phase", sections["phases"]),
        ("run", [totals]),
    ):
        for row in rows:
            for metric, entry in row["metrics"].items():
                if entry.get("status") == "regression":
                    regressions.append(_line(kind, row["name"], metric, entry))
                elif entry.get("status") == "improvement":
                    improvements.append(_line(kind, row["name"], metric, entry))
    notes = []
    if base.get("scenario") != new.get("scenario"):
        notes.append(f"different scenarios: {base.get('scenario')} vs {new.get('scenario')}")
    models = [report.get("model") or "closed" for report in (base, new)]
    if models[0] != models[1]:
        notes.append(
            f"different load models: {models[0]} (base) vs {models[1]} (new); an open run "
            "measures latency from each request's intended start, a closed run from its send"
        )
    for label, report in (("base", base), ("new", new)):
        if report.get("partial"):
            notes.append(f"the {label} run is partial")
        if (report.get("generator") or {}).get("limited") is True:
            notes.append(
                f"the {label} run's load generator did not keep up: its figures describe the "
                "generator as much as the service"
            )
        if report.get("source") != "request log":
            notes.append(
                f"the {label} run has no request log: its percentiles are Locust's rounded ones"
            )
    return {
        "max_regression_pct": max_regression_pct,
        "regressed": bool(regressions),
        "base": _identity(base),
        "new": _identity(new),
        "totals": totals,
        "endpoints": sections["endpoints"],
        "phases": sections["phases"],
        "spike": {
            "degradation_pct": {
                "base": base.get("degradation_pct"),
                "new": new.get("degradation_pct"),
            },
            "recovery_seconds": {
                "base": base.get("recovery_seconds"),
                "new": new.get("recovery_seconds"),
            },
        },
        "regressions": regressions,
        "improvements": improvements,
        "notes": notes,
    }


def _identity(report: dict[str, Any]) -> dict[str, Any]:
    return {
        "dir": report.get("run", {}).get("dir"),
        "scenario": report.get("scenario"),
        "verdict": report.get("verdict"),
        "requests": report.get("totals", {}).get("requests"),
        "generated_at": report.get("generated_at"),
    }


def _line(kind: str, name: str, metric: str, entry: dict[str, Any]) -> str:
    unit = " %" if metric.endswith("_pct") else " ms"
    base, new = (num(entry[k], 2, missing=NA) for k in ("base", "new"))
    change = num(entry["change_pct"], sign=True)
    return f"{kind} {name}: {metric} {change} % ({base}{unit} -> {new}{unit})"


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 3)
