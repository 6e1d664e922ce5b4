"""Load schedules as plain data: named phases with a duration, a user count and a role.

A shape class only asks ``phase_at(elapsed)`` once a second; keeping the schedule here, free
of Locust, lets the tests check the spike's timing without starting a load generator. A
phase's role (baseline, spike, recovery, steady) says what it is whatever it is called, so
the reports and the recovery watch never go by names.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, replace

from reports.run_format import ROLE_BASELINE, ROLE_RECOVERY, ROLE_SPIKE, ROLE_STEADY, ROLES


@dataclass(frozen=True)
class Phase:
    name: str
    duration_s: float
    users: int
    spawn_rate: float  # users started (or stopped) per second when entering the phase
    role: str = ROLE_STEADY
    #: Open model: arrivals per second (the users are then the load generator's drivers).
    rate: float | None = None


@dataclass(frozen=True)
class Schedule:
    phases: tuple[Phase, ...]

    def __post_init__(self) -> None:
        if not self.phases:
            raise ValueError("a schedule needs at least one phase")
        for phase in self.phases:
            if phase.duration_s <= 0 or phase.users < 1 or phase.spawn_rate <= 0:
                raise ValueError(f"phase {phase.name!r} needs a positive duration, users and rate")
            if phase.rate is not None and not 0 < phase.rate < float("inf"):
                raise ValueError(f"phase {phase.name!r} needs a positive rate, not {phase.rate}")
            if phase.role not in ROLES:
                raise ValueError(
                    f"phase {phase.name!r}: role {phase.role!r} is not one of {', '.join(ROLES)}"
                )

    @property
    def duration_s(self) -> float:
        return sum(p.duration_s for p in self.phases)

    def to_json(self) -> str:
        """The schedule as the runner hands it to Locust (``--kit-schedule``)."""
        return json.dumps([asdict(p) for p in self.phases], separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str) -> Schedule:
        """The inverse of ``to_json``; ValueError (or TypeError) for anything else."""
        return cls(tuple(Phase(**phase) for phase in json.loads(text)))

    def scaled(self, time_scale: float) -> Schedule:
        """Every phase ``time_scale`` times as long (0.1 = ten times shorter)."""
        if not time_scale > 0:
            raise ValueError(f"time scale must be > 0, not {time_scale}")
        return Schedule(
            tuple(replace(p, duration_s=p.duration_s * time_scale) for p in self.phases)
        )

    def with_users(self, base_users: int) -> Schedule:
        """Users scaled so that the first phase has ``base_users`` (the spike keeps its ratio)."""
        if base_users < 1:
            raise ValueError(f"users must be >= 1, not {base_users}")
        first = self.phases[0].users
        return Schedule(
            tuple(
                replace(
                    p,
                    users=max(1, round(p.users * base_users / first)),
                    spawn_rate=p.spawn_rate * base_users / first,
                )
                for p in self.phases
            )
        )

    def open_model(self, base_rate: float, drivers: int = 1) -> Schedule:
        """The same phases as arrivals: ``base_rate`` per second in the first phase and the
        others in proportion to their users (the spike's x5), each sent by ``drivers``."""
        first = self.phases[0].users
        return Schedule(
            tuple(
                replace(
                    p, users=drivers, spawn_rate=float(drivers), rate=base_rate * p.users / first
                )
                for p in self.phases
            )
        )

    def phase_at(self, elapsed_s: float) -> Phase | None:
        """The phase running ``elapsed_s`` seconds into the schedule; None once it is over."""
        index = self.index_at(elapsed_s)
        return None if index is None else self.phases[index]

    def index_at(self, elapsed_s: float) -> int | None:
        """The position of the phase running ``elapsed_s`` seconds in; None once it is over."""
        end = 0.0
        for index, phase in enumerate(self.phases):
            end += phase.duration_s
            if elapsed_s < end:
                return index
        return None

    def start_s(self, index: int) -> float:
        """Seconds into the schedule at which the phase at ``index`` starts."""
        return sum(p.duration_s for p in self.phases[:index])

    def remaining_s(self, elapsed_s: float) -> float:
        return max(0.0, self.duration_s - elapsed_s)

    def index_of(self, role: str) -> int | None:
        """The position of the first phase with ``role``; None when there is none."""
        return next((i for i, p in enumerate(self.phases) if p.role == role), None)

    @property
    def has_spike(self) -> bool:
        """A baseline, later a spike, right after it a recovery: what the recovery watch needs."""
        spike = self.index_of(ROLE_SPIKE)
        baseline = self.index_of(ROLE_BASELINE)
        return (
            spike is not None
            and baseline is not None
            and baseline < spike
            and self.index_of(ROLE_RECOVERY) == spike + 1
        )

    def shortest_phase(self) -> Phase:
        return min(self.phases, key=lambda p: p.duration_s)


def spike_schedule() -> Schedule:
    """The design's spike: 10 users for 30 s, 50 users for 30 s (fast spawn), 10 users for 60 s."""
    return Schedule(
        (
            Phase("normal", 30.0, 10, spawn_rate=10.0, role=ROLE_BASELINE),
            Phase("spike", 30.0, 50, spawn_rate=50.0, role=ROLE_SPIKE),
            Phase("recovery", 60.0, 10, spawn_rate=50.0, role=ROLE_RECOVERY),
        )
    )


def constant_schedule(name: str, users: int, duration_s: float) -> Schedule:
    """One phase of constant load, named after its scenario."""
    return Schedule((Phase(name, duration_s, users, float(users), ROLE_STEADY),))
