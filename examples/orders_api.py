"""A small orders service: a target that is not the reference API.

The kit is meant for any HTTP API, so its example locustfiles and the tests that run them need
a service of another shape than ``market_api``: other routes, a health check at ``/healthz``
(no ``/health``), and no performance or metrics endpoints, so the server side of a run
against it cannot be sampled. Standard library only; binds 127.0.0.1 unless told otherwise.

    python examples/orders_api.py --port 8000

| route | answers |
|---|---|
| ``GET /healthz`` | 200 ``{"status": "ok"}`` |
| ``GET /orders`` | 200, the orders as a JSON list |
| ``GET /orders/<id>`` | 200, the order; 404 when there is none |
| ``POST /orders`` | 201, the new order, from a JSON body ``{"item", "quantity"}``; 400 otherwise |

``--not-found`` makes every route but ``/healthz`` answer 404 (a broken deployment), and
``--record-headers FILE`` appends each request's method, path and headers to FILE as one JSON
line, to check what reached the service.
"""

from __future__ import annotations

import argparse
import json
import threading
import time
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

SEEDED_ORDERS = 20
HEALTH_PATH = "/healthz"


class OrdersServer(ThreadingHTTPServer):
    # A spike connects dozens of users at once: the default backlog of 5 would drop some.
    request_queue_size = 128

    def __init__(
        self,
        address: tuple[str, int],
        delay_s: float,
        not_found: bool,
        record_headers: Path | None,
    ) -> None:
        super().__init__(address, OrdersHandler)
        self.delay_s = delay_s
        self.not_found = not_found
        self.record_headers = record_headers
        self.lock = threading.Lock()
        self.orders: dict[int, dict[str, Any]] = {
            n: {"id": n, "item": f"item-{n}", "quantity": n % 5 + 1}
            for n in range(1, SEEDED_ORDERS + 1)
        }

    def record(self, method: str, path: str, headers: dict[str, str]) -> None:
        if self.record_headers is None:
            return
        line = json.dumps({"method": method, "path": path, "headers": headers})
        with self.lock, self.record_headers.open("a", encoding="utf-8") as log:
            log.write(line + "\n")


class OrdersHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as a load generator expects
    server: OrdersServer

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    def log_message(self, format: str, *args: Any) -> None:
        """No access log: a run sends thousands of requests."""

    def _handle(self, method: str) -> None:
        server = self.server
        server.record(method, self.path, dict(self.headers.items()))
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        time.sleep(server.delay_s)
        path = self.path.split("?", 1)[0].rstrip("/") or "/"
        if path == HEALTH_PATH and method == "GET":
            self._send(HTTPStatus.OK, {"status": "ok"})
        elif server.not_found:
            self._send(HTTPStatus.NOT_FOUND, {"error": "not found"})
        elif path == "/orders" and method == "GET":
            with server.lock:
                orders = list(server.orders.values())
            self._send(HTTPStatus.OK, orders)
        elif path == "/orders" and method == "POST":
            self._create(body)
        elif path.startswith("/orders/") and method == "GET":
            order_id = path.removeprefix("/orders/")
            with server.lock:
                order = server.orders.get(int(order_id)) if order_id.isdigit() else None
            if order is None:
                self._send(HTTPStatus.NOT_FOUND, {"error": f"no order {order_id}"})
            else:
                self._send(HTTPStatus.OK, order)
        else:
            self._send(HTTPStatus.NOT_FOUND, {"error": "not found"})

    def _create(self, body: bytes) -> None:
        try:
            fields = json.loads(body)
            item, quantity = fields["item"], fields["quantity"]
        except (ValueError, TypeError, KeyError):
            self._send(HTTPStatus.BAD_REQUEST, {"error": "expected JSON {item, quantity}"})
            return
        if not isinstance(item, str) or not isinstance(quantity, int) or quantity < 1:
            self._send(HTTPStatus.BAD_REQUEST, {"error": "item: string, quantity: at least 1"})
            return
        with self.server.lock:
            order_id = max(self.server.orders, default=0) + 1
            order = {"id": order_id, "item": item, "quantity": quantity}
            self.server.orders[order_id] = order
        self._send(HTTPStatus.CREATED, order, location=f"/orders/{order_id}")

    def _send(self, status: HTTPStatus, document: Any, location: str | None = None) -> None:
        payload = json.dumps(document).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        if location is not None:
            self.send_header("Location", location)
        self.end_headers()
        self.wfile.write(payload)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8000, help="port; 0 picks a free one")
    parser.add_argument("--delay-ms", type=float, default=2.0, help="time spent per request")
    parser.add_argument(
        "--not-found", action="store_true", help="every route but /healthz answers 404"
    )
    parser.add_argument(
        "--record-headers", type=Path, metavar="FILE", help="append each request's headers"
    )
    args = parser.parse_args(argv)
    server = OrdersServer(
        (args.host, args.port), args.delay_ms / 1000, args.not_found, args.record_headers
    )
    host, port = server.server_address[:2]
    print(f"listening on http://{host}:{port}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
