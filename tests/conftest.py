"""Shared fixtures, registered as plugins so test modules need not import them."""

pytest_plugins = ["tests.e2e_helpers", "tests.market_api_helpers"]
