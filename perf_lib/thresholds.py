"""Healthy / degraded / critical limits, shared by the service, the live UI and the reports.

The table lives in ``thresholds.toml`` so that a team can tighten it per endpoint without
touching code. A value equal to the healthy limit is already degraded, and a value equal to the
degraded limit is still degraded: only a value above it is critical. The ``[recovery]`` table
holds how soon a spike must be over and what "back to normal" means.
"""

from __future__ import annotations

import math
import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import IntEnum
from pathlib import Path
from types import MappingProxyType
from typing import Any

#: An endpoint named "METHOD path": a path that more than one method was sent to.
_METHOD_PREFIX = re.compile(r"^[A-Z]+ (?=/)")

METRICS: tuple[str, ...] = ("avg_ms", "p95_ms", "p99_ms", "error_rate_pct")
#: Read from the current directory when no thresholds file is named.
DEFAULT_THRESHOLDS_FILE = "thresholds.toml"


class Level(IntEnum):
    """Ordered so that ``max()`` of levels is the worst one."""

    HEALTHY = 0
    DEGRADED = 1
    CRITICAL = 2

    @property
    def label(self) -> str:
        return self.name.lower()

    @classmethod
    def parse(cls, text: str) -> Level:
        try:
            return cls[text.strip().upper()]
        except KeyError:
            names = ", ".join(level.label for level in cls)
            raise ValueError(f"unknown level {text!r}: expected one of {names}") from None


def worst(levels: Iterable[Level]) -> Level:
    """The worst of ``levels``; healthy when there are none."""
    return max(levels, default=Level.HEALTHY)


class ThresholdsError(ValueError):
    """A thresholds file that is missing or malformed; the message names the file."""


def _check_limit(name: str, value: object) -> None:
    """A limit is a finite number >= 0 (a bool is not a number here)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{name} must be a number, not {value!r}")
    if not math.isfinite(value) or value < 0:
        raise ValueError(f"{name} must be a finite number >= 0, not {value!r}")


@dataclass(frozen=True)
class Limit:
    """The two limits of one metric."""

    healthy: float
    degraded: float

    def __post_init__(self) -> None:
        for name in ("healthy", "degraded"):
            _check_limit(name, getattr(self, name))
        if self.healthy > self.degraded:
            raise ValueError(
                f"healthy limit {self.healthy} is above the degraded limit {self.degraded}"
            )

    def level(self, value: float) -> Level:
        if value < self.healthy:
            return Level.HEALTHY
        if value <= self.degraded:
            return Level.DEGRADED
        return Level.CRITICAL


DEFAULT_LIMITS: Mapping[str, Limit] = MappingProxyType(
    {
        "avg_ms": Limit(100, 300),
        "p95_ms": Limit(200, 500),
        "p99_ms": Limit(400, 800),
        "error_rate_pct": Limit(1, 5),
    }
)


RECOVERY_KEYS: tuple[str, ...] = ("healthy_s", "degraded_s", "tolerance_pct", "tolerance_ms")


@dataclass(frozen=True)
class RecoveryLimits:
    """How soon after a spike the service must be back to normal, and what normal means.

    Recovered within ``healthy_s`` is healthy, within ``degraded_s`` degraded, later or never
    critical (the fast/slow/none buckets of spike testing). "Back to normal" is a p95 within
    ``tolerance_pct`` of the baseline's **or** within ``tolerance_ms`` of it: on a 2.5 ms p95,
    10 % is a quarter of a millisecond, which is noise, so the absolute floor keeps it honest.
    """

    healthy_s: float = 30.0
    degraded_s: float = 180.0
    tolerance_pct: float = 10.0
    tolerance_ms: float = 5.0

    def __post_init__(self) -> None:
        for name in RECOVERY_KEYS:
            _check_limit(name, getattr(self, name))
        if self.healthy_s > self.degraded_s:
            raise ValueError(f"healthy_s {self.healthy_s} is above degraded_s {self.degraded_s}")

    def scaled(self, time_scale: float) -> RecoveryLimits:
        """The time limits of a run whose phases are ``time_scale`` times as long."""
        if not (time_scale > 0 and math.isfinite(time_scale)):
            raise ValueError(f"time scale must be a finite number > 0, not {time_scale!r}")
        return RecoveryLimits(
            self.healthy_s * time_scale,
            self.degraded_s * time_scale,
            self.tolerance_pct,
            self.tolerance_ms,
        )

    def level(self, seconds: float | None) -> Level:
        """The verdict of a recovery time; ``None`` (never recovered) is critical."""
        if seconds is None:
            return Level.CRITICAL
        if seconds <= self.healthy_s:
            return Level.HEALTHY
        if seconds <= self.degraded_s:
            return Level.DEGRADED
        return Level.CRITICAL

    def p95_limit_ms(self, baseline_p95_ms: float) -> float:
        """The highest p95 that still counts as back to normal."""
        return max(
            baseline_p95_ms * (1.0 + self.tolerance_pct / 100.0),
            baseline_p95_ms + self.tolerance_ms,
        )

    def to_dict(self) -> dict[str, float]:
        return {name: getattr(self, name) for name in RECOVERY_KEYS}


@dataclass(frozen=True)
class Thresholds:
    """Default limits per metric, per-endpoint overrides (keyed by route template), recovery."""

    defaults: Mapping[str, Limit] = field(default_factory=lambda: DEFAULT_LIMITS)
    endpoints: Mapping[str, Mapping[str, Limit]] = field(default_factory=dict)
    source: str = "built-in defaults"
    recovery: RecoveryLimits = field(default_factory=RecoveryLimits)

    def limits_for(self, endpoint: str | None = None) -> dict[str, Limit]:
        """The limits that apply to ``endpoint``: its overrides on top of the defaults."""
        limits = dict(self.defaults)
        if endpoint is not None:
            overrides = self.endpoints.get(endpoint)
            method = _METHOD_PREFIX.match(endpoint)
            if overrides is None and method is not None:  # "POST /orders": /orders' limits
                overrides = self.endpoints.get(endpoint[method.end() :])
            limits.update(overrides or {})
        return limits

    def level(self, metric: str, value: float | None, endpoint: str | None = None) -> Level:
        """The level of one metric; a missing value (no samples) is healthy."""
        if metric not in METRICS:
            raise KeyError(f"unknown metric {metric!r}: expected one of {', '.join(METRICS)}")
        if value is None or (isinstance(value, float) and math.isnan(value)):
            return Level.HEALTHY
        return self.limits_for(endpoint)[metric].level(value)

    def check(
        self, values: Mapping[str, float | None], endpoint: str | None = None
    ) -> dict[str, Level]:
        """Each known metric present in ``values`` with its level."""
        return {m: self.level(m, values[m], endpoint) for m in METRICS if m in values}

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready form, for reports that show which limits were used."""

        def table(limits: Mapping[str, Limit]) -> dict[str, dict[str, float]]:
            return {
                m: {"healthy": lim.healthy, "degraded": lim.degraded} for m, lim in limits.items()
            }

        return {
            "source": self.source,
            "default": table(self.defaults),
            "endpoints": {name: table(lims) for name, lims in self.endpoints.items()},
            "recovery": self.recovery.to_dict(),
        }

    @classmethod
    def load(cls, path: str | Path) -> Thresholds:
        """Read a thresholds TOML file; any problem raises one ThresholdsError naming the file."""
        path = Path(path)
        try:
            with path.open("rb") as fh:
                document = tomllib.load(fh)
        except FileNotFoundError:
            raise ThresholdsError(f"{path}: thresholds file not found") from None
        except IsADirectoryError:
            raise ThresholdsError(f"{path}: is a directory, not a thresholds file") from None
        except OSError as exc:
            raise ThresholdsError(f"{path}: cannot read thresholds file ({exc.strerror})") from None
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ThresholdsError(f"{path}: not valid TOML ({exc})") from None
        try:
            return cls.from_dict(document, source=str(path))
        except ValueError as exc:
            raise ThresholdsError(f"{path}: {exc}") from None

    @classmethod
    def from_dict(cls, document: Mapping[str, Any], source: str = "inline") -> Thresholds:
        unknown = set(document) - {"default", "endpoints", "recovery"}
        if unknown:
            raise ValueError(f"unknown section(s) {', '.join(sorted(unknown))}")
        defaults = dict(DEFAULT_LIMITS)
        defaults.update(_parse_limits(document.get("default", {}), "[default]"))
        endpoints_doc = document.get("endpoints", {})
        if not isinstance(endpoints_doc, Mapping):
            raise ValueError("[endpoints] must be a table of route templates")
        endpoints = {
            str(name): _parse_limits(table, f'[endpoints."{name}"]')
            for name, table in endpoints_doc.items()
        }
        recovery = _parse_recovery(document.get("recovery", {}))
        return cls(MappingProxyType(defaults), MappingProxyType(endpoints), source, recovery)


