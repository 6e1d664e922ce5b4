"""Locust scenarios for the market-data API and the runner that drives them.

Only the scenario modules (baseline, historical, sustained, spike, users, locust_support,
request_log, webui) import Locust; the runner, the schedules, the response checks and the
recovery watch do not, so they are safe to import anywhere, tests included.
"""
