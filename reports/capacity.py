"""The capacity search's answer: the highest arrival rate at which the service stays healthy.

``python -m scenarios capacity`` steps an open-model rate up, judges each step live on its
steady part, bisects, and records what it found in run.json's ``capacity`` block. The report
takes those figures as they are (it does not judge the steps again): this module checks the
block's shape, turns it into report.json's ``capacity`` block and says the answer in the one
line every output shares. The steps are pushed past the knee on purpose, so a capacity run's
verdict comes from its answer, not from its failing steps.

Pure and light (no pandas, no matplotlib): a renderer may import it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from perf_lib.thresholds import Level
from reports.numbers import count, num

#: What stopped a search that completed: the service broke, the load generator ran out, or
#: the highest rate asked for (``--max-rate``) held.
LIMITED_BY = ("service", "generator", "max_rate")
SETTINGS_KEYS = (
    "start_rate",
    "max_rate",
    "factor",
    "precision",
    "step_s",
    "warmup_s",
    "confirmations",
    "min_capacity",
)
STEP_FIGURES = ("achieved_rps", "p50_ms", "p95_ms", "p99_ms", "start", "end", "steady_from")
LEVELS = tuple(level.label for level in Level)
#: The report's warning codes: a block that cannot be read, and a search that stopped short
#: although run.json does not call the run partial.
UNREADABLE, INCOMPLETE = "capacity_unreadable", "capacity_incomplete"
ADD_GENERATORS = "add --processes or machines"


@dataclass(frozen=True)
class Reading:
    """report.json's ``capacity`` block (None when there is none to show) and the warnings
    (``(code, message)``) that reading run.json's block gave."""

    block: dict[str, Any] | None
    warnings: list[tuple[str, str]]


def read_capacity(meta: dict[str, Any], scenario: str, partial: bool) -> Reading:
    """run.json's ``capacity`` block, checked; a malformed one is a warning, never an error,
    and the run is then reported like any other."""
    raw = meta.get("capacity")
    if raw is None:
        if scenario != "capacity":
            return Reading(None, [])
        why = "run.json has no capacity block: the search recorded no answer"
    else:
        try:
            return _read(raw, partial)
        except ValueError as exc:
            why = f"run.json's capacity block cannot be read ({exc})"
    return Reading(
        None,
        [
            (
                UNREADABLE,
                f"{why}, so the report has no capacity answer: its steps are reported as "
                "ordinary phases and the verdict is theirs.",
            )
        ],
    )


def _read(raw: Any, partial: bool) -> Reading:
    if not isinstance(raw, dict):
        raise ValueError("not a JSON object")
    settings = _settings(raw.get("settings"))
    complete = raw.get("complete")
    if not isinstance(complete, bool):
        raise ValueError(f"complete must be true or false, not {complete!r}")
    limited_by = raw.get("limited_by")
    if limited_by is not None and limited_by not in LIMITED_BY:
        raise ValueError(f"limited_by {limited_by!r} is none of {', '.join(LIMITED_BY)}")
    if complete and limited_by is None:
        raise ValueError("a complete search names what limited it (limited_by)")
    steps = _list(raw.get("steps"), "steps", _step)
    block: dict[str, Any] = {
        "method": method(settings),
        "settings": settings,
        "min_capacity": settings["min_capacity"],
        "meets_minimum": None,
        "healthy_rps": _number(raw.get("healthy_rps"), "healthy_rps", positive=True),
        "failing_rps": _number(raw.get("failing_rps"), "failing_rps", positive=True),
        "limited_by": limited_by,
        "complete": complete,
        "first_to_break": _list(raw.get("first_to_break"), "first_to_break", _break),
        "steps": steps,
    }
    block["meets_minimum"] = meets_minimum(block)
    level, reason = verdict(block, partial)
    block.update(verdict=level.label, verdict_reason=reason, answer=answer(block))
    warnings = []
    if not complete and not partial:
        warnings.append(
            (
                INCOMPLETE,
                "The capacity search did not complete, although run.json does not mark the run "
                "partial: its figure is a lower bound, and the verdict is degraded so that an "
                "unanswered search never reads as a pass.",
            )
        )
    return Reading(block, warnings)


