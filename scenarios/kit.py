"""The kit for a locustfile of your own, run with plain ``locust``.

    from locust import HttpUser, task
    from scenarios.kit import SpikeShape, request_log

    request_log()  # each test's run directory under results/

    class Shopper(HttpUser):
        @task
        def browse(self):
            self.client.get("/products")

``locust -f this_file.py --headless --host URL`` then follows the kit's spike (10 -> 50 -> 10
users; ``--time-scale``, ``--base-users``), watches the recovery, and leaves
``results/spike-<UTC time>/`` with requests.csv, the phases and run.json; ``python -m reports
build`` on that directory gives the verdict. ``python -m scenarios run spike --locustfile`` does
all of it in one command, with the server side sampled too.
"""

from __future__ import annotations

from pathlib import Path

from scenarios import run_session
from scenarios.spike import SpikeShape
from scenarios.sustained import SustainedShape

__all__ = ["SpikeShape", "SustainedShape", "request_log"]


def request_log(out: str | Path = "results") -> None:
    """Record each test in its own run directory under ``out`` (``--kit-out`` overrides it):
    the per-request log, the phase log and run.json, and build its report when it ends."""
    run_session.enable(out)
