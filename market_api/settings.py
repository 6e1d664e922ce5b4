"""Service configuration: one frozen value, read from the environment and CLI flags.

Every setting has an environment variable and a flag of the same meaning; a flag wins over
the variable. A bad value raises ``SettingsError`` naming where it came from, so that
``python -m market_api`` can print one line instead of a traceback.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

__all__ = ["Settings", "SettingsError", "SETTINGS_SOURCES"]


class SettingsError(ValueError):
    """A configuration value that cannot be used; the message names its variable or flag."""


def _switch(text: str) -> bool:
    value = text.strip().lower()
    if value in ("on", "true", "1", "yes"):
        return True
    if value in ("off", "false", "0", "no"):
        return False
    raise ValueError("must be on or off")


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise ValueError("must be a positive integer") from None
    if value < 1:
        raise ValueError("must be a positive integer")
    return value


def _number(text: str, *, positive: bool = False, at_most: float = math.inf) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    too_small = value <= 0 if positive else value < 0
    if not math.isfinite(value) or too_small or value > at_most:
        bound = "> 0" if positive else ">= 0"
        upper = f" and <= {at_most:g}" if math.isfinite(at_most) else ""
        raise ValueError(f"must be a number {bound}{upper}")
    return value


def _positive_number(text: str) -> float:
    return _number(text, positive=True)


def _window(text: str) -> tuple[float, float]:
    """``START,END`` in seconds, 0 <= START < END."""
    parts = text.split(",")
    try:
        start, end = (float(part) for part in parts)
    except ValueError:
        raise ValueError("must be START,END in seconds (for example 30,90)") from None
    if not (math.isfinite(start) and math.isfinite(end)):
        raise ValueError("START and END must be finite numbers of seconds")
    if start < 0:
        raise ValueError("START must be >= 0")
    if end <= start:
        raise ValueError("END must be after START")
    return start, end


def _path(text: str) -> Path:
    if not text.strip():
        raise ValueError("must be a file path")
    return Path(text)


def _seed(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise ValueError("must be an integer") from None


@dataclass(frozen=True)
class _Source:
    env: str
    flag: str
    parse: Callable[[str], Any]


#: field -> where it is read from and how it is parsed; ``__main__`` builds its flags from this.
SETTINGS_SOURCES: Mapping[str, _Source] = {
    "db_path": _Source("MARKET_API_DB", "--db", _path),
    "cache_enabled": _Source("MARKET_API_CACHE", "--cache", _switch),
    "cache_max_size": _Source("MARKET_API_CACHE_MAX_SIZE", "--cache-max-size", _positive_int),
    "cache_ttl": _Source("MARKET_API_CACHE_TTL", "--cache-ttl", _positive_number),
    "fault_db_latency_ms": _Source(
        "MARKET_API_FAULT_DB_LATENCY_MS", "--fault-db-latency-ms", lambda t: _number(t, at_most=6e4)
    ),
    "fault_error_rate": _Source(
        "MARKET_API_FAULT_ERROR_RATE", "--fault-error-rate", lambda t: _number(t, at_most=1.0)
    ),
    "fault_window_s": _Source("MARKET_API_FAULT_WINDOW_S", "--fault-window-s", _window),
    "fault_seed": _Source("MARKET_API_FAULT_SEED", "--fault-seed", _seed),
    "fault_stall_ms": _Source("MARKET_API_FAULT_STALL_MS", "--fault-stall-ms", _positive_number),
    "fault_stall_every_s": _Source(
        "MARKET_API_FAULT_STALL_EVERY_S", "--fault-stall-every-s", _positive_number
    ),
    "fault_capacity_rps": _Source(
        "MARKET_API_FAULT_CAPACITY_RPS", "--fault-capacity-rps", _positive_number
    ),
    "observability": _Source("MARKET_API_OBSERVABILITY", "--observability", _switch),
    "access_log": _Source("MARKET_API_ACCESS_LOG", "--access-log", _switch),
}


@dataclass(frozen=True)
class Settings:
    """What the service needs to start; defaults are the documented ones."""

    db_path: Path = Path("data/market.db")
    cache_enabled: bool = True
    cache_max_size: int = 1000
    cache_ttl: float = 300.0
    #: Added to every database query, with ``asyncio.sleep`` (never blocks the loop).
    fault_db_latency_ms: float = 0.0
    #: Fraction (0..1) of database queries that fail; such a request answers 503.
    fault_error_rate: float = 0.0
    #: (START, END): the faults above apply only from START to END seconds after the service
    #: started answering; None = for the whole run.
    fault_window_s: tuple[float, float] | None = None
    #: Seed of the fault dice, for reproducible fault patterns; None = unpredictable.
    fault_seed: int | None = None
    #: The service answers nothing for this many ms every ``fault_stall_every_s`` seconds
    #: (both or neither; 0 = no stall). Not for the observers' routes.
    fault_stall_ms: float = 0.0
    fault_stall_every_s: float = 0.0
    #: Requests served one at a time in arrival order, 1/R s each; None = no limit. Not for
    #: the observers' routes.
    fault_capacity_rps: float | None = None
    #: Off only to measure the cost of the request middleware and the query monitor.
    observability: bool = True
    #: One log line per request; off, the service still logs its start-up and its errors.
    access_log: bool = True

    @classmethod
    def from_env(
        cls,
        environ: Mapping[str, str] | None = None,
        flags: Mapping[str, str | None] | None = None,
    ) -> Settings:
        """Settings from ``environ`` (default ``os.environ``), overridden by ``flags``.

        ``flags`` maps field names to raw flag values (None = flag not given).
        """
        environ = os.environ if environ is None else environ
        flags = flags or {}
        values: dict[str, Any] = {}
        given: dict[str, str] = {}  # field -> "ORIGIN='RAW'", for errors about two settings
        for field in fields(cls):
            source = SETTINGS_SOURCES[field.name]
            flag_value = flags.get(field.name)
            if flag_value is not None:
                raw, origin = flag_value, source.flag
            elif source.env in environ:
                raw, origin = environ[source.env], source.env
            else:
                continue
            given[field.name] = f"{origin}={raw!r}"
            try:
                values[field.name] = source.parse(raw)
            except ValueError as exc:
                raise SettingsError(f"{given[field.name]}: {exc}") from None
        _check_stall(values, given)
        return cls(**values)


def _check_stall(values: Mapping[str, Any], given: Mapping[str, str]) -> None:
    """A stall needs both its length and its period, and must end before the next one begins."""
    length, period = "fault_stall_ms", "fault_stall_every_s"
    if (length in values) != (period in values):
        present, missing = (length, period) if length in values else (period, length)
        source = SETTINGS_SOURCES[missing]
        name = source.flag if given[present].startswith("--") else source.env
        raise SettingsError(f"{given[present]}: needs {name} too")
    if length in values and values[length] >= values[period] * 1000.0:
        raise SettingsError(f"{given[length]}: must be shorter than {given[period]} (in ms)")