def thresholds_path(path: str | Path | None = None) -> Path | None:
    """The file that holds the thresholds: ``path``; else ``thresholds.toml`` in the current
    directory when there is one; else None (the built-in table)."""
    if path is not None:
        return Path(path)
    default = Path(DEFAULT_THRESHOLDS_FILE)
    return default if default.is_file() else None


def resolve_thresholds(path: str | Path | None = None) -> Thresholds:
    """The thresholds of ``thresholds_path(path)``, or the built-in table.

    Raises ``ThresholdsError`` (one line naming the file) for a file that is missing or bad.
    """
    found = thresholds_path(path)
    return Thresholds() if found is None else Thresholds.load(found)


def _parse_recovery(table: Any) -> RecoveryLimits:
    if not isinstance(table, Mapping):
        raise ValueError("[recovery] must be a table")
    unknown = set(table) - set(RECOVERY_KEYS)
    if unknown:
        raise ValueError(
            f"[recovery]: unknown key(s) {', '.join(sorted(unknown))} "
            f"(expected {', '.join(RECOVERY_KEYS)})"
        )
    try:
        return RecoveryLimits(**{**RecoveryLimits().to_dict(), **table})
    except ValueError as exc:
        raise ValueError(f"[recovery]: {exc}") from None


def _parse_limits(table: Any, where: str) -> dict[str, Limit]:
    if not isinstance(table, Mapping):
        raise ValueError(f"{where} must be a table")
    limits: dict[str, Limit] = {}
    for metric, spec in table.items():
        if metric not in METRICS:
            raise ValueError(f"{where}: unknown metric {metric!r} (expected {', '.join(METRICS)})")
        if not isinstance(spec, Mapping) or set(spec) != {"healthy", "degraded"}:
            raise ValueError(f"{where}: {metric} must be {{ healthy = N, degraded = N }}")
        try:
            limits[metric] = Limit(spec["healthy"], spec["degraded"])
        except ValueError as exc:
            raise ValueError(f"{where}: {metric}: {exc}") from None
    return limits
