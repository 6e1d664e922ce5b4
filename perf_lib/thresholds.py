"""Healthy / degraded / critical limits, shared by the service, the live UI and the reports.

The table is the seed's; it lives in ``thresholds.toml`` so that a team can tighten it per
endpoint without touching code. A value equal to the healthy limit is already degraded, and a
value equal to the degraded limit is still degraded: only a value above it is critical.
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import IntEnum
from pathlib import Path
from types import MappingProxyType
from typing import Any

METRICS: tuple[str, ...] = ("avg_ms", "p95_ms", "p99_ms", "error_rate_pct")


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


@dataclass(frozen=True)
class Limit:
    """The two limits of one metric."""

    healthy: float
    degraded: float

    def __post_init__(self) -> None:
        for name in ("healthy", "degraded"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise ValueError(f"{name} must be a number, not {value!r}")
            if not math.isfinite(value) or value < 0:
                raise ValueError(f"{name} must be a finite number >= 0, not {value!r}")
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


@dataclass(frozen=True)
class Thresholds:
    """Default limits per metric plus per-endpoint overrides (keyed by route template)."""

    defaults: Mapping[str, Limit] = field(default_factory=lambda: DEFAULT_LIMITS)
    endpoints: Mapping[str, Mapping[str, Limit]] = field(default_factory=dict)
    source: str = "built-in defaults"

    def limits_for(self, endpoint: str | None = None) -> dict[str, Limit]:
        """The limits that apply to ``endpoint``: its overrides on top of the defaults."""
        limits = dict(self.defaults)
        if endpoint is not None:
            limits.update(self.endpoints.get(endpoint, {}))
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
        unknown = set(document) - {"default", "endpoints"}
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
        return cls(MappingProxyType(defaults), MappingProxyType(endpoints), source)


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
