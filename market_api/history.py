"""The rules of ``/api/v1/historical``: input validation, default range, row limit, encoding.

Everything that can be checked without the database is checked before the cache is asked,
so an invalid request never counts as a cache miss; what needs the symbol's dates (its
existence, the default range) is checked by the query itself.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import orjson

from market_api.errors import InvalidInput, NotFound
from market_api.store import Bar, Store

__all__ = [
    "DEFAULT_SPAN_DAYS",
    "MAX_BARS",
    "OPENAPI_PARAMETERS",
    "HistoryRequest",
    "business_days",
    "encode_history",
    "parse_request",
    "query_history",
]

SYMBOL_PATTERN = r"^[A-Z][A-Z0-9.]{0,9}$"
#: ASCII digits only: ``\d`` would also match other scripts' digits.
DATE_PATTERN = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
#: At most this many business days per request (about ten years), so at most this many bars.
MAX_BARS = 2600
#: Without ``start``, the range covers this many days up to ``end``.
DEFAULT_SPAN_DAYS = 365
_BAR_FIELDS = ("date", "open", "high", "low", "close", "volume")
_SYMBOL = re.compile(SYMBOL_PATTERN)
_DATE = re.compile(DATE_PATTERN)

#: The query parameters as OpenAPI documents them (the handler parses them itself).
OPENAPI_PARAMETERS: list[dict[str, Any]] = [
    {
        "name": "symbol",
        "in": "query",
        "required": True,
        "description": "Ticker: an upper-case letter, then up to 9 of A-Z, 0-9 and '.'",
        "schema": {"type": "string", "pattern": SYMBOL_PATTERN, "maxLength": 10},
        "example": "AAPL",
    },
    {
        "name": "start",
        "in": "query",
        "required": False,
        "description": f"First day (YYYY-MM-DD); default: {DEFAULT_SPAN_DAYS} days before end",
        "schema": {"type": "string", "format": "date", "pattern": DATE_PATTERN},
        "example": "2024-01-02",
    },
    {
        "name": "end",
        "in": "query",
        "required": False,
        "description": "Last day (YYYY-MM-DD); default: the symbol's last bar",
        "schema": {"type": "string", "format": "date", "pattern": DATE_PATTERN},
        "example": "2024-12-31",
    },
]


@dataclass(frozen=True, slots=True)
class HistoryRequest:
    """Validated parameters; ``start_text``/``end_text`` are the canonical strings given."""

    symbol: str
    start: date | None
    end: date | None
    start_text: str | None
    end_text: str | None


def _date(name: str, text: str | None) -> date | None:
    if text is None:
        return None
    if _DATE.fullmatch(text) is None:
        raise InvalidInput(f"{name} is malformed (expected YYYY-MM-DD)")
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InvalidInput(f"{name} is not a valid calendar date") from None


def parse_request(params: Mapping[str, str]) -> HistoryRequest:
    """Validate the query parameters; InvalidInput names the parameter, never its value.

    Parsed here rather than by FastAPI's parameter machinery, which costs more than the
    whole cache hit on this endpoint.
    """
    symbol = params.get("symbol")
    if symbol is None:
        raise InvalidInput("symbol is required")
    if _SYMBOL.fullmatch(symbol) is None:
        raise InvalidInput("symbol is malformed")
    start_text, end_text = params.get("start"), params.get("end")
    start, end = _date("start", start_text), _date("end", end_text)
    if start is not None and end is not None:
        check_range(start, end)
    return HistoryRequest(symbol, start, end, start_text, end_text)


def business_days(start: date, end: date) -> int:
    """Monday-to-Friday days from ``start`` to ``end`` inclusive (0 when start > end)."""
    days = (end - start).days + 1
    if days <= 0:
        return 0
    weeks, rest = divmod(days, 7)
    first = start.weekday()
    return weeks * 5 + sum(1 for offset in range(rest) if (first + offset) % 7 < 5)


def check_range(start: date, end: date) -> None:
    """InvalidInput for a reversed range or one over MAX_BARS business days."""
    if start > end:
        raise InvalidInput("start is after end")
    if business_days(start, end) > MAX_BARS:
        raise InvalidInput(f"the range spans more than {MAX_BARS} business days")


def _days_before(day: date, days: int) -> date:
    try:
        return day - timedelta(days=days)
    except OverflowError:
        return date.min


def query_history(store: Store, request: HistoryRequest) -> tuple[date, date, list[Bar]]:
    """(start, end, bars) with the defaults applied; blocking, run in a worker thread.

    NotFound for an unknown symbol. Without ``end`` the range ends at the symbol's last bar;
    without ``start`` it begins DEFAULT_SPAN_DAYS before ``end``.
    """
    symbol, start, end = request.symbol, request.start, request.end
    info = next((s for s in store.symbols() if s.symbol == symbol), None)
    if info is None:
        raise NotFound("unknown symbol")
    if end is None:
        end = info.last_date
        if start is not None and start > end:
            raise InvalidInput("start is after the symbol's last bar")
    if start is None:
        start = _days_before(end, DEFAULT_SPAN_DAYS)
    check_range(start, end)
    return start, end, store.bars(symbol, start, end)


def encode_history(symbol: str, start: date, end: date, bars: list[Bar]) -> bytes:
    """The response body: the range actually served and its bars in date order."""
    return orjson.dumps(
        {
            "symbol": symbol,
            "start": start,
            "end": end,
            "count": len(bars),
            "bars": [dict(zip(_BAR_FIELDS, bar, strict=True)) for bar in bars],
        }
    )
