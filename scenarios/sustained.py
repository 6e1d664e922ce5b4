"""Sustained: constant mixed market-data traffic from 10 users for 60 s (``--duration``)."""

from scenarios.locust_support import ScheduleShape
from scenarios.users import MarketDataUser

__all__ = ["MarketDataUser", "SustainedShape"]


class SustainedShape(ScheduleShape):
    scenario = "sustained"
