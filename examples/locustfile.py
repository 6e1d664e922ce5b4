"""Users of the orders service (examples/orders_api.py), to run under the kit's shapes.

A locustfile of your own needs nothing from the kit: plain ``HttpUser`` classes, no shape.
The kit brings the schedule, the request log, the start check and the report:

    python examples/orders_api.py --port 8000 &
    python -m scenarios run spike --locustfile examples/locustfile.py \
        --host http://127.0.0.1:8000 --health-path /healthz

``--stages 30s:10,30s:50,60s:10`` or ``--schedule FILE`` sets phases of your own, and
``--header 'X-Api-Key: env:ORDERS_KEY'`` sends a key without writing it anywhere.

Every response is checked, not only its status: a 200 with the wrong body is a failure too,
with a message that says what was wrong.
"""

from __future__ import annotations

import random

from locust import HttpUser, between, task
from locust.clients import ResponseContextManager

#: The orders the service starts with: ids to ask for before the first list came back.
KNOWN_IDS = range(1, 21)


def json_body(response: ResponseContextManager, status: int) -> object | None:
    """The response's JSON when it has ``status``; None, with the failure recorded, otherwise."""
    if response.status_code != status:
        response.failure(f"expected {status}, got {response.status_code}")
        return None
    try:
        return response.json()
    except ValueError:
        response.failure("the body is not JSON")
        return None


class OrdersUser(HttpUser):
    wait_time = between(0.05, 0.15)

    def on_start(self) -> None:
        self.order_ids: list[int] = list(KNOWN_IDS)

    @task(5)
    def list_orders(self) -> None:
        with self.client.get("/orders", catch_response=True) as response:
            orders = json_body(response, 200)
            if orders is None:
                return
            if not isinstance(orders, list) or not all("id" in o for o in orders):
                response.failure("expected a list of orders with ids")
                return
            self.order_ids = [o["id"] for o in orders] or self.order_ids

    @task(3)
    def view_order(self) -> None:
        order_id = random.choice(self.order_ids)
        with self.client.get(
            f"/orders/{order_id}", name="/orders/[id]", catch_response=True
        ) as response:
            order = json_body(response, 200)
            if order is not None and (not isinstance(order, dict) or order.get("id") != order_id):
                response.failure(f"expected order {order_id}")

    @task(1)
    def create_order(self) -> None:
        new = {"item": random.choice(["book", "lamp", "mug"]), "quantity": random.randint(1, 5)}
        with self.client.post("/orders", json=new, catch_response=True) as response:
            order = json_body(response, 201)
            if order is not None and (not isinstance(order, dict) or "id" not in order):
                response.failure("expected the new order with its id")
