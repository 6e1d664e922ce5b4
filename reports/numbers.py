"""How every renderer writes a number: one place, so the terminal, Markdown, HTML, the
explanations and the comparison show the same figure the same way.

A missing value (None, NaN, or anything that is not a number) is written as ``missing``: an
en dash in tables, "n/a" where it stands in a sentence.
"""

from __future__ import annotations

import math
from typing import Any

MISSING = "–"
NA = "n/a"


def as_float(value: Any) -> float | None:
    """``value`` as a finite float; None for None, NaN, infinities, booleans and non-numbers."""
    if value is None or isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def num(value: Any, digits: int = 1, *, sign: bool = False, missing: str = MISSING) -> str:
    """``1,234.5``; ``+12.0`` with ``sign``."""
    number = as_float(value)
    if number is None:
        return missing
    return f"{number:{'+' if sign else ''},.{digits}f}"


def signed(value: Any, digits: int = 1, *, missing: str = MISSING) -> str:
    """``+12.0`` / ``-3.5``: a change."""
    return num(value, digits, sign=True, missing=missing)


def count(value: Any, *, missing: str = MISSING) -> str:
    """A whole number with thousands separators: ``12,345``."""
    number = as_float(value)
    return missing if number is None else f"{round(number):,}"


def seconds(value: Any, *, missing: str = MISSING) -> str:
    """``30 s``, ``1.5 s``: whole seconds without decimals."""
    number = as_float(value)
    if number is None:
        return missing
    return f"{number:,.0f} s" if number == round(number) else f"{number:,.1f} s"


def plain(value: Any, *, missing: str = MISSING) -> str:
    """An int as it is, a float with two decimals (a value of unknown kind, e.g. compared)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return num(value, 2, missing=missing)


def span(before: Any, after: Any, unit: str = "ms", digits: int = 1, *, missing: str = NA) -> str:
    """``2.5 → 3.6 ms``: a change in absolute terms."""
    return f"{num(before, digits, missing=missing)} → {num(after, digits, missing=missing)} {unit}"
