"""Every scenario's users and shapes, for the web UI: `locust -f locustfile.py --class-picker`.

``make ui`` starts the service and this with the class picker; the "Verdict" tab shows each
endpoint's live level against thresholds.toml. Headless runs load one scenario module each
(``python -m scenarios run NAME``), because Locust runs the first shape it finds.
"""

import scenarios.webui  # noqa: F401  (adds the Verdict tab)
from scenarios.baseline import BaselineShape, BaselineUser
from scenarios.historical import HistoricalShape, HistoricalUser
from scenarios.open_capacity import CapacityShape
from scenarios.open_spike import OpenMarketDataUser, OpenSpikeShape
from scenarios.open_sustained import OpenSustainedShape
from scenarios.spike import SpikeShape
from scenarios.sustained import MarketDataUser, SustainedShape

__all__ = [
    "BaselineShape",
    "BaselineUser",
    "CapacityShape",
    "HistoricalShape",
    "HistoricalUser",
    "MarketDataUser",
    "OpenMarketDataUser",
    "OpenSpikeShape",
    "OpenSustainedShape",
    "SpikeShape",
    "SustainedShape",
]
