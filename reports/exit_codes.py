"""The ``--fail-on`` level and the exit code it gives a verdict.

0 below the ``--fail-on`` level, 1 at or above it, 2 for bad input. Light on purpose (no pandas,
no matplotlib): the command line answers a bad argument from here before loading the analysis.
"""

from __future__ import annotations

from perf_lib.thresholds import Level
from reports.errors import ReportInputError

FAIL_ON_CHOICES = ("degraded", "critical", "never")
EXIT_OK, EXIT_FAIL, EXIT_BAD_INPUT = 0, 1, 2


def parse_fail_on(value: str) -> Level | None:
    """The level that fails the run; None for ``never``."""
    text = str(value).strip().lower()
    if text not in FAIL_ON_CHOICES:
        raise ReportInputError(
            f"unknown --fail-on level {value!r}: expected one of {', '.join(FAIL_ON_CHOICES)}"
        )
    return None if text == "never" else Level.parse(text)


def fails(level: Level, fail_on: str) -> bool:
    """Whether ``level`` reaches the ``fail_on`` level."""
    limit = parse_fail_on(fail_on)
    return limit is not None and level >= limit


def exit_code(verdict: str | Level, fail_on: str) -> int:
    """0 below the ``fail_on`` level, 1 at or above it."""
    level = verdict if isinstance(verdict, Level) else Level.parse(verdict)
    return EXIT_FAIL if fails(level, fail_on) else EXIT_OK
