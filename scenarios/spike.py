"""Spike: 10 users for 30 s, 50 users for 30 s (spawned at once), 10 users for 60 s."""

from scenarios.locust_support import ScheduleShape
from scenarios.users import MarketDataUser

__all__ = ["MarketDataUser", "SpikeShape"]


class SpikeShape(ScheduleShape):
    scenario = "spike"
