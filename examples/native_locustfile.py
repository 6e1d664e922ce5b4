"""The orders users (examples/locustfile.py) under the kit's spike, run with plain ``locust``.

For a team that keeps its own Locust command: the kit's shape and request log come in as two
imports, and each test still leaves a run directory the kit can judge.

    python examples/orders_api.py --port 8000 &
    locust -f examples/native_locustfile.py --headless --host http://127.0.0.1:8000 \
        --time-scale 0.1
    python -m reports build results/<run>

The test follows the kit's spike (10 -> 50 -> 10 users, ten times shorter with
``--time-scale 0.1``) and writes ``results/spike-<UTC time>/`` (``--kit-out DIR`` for another
parent) with requests.csv, phases.jsonl and run.json; ``reports build`` gives the verdict.
"""

# examples/locustfile.py: Locust puts this file's folder first on the path while loading it.
from locustfile import OrdersUser
from scenarios.kit import SpikeShape, request_log

__all__ = ["OrdersUser", "SpikeShape"]

request_log()
