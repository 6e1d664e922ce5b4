"""Response checks: pure functions from (status, body) to a failure message or None.

Every Locust user validates what it receives with these, so a 200 with a broken body is a
failure in the report, not a success. They import no Locust, so the tests call them directly.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

import orjson

Check = Callable[[int, bytes], str | None]


def _json_object(status: int, body: bytes, expected_status: int = 200) -> tuple[Any, str | None]:
    if status != expected_status:
        return None, f"HTTP {status}, expected {expected_status}"
    try:
        document = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None, "response is not valid JSON"
    if not isinstance(document, dict):
        return None, "response is not a JSON object"
    return document, None


def _missing(document: Mapping[str, Any], fields: Iterable[str], where: str = "") -> str | None:
    absent = [f for f in fields if f not in document]
    if absent:
        return f"missing field{'s' if len(absent) > 1 else ''} {', '.join(absent)}{where}"
    return None


def check_health(status: int, body: bytes) -> str | None:
    document, error = _json_object(status, body)
    if error:
        return error
    if error := _missing(document, ("status", "database", "uptime_seconds")):
        return error
    if document["status"] != "ok":
        return f"service reports status {document['status']!r} (database {document['database']!r})"
    return None


def check_status(status: int, body: bytes) -> str | None:
    document, error = _json_object(status, body)
    if error:
        return error
    return _missing(document, ("version", "uptime_seconds", "database"))


def check_metrics(status: int, body: bytes) -> str | None:
    document, error = _json_object(status, body)
    if error:
        return error
    if error := _missing(document, ("requests_total", "routes")):
        return error
    if not isinstance(document["routes"], dict):
        return "routes is not an object"
    return None


def symbol_listing(body: bytes) -> tuple[list[str], str]:
    """The tickers of a valid /api/v1/symbols body, and the latest date any of them has."""
    entries = orjson.loads(body)["symbols"]
    return [e["symbol"] for e in entries], max(e["last_date"] for e in entries)


def check_symbols(status: int, body: bytes) -> str | None:
    document, error = _json_object(status, body)
    if error:
        return error
    if error := _missing(document, ("count", "symbols")):
        return error
    symbols = document["symbols"]
    if not isinstance(symbols, list) or not symbols:
        return "symbols is empty or not a list"
    if document["count"] != len(symbols):
        return f"count {document['count']} but {len(symbols)} symbols listed"
    for entry in symbols:
        if error := _missing(entry, ("symbol", "name", "first_date", "last_date"), " in a symbol"):
            return error
    return None


def historical_check(symbol: str) -> Check:
    """A check for a /api/v1/historical response asked for ``symbol``."""

    def check(status: int, body: bytes) -> str | None:
        document, error = _json_object(status, body)
        if error:
            return error
        if error := _missing(document, ("symbol", "start", "end", "count", "bars")):
            return error
        if document["symbol"] != symbol:
            return f"asked for {symbol}, got {document['symbol']}"
        bars = document["bars"]
        if not isinstance(bars, list) or document["count"] != len(bars):
            return f"count {document['count']} does not match the bars returned"
        return _bars_error(bars, document["start"], document["end"])

    return check


def _bars_error(bars: list[Any], start: str, end: str) -> str | None:
    previous = ""
    for bar in bars:
        if not isinstance(bar, dict):
            return "a bar is not an object"
        if error := _missing(bar, ("date", "open", "high", "low", "close", "volume"), " in a bar"):
            return error
        date = bar["date"]
        if date <= previous:
            return f"bars out of order at {date}"
        if not start <= date <= end:
            return f"bar {date} outside {start}..{end}"
        if (
            not bar["low"]
            <= min(bar["open"], bar["close"])
            <= max(bar["open"], bar["close"])
            <= bar["high"]
        ):
            return f"inconsistent OHLC on {date}"
        previous = date
    return None


def server_time_ms(server_timing: str | None) -> float | None:
    """The ``app`` duration of a W3C Server-Timing header, in ms; None when absent."""
    if not server_timing:
        return None
    for metric in server_timing.split(","):
        name, _, params = metric.strip().partition(";")
        if name.strip() != "app":
            continue
        for param in params.split(";"):
            key, _, value = param.strip().partition("=")
            if key == "dur":
                try:
                    return float(value)
                except ValueError:
                    return None
    return None
