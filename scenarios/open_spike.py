"""The spike as an open model: R, 5R, R arrivals per second (``--model open``)."""

from scenarios.locust_support import ScheduleShape
from scenarios.open_model import OpenMarketDataUser

__all__ = ["OpenMarketDataUser", "OpenSpikeShape"]


class OpenSpikeShape(ScheduleShape):
    scenario = "spike"
    open_model = True
