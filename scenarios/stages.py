"""Schedules of your own: ``--stages 30s:10,30s:50,60s:10`` or a ``[schedule]`` TOML table.

A stage list says only how long and how many users (k6's ``DURATION:TARGET``); what each phase
is comes from the user counts (``reports.roles``), so a spike written by hand gets its
degradation and recovery measured like the built-in one. The TOML form adds names, and may set
a phase's role or spawn rate when the inference is not what is meant.
"""

from __future__ import annotations

import math
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from reports.roles import infer_roles
from reports.run_format import ROLES
from scenarios.schedule import Phase, Schedule

_DURATION = re.compile(
    r"^(?:(?P<h>\d+(?:\.\d+)?)h)?(?:(?P<m>\d+(?:\.\d+)?)m)?(?:(?P<s>\d+(?:\.\d+)?)s)?$"
)
_UNIT_S = {"h": 3600.0, "m": 60.0, "s": 1.0}
PHASE_KEYS = ("name", "duration", "users", "spawn_rate", "role")


def parse_duration(text: str) -> float:
    """``"90"``, ``"30s"``, ``"2m"``, ``"1m30s"`` or ``"1h"`` as seconds (> 0)."""
    text = text.strip()
    try:
        seconds = float(text)
    except ValueError:
        match = _DURATION.match(text)
        if not text or match is None:
            raise ValueError(f"duration {text!r} is not like 30s, 2m, 1m30s or 90") from None
        seconds = sum(float(v) * _UNIT_S[unit] for unit, v in match.groupdict().items() if v)
    if not (seconds > 0 and math.isfinite(seconds)):
        raise ValueError(f"duration {text!r} must be more than 0 s")
    return seconds


def _users(value: Any, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ValueError(f"{where}: users must be a whole number, not {value!r}")
    try:
        users = int(value)
    except ValueError:
        raise ValueError(f"{where}: users must be a whole number, not {value!r}") from None
    if users < 1:
        raise ValueError(f"{where}: users must be at least 1, not {users}")
    return users


def _schedule(
    names: list[str],
    durations: list[float],
    users: list[int],
    spawn_rates: list[float | None],
    roles: list[str | None],
) -> Schedule:
    """Phases with inferred roles where none is given, and a spawn rate that reaches each
    phase's users within a second unless one is given."""
    inferred = infer_roles(users)
    previous = [0, *users[:-1]]
    return Schedule(
        tuple(
            Phase(
                name,
                duration,
                count,
                spawn_rate=rate if rate is not None else float(max(count, before)),
                role=role or guess,
            )
            for name, duration, count, before, rate, role, guess in zip(
                names, durations, users, previous, spawn_rates, roles, inferred, strict=True
            )
        )
    )


def parse_stages(text: str) -> Schedule:
    """``DURATION:USERS[,DURATION:USERS...]``; the phases are named stage-1, stage-2, ..."""
    durations, users = [], []
    for index, stage in enumerate(text.split(","), start=1):
        duration, sep, count = stage.partition(":")
        if not sep:
            raise ValueError(f"stage {index} {stage.strip()!r} is not DURATION:USERS (e.g. 30s:10)")
        try:
            durations.append(parse_duration(duration))
        except ValueError as exc:
            raise ValueError(f"stage {index}: {exc}") from None
        users.append(_users(count.strip(), f"stage {index}"))
    n = len(users)
    return _schedule(
        [f"stage-{i}" for i in range(1, n + 1)], durations, users, [None] * n, [None] * n
    )


def load_schedule_file(path: Path) -> Schedule:
    """The ``[schedule]`` table's ``phases`` (name, duration, users; spawn_rate, role optional).

    ValueError with one line naming the file for anything else.
    """
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ValueError(f"{path}: cannot read the schedule file ({exc.strerror})") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ValueError(f"{path}: not valid TOML ({exc})") from None
    try:
        return _schedule_table(document.get("schedule"))
    except ValueError as exc:
        raise ValueError(f"{path}: {exc}") from None


def _schedule_table(table: Any) -> Schedule:
    if not isinstance(table, Mapping):
        raise ValueError("no [schedule] table")
    if set(table) != {"phases"}:
        raise ValueError("[schedule] must hold one key, phases")
    phases = table["phases"]
    if not isinstance(phases, list) or not phases:
        raise ValueError("[schedule] phases must be a non-empty list of tables")
    names, durations, users, rates, roles = [], [], [], [], []
    for index, phase in enumerate(phases, start=1):
        where = f"[schedule] phase {index}"
        if not isinstance(phase, Mapping):
            raise ValueError(f"{where} must be a table")
        unknown = sorted(set(phase) - set(PHASE_KEYS))
        if unknown:
            raise ValueError(
                f"{where}: unknown key(s) {', '.join(unknown)} (expected {', '.join(PHASE_KEYS)})"
            )
        for key in ("duration", "users"):
            if key not in phase:
                raise ValueError(f"{where}: {key} is missing")
        name = phase.get("name", f"phase-{index}")
        if not isinstance(name, str) or not name.strip():
            raise ValueError(f"{where}: name must be a non-empty string")
        name = name.strip()
        if name in names:
            raise ValueError(f"{where}: name {name!r} is used twice")
        duration = phase["duration"]
        try:
            seconds = parse_duration(str(duration)) if not isinstance(duration, bool) else None
        except ValueError as exc:
            raise ValueError(f"{where}: {exc}") from None
        if seconds is None:
            raise ValueError(f"{where}: duration must be like 30s or a number of seconds")
        rate = phase.get("spawn_rate")
        if rate is not None and (
            isinstance(rate, bool) or not isinstance(rate, int | float) or not 0 < rate < math.inf
        ):
            raise ValueError(f"{where}: spawn_rate must be a positive number, not {rate!r}")
        role = phase.get("role")
        if role is not None and role not in ROLES:
            raise ValueError(f"{where}: role {role!r} is not one of {', '.join(ROLES)}")
        names.append(name)
        durations.append(seconds)
        users.append(_users(phase["users"], where))
        rates.append(None if rate is None else float(rate))
        roles.append(role)
    return _schedule(names, durations, users, rates, roles)
