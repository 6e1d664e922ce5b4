"""Locust module for bench_open_model: the open model sending one cached historical query.

The driver, request log and generator.csv are the kit's (``scenarios.open_model``); only the
mix differs: the very request the closed loop of ``bench_service`` sends, unchecked as
there, so that a comparison of the two measures the loops rather than the response checks.
The driver's module is imported, not its class, so that Locust sees no second user class.
"""

from __future__ import annotations

import scenarios.open_model
from benchmarks.bench_service import HISTORICAL
from scenarios.locust_support import ScheduleShape


class CachedHistoricalOpenUser(scenarios.open_model.OpenMarketDataUser):
    def cached_history(self) -> None:
        self.client.get(HISTORICAL, name="bench")

    mix = [cached_history]


class CachedHistoricalOpenShape(ScheduleShape):
    scenario = "sustained"
    open_model = True