def meets_minimum(block: dict[str, Any]) -> bool | None:
    """Whether the healthy rate reaches ``min_capacity``; None when no minimum was asked for.
    An interrupted search's rate is a lower bound: below the minimum, it was not shown to."""
    minimum = block["min_capacity"]
    if minimum is None:
        return None
    healthy = block["healthy_rps"]
    return healthy is not None and healthy >= minimum


def verdict(block: dict[str, Any], partial: bool) -> tuple[Level, str]:
    """The run's verdict and why: with a minimum, healthy when it is met and critical when not;
    without one, healthy once the search completed (it answered the question), healthy so far
    when it was interrupted in a run marked partial, else degraded (an unexplained short
    search is no pass)."""
    minimum = block["min_capacity"]
    if minimum is not None:
        asked = f"the minimum of {rate_text(minimum)} req/s asked for (--min-capacity)"
        if block["meets_minimum"]:
            return Level.HEALTHY, f"the capacity meets {asked}"
        below = block["complete"] and block["limited_by"] == "service"
        shown = "is below" if below else "was not shown to reach"
        return Level.CRITICAL, f"the capacity {shown} {asked}"
    if block["complete"]:
        return Level.HEALTHY, "the search completed and no minimum was asked for (--min-capacity)"
    if partial:
        return (
            Level.HEALTHY,
            "no minimum was asked for (--min-capacity) and the search was interrupted: healthy "
            "so far",
        )
    return Level.DEGRADED, "the search did not complete, and the run is not marked partial"


def method(settings: dict[str, Any]) -> str:
    """How the capacity was measured, in one sentence (what run.json's settings say)."""
    start, factor, top = settings["start_rate"], settings["factor"], settings["max_rate"]
    precision, step_s, warmup_s = settings["precision"], settings["step_s"], settings["warmup_s"]
    parts = ["An open-model arrival rate stepped up"]
    if start is not None:
        parts.append(f" from {rate_text(start)} req/s")
    if factor is not None:
        parts.append(f" by ×{_plain(factor)} a step")
    if top is not None:
        parts.append(f" up to {rate_text(top)} req/s")
    parts.append(", then bisected between the last rate held and the first that failed")
    if precision is not None:
        parts.append(f" to within {_plain(precision * 100)} %")
    if step_s is not None:
        parts.append(f"; each step lasted {_plain(step_s)} s")
        if warmup_s:
            parts.append(f", its first {_plain(warmup_s)} s left out as warm-up")
    confirmations = settings["confirmations"]
    if confirmations is not None and confirmations > 1:
        parts.append(f", with {confirmations} confirmations of each verdict")
    parts.append(
        "; the figures were judged live on each step's steady part, from the intended start, "
        "and are shown as the search recorded them (the report does not judge them again)."
    )
    return "".join(parts)


def answer(block: dict[str, Any]) -> str:
    """The one-line answer every output shows; see the module's tests for each wording."""
    if not block["complete"]:
        return _interrupted(block)
    healthy, limited = block["healthy_rps"], block["limited_by"]
    lowest = _lowest(block)
    if healthy is None:
        if limited == "generator":
            return (
                f"capacity unknown: the load generator ran out even at the lowest rate tried "
                f"({lowest} req/s); {ADD_GENERATORS}"
            )
        return (
            f"capacity below {lowest} req/s: even the lowest rate tried failed ({_why_low(block)})"
        )
    if limited == "generator":
        return (
            f"capacity ≥ {rate_text(healthy, held=True)} req/s: the load generator ran out first; "
            + ADD_GENERATORS
        )
    if limited == "max_rate":
        return (
            f"capacity ≥ {rate_text(healthy, held=True)} req/s: held up to --max-rate, the "
            "highest rate asked for"
        )
    parts = [f"capacity: {rate_text(healthy, held=True)} req/s healthy{_held_p95(block)}"]
    failing = block["failing_rps"]
    if failing is not None:
        parts.append(f"breaks at {rate_text(failing)} req/s: {_why(block, failing)}")
    parts.append("limited by: the service")
    return " · ".join(parts)


