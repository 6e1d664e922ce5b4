"""Whether the load generator kept up, and which arrivals it dropped.

A load generator that falls behind measures itself: its requests leave late, its timers fire
late, and the figures describe it as much as the service. Three signs tell it, each enough on
its own: open-model requests sent well after their intended start (the send lag, from the request
log), a Locust process near a full core in any second (generator.csv's ``cpu_pct``), and Locust's
own CPU warning in locust.log. An open-model generator also drops the arrivals that find
``max_in_flight`` requests outstanding: generator.csv counts them per second, and they are
counted here per phase, since no latency figure can show a request that was never sent.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from reports.generator_limits import CPU_LIMIT_PCT, LAG_LIMIT_MS
from reports.open_model import send_lag_ms
from reports.phases import Phase, assign
from reports.run_format import GENERATOR_LOG, LOCUST_LOG, MODEL_OPEN
from reports.rundir import RunData

#: generator.csv's ``timestamp`` is the end of the second it describes: a row belongs to the
#: phase that holds the middle of that second.
ROW_MIDDLE_S = 0.5
LOCUST_WARNING = f"Locust warned of its CPU usage in {LOCUST_LOG}"


@dataclass(frozen=True)
class Generator:
    """The generator's health over the run, and its drops (None: unknown, or a closed run)."""

    lag_p99_ms: float | None
    cpu_max_pct: float | None
    cpu_warning: bool
    checked: tuple[str, ...]
    dropped: int | None
    dropped_by_phase: tuple[int | None, ...]
    dropped_outside: int = 0

    @property
    def lag_limited(self) -> bool:
        return self.lag_p99_ms is not None and self.lag_p99_ms > LAG_LIMIT_MS

    @property
    def cpu_limited(self) -> bool:
        return self.cpu_max_pct is not None and self.cpu_max_pct >= CPU_LIMIT_PCT

    @property
    def limited(self) -> bool:
        return self.lag_limited or self.cpu_limited or self.cpu_warning

    def why(self, *, locust_warning: bool = True) -> list[str]:
        """The signs that it fell behind; ``locust_warning=False`` leaves out locust.log's."""
        reasons = []
        if self.lag_limited:
            reasons.append(
                f"requests left {self.lag_p99_ms:,.1f} ms after their intended start at p99, "
                f"above the {LAG_LIMIT_MS:g} ms limit"
            )
        if self.cpu_limited:
            reasons.append(
                f"a Locust process used {self.cpu_max_pct:,.0f} % of a core in a second of "
                f"{GENERATOR_LOG}, at or above the {CPU_LIMIT_PCT:g} % limit"
            )
        if self.cpu_warning and locust_warning:
            reasons.append(LOCUST_WARNING)
        return reasons

    def summary(self) -> dict[str, Any]:
        """report.json's ``generator``."""
        return {
            "lag_p99_ms": self.lag_p99_ms,
            "limited": self.limited,
            "cpu_max_pct": self.cpu_max_pct,
            "why": self.why(),
            "checked": list(self.checked),
            "dropped": self.dropped,
            "lag_limit_ms": LAG_LIMIT_MS,
            "cpu_limit_pct": CPU_LIMIT_PCT,
        }


def measure_generator(run: RunData, phases: Sequence[Phase]) -> Generator:
    """The generator's health from the request log, generator.csv and locust.log."""
    open_run = run.model == MODEL_OPEN
    lag = send_lag_ms(run.requests) if open_run else np.array([])
    lag = lag[~np.isnan(lag)]
    lag_p99 = float(np.percentile(lag, 99)) if len(lag) else None
    log = run.generator
    cpu = log["cpu_pct"].dropna().to_numpy() if log is not None else np.array([])
    checked = []
    if lag_p99 is not None:
        checked.append("send lag (requests.csv intended_start)")
    if len(cpu):
        checked.append(f"CPU per second ({GENERATOR_LOG} cpu_pct)")
    if run.has_locust_log:
        checked.append(f"Locust's CPU warning ({LOCUST_LOG})")
    by_phase: tuple[int | None, ...] = (None,) * len(phases)
    dropped, outside = None, 0
    if open_run and log is not None:
        counts = log["dropped"].fillna(0).to_numpy(dtype=np.float64)
        phase_of = assign(log["timestamp"].to_numpy(dtype=np.float64) - ROW_MIDDLE_S, phases)
        inside = phase_of >= 0
        per_phase = np.bincount(phase_of[inside], weights=counts[inside], minlength=len(phases))
        by_phase = tuple(int(n) for n in per_phase)
        dropped, outside = int(counts.sum()), int(counts[~inside].sum())
    return Generator(
        lag_p99_ms=lag_p99,
        cpu_max_pct=float(cpu.max()) if len(cpu) else None,
        cpu_warning=run.cpu_warning,
        checked=tuple(checked),
        dropped=dropped,
        dropped_by_phase=by_phase,
        dropped_outside=outside,
    )
