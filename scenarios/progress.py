"""One progress line while a run goes on: the phase, its users and the time (or work) left.

During a spike's recovery phase it also says what the recovery watch has seen: the phase
may run on past its scheduled end until the service is back to normal.
"""

from __future__ import annotations

import csv
import math
from pathlib import Path
from typing import Any

from reports.run_format import LOCUST_AGGREGATED
from scenarios.catalog import Scenario
from scenarios.schedule import Schedule


def requests_so_far(stats_csv: Path) -> int | None:
    """The Aggregated request count in Locust's locust_stats.csv (rewritten every second)."""
    try:
        with stats_csv.open(newline="", encoding="utf-8") as fh:
            for row in csv.DictReader(fh):
                if row.get("Name") == LOCUST_AGGREGATED:
                    return int(row.get("Request Count") or 0)
    except (OSError, ValueError, csv.Error):
        return None
    return None


def progress_line(
    scenario: Scenario,
    schedule: Schedule | None,
    users: int,
    events: list[dict[str, Any]],
    now: float,
    requests: int | None,
) -> str:
    """E.g. ``spike | phase spike, 50 users | 12 s left in phase, 72 s left | 10,234 requests``."""
    phases = [e for e in events if e.get("event") == "phase"]
    if not phases:
        return f"{scenario.name} | starting"
    current = phases[-1]
    parts = [scenario.name, f"phase {current['name']}, {current['users']} users"]
    if schedule is not None:
        elapsed = now - phases[0]["time"]
        phase_end = phases[0]["time"]
        for phase in schedule.phases:
            phase_end += phase.duration_s
            if phase.name == current["name"]:
                break
        if schedule.remaining_s(elapsed) > 0:
            parts.append(
                f"{max(0.0, phase_end - now):.0f} s left in phase, "
                f"{schedule.remaining_s(elapsed):.0f} s left"
            )
        watch = _watch_note(events, current, now)
        if watch:
            parts.append(watch)
    if requests is not None:
        if scenario.requests_per_user:
            parts.append(f"{requests:,} requests (budget {users * scenario.requests_per_user:,})")
        else:
            parts.append(f"{requests:,} requests")
    return " | ".join(parts)


def _watch_note(events: list[dict[str, Any]], current: dict[str, Any], now: float) -> str:
    """What the recovery watch last noted in the current phase, or ""."""
    notes = [e for e in events if e.get("event") == "watch" and e["time"] >= current["time"]]
    if not notes:
        return ""
    note = notes[-1]
    if note.get("recovered_after_s") is None:
        left = max(0.0, (note.get("deadline") or now) - now)
        return f"watching recovery: not back to normal yet (at most {left:.0f} s more)"
    left = max(0.0, (note.get("ends") or now) - now)
    return (
        f"watching recovery: back to normal {note['recovered_after_s']} s after the spike, "
        f"phase ends in {left:.0f} s"
    )


def capacity_line(
    events: list[dict[str, Any]], answer: dict[str, Any] | None, now: float, step_s: float
) -> str:
    """E.g. ``capacity | step 9 at 152.5 req/s | held 137.8, failed 168.8 | 95 s spent, about
    40 s left``: the step, its rate, the bracket so far, and the time."""
    phases = [e for e in events if e.get("event") == "phase"]
    if not phases:
        return "capacity | starting"
    current = phases[-1]
    parts = ["capacity", f"{current['name']} at {current.get('rate', 0):,.1f} req/s"]
    held, failed = _bracket(answer)
    parts.append(
        f"held {_rate(held)}, failed {_rate(failed)}" if failed else f"held {_rate(held)}, climbing"
    )
    spent = f"{now - phases[0]['time']:.0f} s spent"
    precision = ((answer or {}).get("settings") or {}).get("precision")
    if held and failed and isinstance(precision, (int, float)) and precision > 0:
        halvings = max(0, math.ceil(math.log2(math.log(failed / held) / math.log1p(precision))))
        # a held rate is tried twice, a failed one once: 1.5 steps a halving on average
        spent += f", about {1.5 * halvings * step_s:.0f} s left"
    parts.append(spent)
    return " | ".join(parts)


def _bracket(answer: dict[str, Any] | None) -> tuple[float | None, float | None]:
    """The highest rate held and the lowest failed so far."""
    answer = answer or {}
    return answer.get("healthy_rps"), answer.get("failing_rps")


def _rate(value: float | None) -> str:
    return "none yet" if value is None else f"{value:,.1f}"