def _interrupted(block: dict[str, Any]) -> str:
    """An interrupted search: what it had found, said to be no final answer."""
    head = "search interrupted"
    if not block["steps"]:
        return f"{head} · capacity unknown: no step was judged"
    healthy, failing = block["healthy_rps"], block["failing_rps"]
    if healthy is None:
        return (
            f"{head} · capacity below {_lowest(block)} req/s so far: even the lowest rate tried "
            f"failed ({_why_low(block)}), not confirmed"
        )
    parts = [
        f"{head} · capacity ≥ {rate_text(healthy, held=True)} req/s healthy so far"
        f"{_held_p95(block)}: a lower bound, not the answer"
    ]
    if failing is not None:
        parts.append(f"failed at {rate_text(failing)} req/s: {_why(block, failing)}")
    return " · ".join(parts)


def _held_p95(block: dict[str, Any]) -> str:
    """`` (p95 38 ms)``: the p95 of the highest held step, the one at the healthy rate (the
    worst of its repetitions)."""
    held = [s for s in block["steps"] if s["held"]]
    if not held:
        return ""
    top = block["healthy_rps"]
    if not any(_same(s["rate"], top) for s in held):
        top = max(s["rate"] for s in held)
    values = [s["p95_ms"] for s in held if _same(s["rate"], top) and s["p95_ms"] is not None]
    return f" (p95 {ms_text(max(values))} ms)" if values else ""


def _why(block: dict[str, Any], at: float) -> str:
    """What broke at ``at`` req/s: the first of ``first_to_break`` there, else the level of the
    step that failed there."""
    entry = next((e for e in block["first_to_break"] if _same(e["rate"], at)), None)
    if entry is not None:
        return break_text(entry)
    step = next((s for s in block["steps"] if not s["held"] and _same(s["rate"], at)), None)
    level = step["level"] if step is not None else None
    return level or "not healthy"


def _why_low(block: dict[str, Any]) -> str:
    failed = [s["rate"] for s in block["steps"] if not s["held"]]
    return _why(block, min(failed)) if failed else "not healthy"


def _lowest(block: dict[str, Any]) -> str:
    """The lowest rate tried: the lowest step's, else the start rate asked for."""
    rates = [s["rate"] for s in block["steps"]]
    lowest = min(rates) if rates else block["settings"]["start_rate"]
    return rate_text(lowest)


def break_text(entry: dict[str, Any]) -> str:
    """``p95 212 ms on /api/v1/historical``: one entry of ``first_to_break``."""
    metric, value = entry.get("metric"), entry.get("value")
    label = {"error_rate_pct": "error rate", "dropped_pct": "dropped"}.get(
        str(metric), str(metric).removesuffix("_ms")
    )
    if metric is None or value is None:
        text = entry.get("level") or "not healthy"
    elif str(metric).endswith("_pct"):
        text = f"{label} {num(value, 2)} %"
    else:
        text = f"{label} {ms_text(value)} ms"
    endpoint = entry.get("endpoint")
    return f"{text} on {endpoint}" if endpoint else text


def rate_text(value: Any, *, held: bool = False) -> str:
    """``1,840`` or ``37.5``: whole requests per second from 100 up, tenths below. ``held``:
    a rate claimed as capacity is rounded down, never above what held."""
    number = _finite(value)
    if number is None:
        return "n/a"
    if held:
        number = math.floor(number) if number >= 100 else math.floor(number * 10) / 10
    if number >= 100 or number == round(number):
        return count(number)
    return num(number, 1)


def ms_text(value: Any) -> str:
    """``212`` or ``5.0``: whole milliseconds from 10 up, tenths below."""
    number = _finite(value)
    if number is None:
        return "n/a"
    return num(number, 0 if number >= 10 else 1)


# Checking run.json's block: each helper raises ValueError naming the field.


def _settings(raw: Any) -> dict[str, Any]:
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise ValueError("settings is not an object")
    settings: dict[str, Any] = {
        key: _number(raw.get(key), f"settings.{key}") for key in SETTINGS_KEYS
    }
    minimum = settings["min_capacity"]
    if minimum is not None and minimum < 0:
        raise ValueError(f"settings.min_capacity must be >= 0, not {minimum!r}")
    settings["confirmations"] = _count(raw.get("confirmations"), "settings.confirmations")
    return settings


