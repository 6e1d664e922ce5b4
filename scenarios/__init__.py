"""Locust scenarios, the kit's shapes for any locustfile, and the runner that drives them.

Only the modules that run inside a Locust process (baseline, historical, sustained, spike,
users, locust_support, request_log, run_session, user_headers, kit, kit_shape, webui) import
Locust; the runner, the plan, the schedules and stages, the response checks, the sampler and
the recovery watch do not, so they are safe to import anywhere, tests included.
"""
