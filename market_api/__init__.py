"""market_api: the reference market-data service that the load tests run against."""

from market_api.app import create_app
from market_api.settings import Settings, SettingsError

__all__ = ["Settings", "SettingsError", "create_app"]
