"""Phases of a run: read from run.json, or segmented from the user count, and request labelling.

A request belongs to the phase during which it was *sent* (its ``timestamp``): that is when
the load it met was decided. Phases are half-open ``[start, end)`` except the last one, which
also keeps a request sent exactly at its end.

What a phase *is* (its ``role``: baseline, spike, recovery or steady) is kept apart from what
it is called, so that degradation, recovery and drift are measured for any schedule, whatever
its phases are named. run.json states the role; a run.json written before roles existed gets
it from the spike scenario's names, and a run without run.json from the shape of its user count.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from reports.roles import infer_roles
from reports.run_format import ROLE_BASELINE, ROLE_RECOVERY, ROLE_SPIKE, ROLE_STEADY, ROLES

# A user count that lasts less than this is a ramp towards the next level, not a phase.
MIN_PLATEAU_S = 3.0
MAX_USERS = 10**9  # far beyond any load generator: a larger count is damage
#: The role of a phase of a run.json without roles, by the spike scenario's phase names.
ROLE_BY_NAME = {"normal": ROLE_BASELINE, "spike": ROLE_SPIKE, "recovery": ROLE_RECOVERY}


@dataclass(frozen=True)
class Phase:
    """One named stretch of a run: its role, its target user count when known and, in an
    open-model run, its target arrival rate (``rate``, per second)."""

    name: str
    start: float
    end: float
    users: int | None = None
    role: str = ROLE_STEADY
    rate: float | None = None

    @property
    def duration(self) -> float:
        return self.end - self.start


def from_run_json(document: dict[str, Any]) -> list[Phase]:
    """The ``phases`` of run.json; ``ValueError`` (with the reason) when they are malformed."""
    raw = document.get("phases")
    if not isinstance(raw, list) or not raw:
        raise ValueError("run.json has no phases")
    phases = []
    for i, item in enumerate(raw):
        if not isinstance(item, dict):
            raise ValueError(f"run.json phase {i + 1} is not an object")
        name, start, end, users = (item.get(k) for k in ("name", "start", "end", "users"))
        if not isinstance(name, str) or not name.strip():
            raise ValueError(f"run.json phase {i + 1} has no name")
        role = item.get("role")
        if role is None:
            role = ROLE_BY_NAME.get(name.strip(), ROLE_STEADY)
        if not isinstance(role, str) or role not in ROLES:
            raise ValueError(
                f"run.json phase {name!r} has an unknown role {role!r} "
                f"(expected one of {', '.join(ROLES)})"
            )
        if (
            not all(_is_number(v) for v in (start, end))
            or end < start
            or not math.isfinite(end - start)
        ):
            raise ValueError(f"run.json phase {name!r} has no valid start and end")
        if users is not None and not _is_number(users):
            raise ValueError(f"run.json phase {name!r} has a non-numeric user count")
        if users is not None and not (0 <= users <= MAX_USERS and float(users).is_integer()):
            raise ValueError(f"run.json phase {name!r} has an impossible user count ({users!r})")
        rate = item.get("rate")
        if rate is not None and not (_is_number(rate) and rate >= 0):
            raise ValueError(f"run.json phase {name!r} has an impossible rate ({rate!r})")
        phases.append(
            Phase(
                name.strip(),
                float(start),
                float(end),
                _int_or_none(users),
                str(role),
                None if rate is None else float(rate),
            )
        )
    phases.sort(key=lambda p: p.start)
    for before, after in zip(phases, phases[1:], strict=False):
        if after.start < before.end - 1e-6:
            raise ValueError(f"run.json phases {before.name!r} and {after.name!r} overlap")
    return phases


def segment_by_users(
    times: np.ndarray, users: np.ndarray, scenario: str, interval: float = 1.0
) -> list[Phase]:
    """Phases from a user-count series (Locust's history, one sample per ``interval`` seconds).

    Plateaus of equal user count are phases; a count held for less than ``MIN_PLATEAU_S`` is a
    ramp and joins the level it ramps to. Roles follow the low-high(-low) pattern (see
    ``roles``), so that degradation and recovery can still be measured; a low-high(-low) run is
    named like the spike scenario (normal, spike, recovery) and a single plateau after the
    scenario.
    """
    order = np.argsort(times, kind="stable")
    times, users = np.asarray(times, float)[order], np.asarray(users)[order]
    loaded = np.flatnonzero(users > 0)
    if len(times) == 0:
        return []
    if len(loaded):
        times, users = times[loaded[0] : loaded[-1] + 1], users[loaded[0] : loaded[-1] + 1]
    change = np.flatnonzero(np.diff(users) != 0) + 1
    starts = np.concatenate(([0], change))
    runs = [[float(times[s]), int(users[s])] for s in starts]
    end = float(times[-1]) + interval
    merged: list[list[float | int]] = []
    for i, (start, level) in enumerate(runs):
        next_start = runs[i + 1][0] if i + 1 < len(runs) else end
        if i + 1 < len(runs) and next_start - start < MIN_PLATEAU_S:
            runs[i + 1][0] = start  # a ramp: it belongs to the level it leads to
            continue
        if merged and merged[-1][1] == level:
            continue
        merged.append([start, level])
    bounds = [float(m[0]) for m in merged[1:]] + [end]
    levels = [int(m[1]) for m in merged]
    names = _names(levels, scenario)
    return [
        Phase(name, float(m[0]), stop, level, role)
        for name, m, stop, level, role in zip(
            names, merged, bounds, levels, infer_roles(levels), strict=True
        )
    ]


def whole_run(first: float, last: float, scenario: str) -> list[Phase]:
    """One steady phase spanning every request, when nothing tells the schedule."""
    return [Phase(scenario, float(first), float(last))]


def assign(timestamps: np.ndarray, phases: Sequence[Phase]) -> np.ndarray:
    """The index of the phase each timestamp falls in, -1 when it falls in none."""
    ts = np.asarray(timestamps, dtype=float)
    if not phases:
        return np.full(len(ts), -1, dtype=np.int64)
    starts = np.array([p.start for p in phases])
    ends = np.array([p.end for p in phases])
    index = np.searchsorted(starts, ts, side="right") - 1
    valid = index >= 0
    clipped = np.clip(index, 0, None)
    inside = ts < ends[clipped]
    last = len(phases) - 1
    inside |= (clipped == last) & (ts <= ends[last])
    return np.where(valid & inside, index, -1).astype(np.int64)


def by_role(phases: Sequence[Phase], role: str, after: int = -1) -> int | None:
    """The index of the first phase with ``role`` that comes after phase ``after``."""
    return next((i for i, p in enumerate(phases) if i > after and p.role == role), None)


def _names(levels: list[int], scenario: str) -> list[str]:
    if len(levels) == 1:
        return [scenario]
    if len(levels) == 2 and levels[0] < levels[1]:
        return ["normal", "spike"]
    if len(levels) == 3 and levels[0] < levels[1] > levels[2]:
        return ["normal", "spike", "recovery"]
    return [f"phase {i + 1}" for i in range(len(levels))]


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _int_or_none(value: object) -> int | None:
    return None if value is None else int(value)  # type: ignore[arg-type]