def _step(raw: Any, where: str) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise ValueError(f"{where} is not an object")
    held = raw.get("held")
    if not isinstance(held, bool):
        raise ValueError(f"{where}.held must be true or false, not {held!r}")
    step_rate = _number(raw.get("rate"), f"{where}.rate", positive=True)
    if step_rate is None:
        raise ValueError(f"{where} has no rate")
    repetition = _count(raw.get("repetition"), f"{where}.repetition")
    dropped = _count(raw.get("dropped"), f"{where}.dropped")
    limited = raw.get("generator_limited")
    if limited is not None and not isinstance(limited, bool):
        raise ValueError(f"{where}.generator_limited must be true or false, not {limited!r}")
    endpoints = raw.get("endpoints") or {}
    if not isinstance(endpoints, dict):
        raise ValueError(f"{where}.endpoints is not an object")
    return {
        "rate": step_rate,
        "repetition": repetition,
        "held": held,
        "outcome": _text(raw.get("outcome"), f"{where}.outcome") or ("held" if held else "failed"),
        "level": _level(raw.get("level"), f"{where}.level"),
        "dropped": dropped,
        "generator_limited": limited,
        **{key: _number(raw.get(key), f"{where}.{key}") for key in STEP_FIGURES[:4]},
        "endpoints": {
            str(name): _verdict_of(entry, f"{where}.endpoints[{name!r}]")
            for name, entry in endpoints.items()
        },
        "phase": _text(raw.get("phase"), f"{where}.phase"),
        **{key: _number(raw.get(key), f"{where}.{key}") for key in STEP_FIGURES[4:]},
    }


def _verdict_of(raw: Any, where: str) -> dict[str, Any]:
    """One endpoint's judgement within a step: its level, and the metric that set it."""
    if not isinstance(raw, dict):
        raise ValueError(f"{where} is not an object")
    return {
        "level": _level(raw.get("level"), f"{where}.level"),
        "metric": _text(raw.get("metric"), f"{where}.metric"),
        "value": _number(raw.get("value"), f"{where}.value"),
    }


def _break(raw: Any, where: str) -> dict[str, Any]:
    """One entry of ``first_to_break``: the endpoint (None: the arrivals), the rate and what
    broke there."""
    figures = _verdict_of(raw, where)
    at = _number(raw.get("rate"), f"{where}.rate", positive=True)
    if at is None:
        raise ValueError(f"{where} has no rate")
    endpoint = _text(raw.get("endpoint"), f"{where}.endpoint")
    return {"endpoint": endpoint, "rate": at, **figures}


def _list(raw: Any, name: str, item: Any) -> list[dict[str, Any]]:
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise ValueError(f"{name} is not a list")
    return [item(entry, f"{name}[{i}]") for i, entry in enumerate(raw)]


def _number(value: Any, where: str, *, positive: bool = False) -> float | None:
    """A finite number (> 0 with ``positive``), rounded for reading; None stays None."""
    if value is None:
        return None
    number = _finite(value)
    if number is None or (positive and number <= 0):
        kind = "a number > 0" if positive else "a number"
        raise ValueError(f"{where} must be {kind}, not {value!r}")
    return round(number, 3)


def _level(value: Any, where: str) -> str | None:
    if value is None or value in LEVELS:
        return value
    raise ValueError(f"{where} {value!r} is none of {', '.join(LEVELS)}")


def _text(value: Any, where: str) -> str | None:
    if value is None or isinstance(value, str):
        return value or None
    raise ValueError(f"{where} must be text, not {value!r}")


def _count(value: Any, where: str) -> int | None:
    """A whole number >= 0; None stays None."""
    number = _finite(value)
    if value is None:
        return None
    if number is None or number < 0 or not number.is_integer():
        raise ValueError(f"{where} must be a whole number, not {value!r}")
    return int(number)


def _plain(value: float) -> str:
    """``1.5``, ``2``, ``2.5``: a setting without trailing zeros."""
    return f"{value:,.2f}".rstrip("0").rstrip(".")


def _finite(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


def _same(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=1e-6, abs_tol=1e-9)
