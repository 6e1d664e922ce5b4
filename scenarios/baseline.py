"""Baseline: 10 users call the four light endpoints, 100 requests each, then the run ends."""

from scenarios.locust_support import BudgetShape
from scenarios.users import BaselineUser

__all__ = ["BaselineUser", "BaselineShape"]


class BaselineShape(BudgetShape):
    scenario = "baseline"
    budgeted_routes = tuple(name for name, _check in BaselineUser.routes)
