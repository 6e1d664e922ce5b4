"""The Locust users: what each scenario's traffic looks like, request by request.

Historical ranges come from the menu a charting front end offers (1, 3, 6 and 12 months),
over symbols discovered from /api/v1/symbols. Most charts end on the latest bar, the rest on
one of the previous twelve month ends: repeated windows are what make the service's cache
matter, as they do in production, while the older windows keep the database in play.
"""

from __future__ import annotations

import datetime as dt
import random
from typing import ClassVar

from locust import task

from scenarios.checks import (
    check_health,
    check_metrics,
    check_status,
    check_symbols,
    historical_check,
    symbol_listing,
)
from scenarios.locust_support import MarketUser

RANGE_DAYS = (30, 91, 182, 365)
#: The share of charts that end on the latest bar; the others end on a recent month end.
LATEST_SHARE = 0.8
RECENT_MONTHS = 12
HISTORICAL = "/api/v1/historical"
SYMBOLS = "/api/v1/symbols"


class BaselineUser(MarketUser):
    """Calls the four light endpoints in turn: 100 requests, then stops."""

    scenario = "baseline"
    request_budget: ClassVar[int | None] = 100
    routes = (
        ("/health", check_health),
        ("/api/v1/status", check_status),
        (SYMBOLS, check_symbols),
        ("/api/v1/metrics", check_metrics),
    )

    @task
    def next_endpoint(self) -> None:
        name, check = self.routes[self.budget_used % len(self.routes)]
        self.checked_get(name, check)
        self.spend_budget()


class HistoricalClient(MarketUser):
    """Discovers the symbols once, then asks for their history over chart-like ranges."""

    abstract = True

    def on_start(self) -> None:
        body = self.checked_get(SYMBOLS, check_symbols)
        try:
            self.symbols, last = symbol_listing(body)
            self.last_date = dt.date.fromisoformat(last)
        except (ValueError, KeyError, TypeError):  # already a failure in the stats
            self.symbols, self.last_date = ["AAPL"], dt.date.today()

    def fetch_history(self) -> None:
        symbol = random.choice(self.symbols)
        months_back = 0 if random.random() < LATEST_SHARE else random.randint(1, RECENT_MONTHS)
        end = _month_end(self.last_date, months_back)
        start = end - dt.timedelta(days=random.choice(RANGE_DAYS))
        params = {"symbol": symbol, "start": start.isoformat(), "end": end.isoformat()}
        self.checked_get(HISTORICAL, historical_check(symbol), params)


class HistoricalUser(HistoricalClient):
    """50 checked /api/v1/historical requests for random symbols and ranges, then stops."""

    scenario = "historical"
    request_budget: ClassVar[int | None] = 50

    @task
    def history(self) -> None:
        self.fetch_history()
        self.spend_budget()


class MarketDataUser(HistoricalClient):
    """The mixed traffic of a market-data front end: mostly history, some listings and status."""

    scenario = "sustained"

    @task(8)
    def history(self) -> None:
        self.fetch_history()

    @task(1)
    def symbols(self) -> None:
        self.checked_get(SYMBOLS, check_symbols)

    @task(1)
    def health(self) -> None:
        self.checked_get("/health", check_health)


def _month_end(last: dt.date, months_back: int) -> dt.date:
    """The last day of the month ``months_back`` before ``last``'s (``last`` itself for 0)."""
    if months_back == 0:
        return last
    first_of_month = last.replace(day=1)
    for _ in range(months_back - 1):
        first_of_month = (first_of_month - dt.timedelta(days=1)).replace(day=1)
    return first_of_month - dt.timedelta(days=1)
