"""The start check against a real HTTP server in a thread: a 2xx passes, a 4xx fails at once,
a 5xx or no answer is asked again until the patience runs out (on a fake clock)."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import SimpleNamespace

import pytest

import scenarios.health as health
from scenarios.health import RETRY_EVERY_S, HealthError, check_health, parse_health_path
from tests.fakes import FakeClock

NEEDS_2XX = "; the start check needs a 2xx (--health-path PATH, or none to skip it)"


class Target:
    """Answers each GET with the next scripted status (the last one forever), and keeps what
    it was asked: the path and headers of every request."""

    def __init__(self) -> None:
        self.statuses: list[int] = [200]
        self.requests: list[tuple[str, dict[str, str]]] = []
        target = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                target.requests.append((self.path, dict(self.headers)))
                status = target.statuses.pop(0) if len(target.statuses) > 1 else target.statuses[0]
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"


@pytest.fixture
def target() -> Iterator[Target]:
    served = Target()
    thread = threading.Thread(
        target=served.server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
    )
    thread.start()
    yield served
    served.server.shutdown()
    served.server.server_close()
    thread.join()


@pytest.fixture
def clock(monkeypatch) -> FakeClock:
    """A fake clock that the check's sleeps advance: no test waits for real."""
    fake = FakeClock()
    monkeypatch.setattr(health, "time", SimpleNamespace(sleep=fake.advance))
    return fake


@pytest.mark.parametrize(
    ("text", "path"), [("/health", "/health"), ("/v1/ready", "/v1/ready"), (" None ", None)]
)
def test_health_paths_parse(text, path):
    assert parse_health_path(text) == path


@pytest.mark.parametrize("text", ["health", "", "/a b", "http://x/health"])
def test_bad_health_paths_are_refused(text):
    with pytest.raises(ValueError) as caught:
        parse_health_path(text)
    expected = f"--health-path must be a path starting with / or 'none', not {text!r}"
    assert str(caught.value) == expected


def test_a_2xx_passes_with_its_status_and_the_headers_reach_the_target(target, clock):
    target.statuses = [204]
    status = check_health(target.url + "/", "/ready", {"X-Api-Key": "k1"}, clock=clock)
    assert status == 204
    [(path, headers)] = target.requests
    assert path == "/ready" and headers["X-Api-Key"] == "k1"


def test_a_4xx_fails_at_once_naming_the_url(target, clock):
    target.statuses = [404]
    with pytest.raises(HealthError) as caught:
        check_health(target.url, "/health", {}, patience_s=5, clock=clock)
    assert str(caught.value) == f"{target.url}/health answered 404 Not Found{NEEDS_2XX}"
    assert len(target.requests) == 1 and clock.now == 1_000.0  # no retry, no wait


@pytest.mark.parametrize("status", [503, 429, 408])
def test_a_service_still_starting_is_asked_again(target, clock, status):
    target.statuses = [status, status, 200]
    assert check_health(target.url, "/health", {}, patience_s=5, clock=clock) == 200
    assert len(target.requests) == 3 and clock.now == 1_000.0 + 2 * RETRY_EVERY_S


def test_a_5xx_that_lasts_fails_once_the_patience_runs_out(target, clock):
    target.statuses = [503]
    with pytest.raises(HealthError) as caught:
        check_health(target.url, "/health", {}, patience_s=5, clock=clock)
    assert str(caught.value) == f"{target.url}/health answered 503 Service Unavailable{NEEDS_2XX}"
    assert clock.now == 1_005.0
    assert len(target.requests) == int(5 / RETRY_EVERY_S) + 1


def test_a_closed_port_cannot_be_reached(clock):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # closed again when the block ends
    url = f"http://127.0.0.1:{port}"
    with pytest.raises(HealthError) as caught:
        check_health(url, "/health", {}, patience_s=1, clock=clock)
    assert str(caught.value) == (
        f"cannot reach {url}/health (ConnectionError): is the service running?"
    )
    assert clock.now == 1_001.0  # asked again until the patience ran out
