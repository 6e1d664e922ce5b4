"""Historical: 10 users make 50 checked /api/v1/historical requests each, then the run ends."""

from scenarios.locust_support import BudgetShape
from scenarios.users import HISTORICAL, HistoricalUser

__all__ = ["HistoricalUser", "HistoricalShape"]


class HistoricalShape(BudgetShape):
    scenario = "historical"
    budgeted_routes = (HISTORICAL,)
