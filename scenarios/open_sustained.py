"""Sustained load as an open model: R arrivals per second (``--model open``)."""

from scenarios.locust_support import ScheduleShape
from scenarios.open_model import OpenMarketDataUser

__all__ = ["OpenMarketDataUser", "OpenSustainedShape"]


class OpenSustainedShape(ScheduleShape):
    scenario = "sustained"
    open_model = True
