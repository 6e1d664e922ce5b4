"""The server sampler: which series it records, from which source, and the rows it writes."""

from __future__ import annotations

import csv
import socket
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import requests

from reports.run_format import SERVER_COLUMNS, names
from scenarios.prometheus_text import DEFAULT_PATTERNS, select_series
from scenarios.sampler import Sampler, choose_server_side, history_row
from scenarios.server_sources import (
    REFERENCE_COLUMNS,
    ReferenceSource,
    reference_values,
    same_origin,
)
from tests.e2e_helpers import wait_until

EXPOSITION = """\
# HELP app_requests_total Requests
# TYPE app_requests_total counter
app_requests_total{route="/a",status="200"} 3.0
app_requests_total{route="/b",status="500"} 2.0
app_requests_created{route="/a",status="200"} 1.7e+09
# HELP app_latency_seconds Latency
# TYPE app_latency_seconds histogram
app_latency_seconds_bucket{le="0.1"} 4.0
app_latency_seconds_bucket{le="+Inf"} 5.0
app_latency_seconds_count 5.0
app_latency_seconds_sum 0.75
# HELP app_query_seconds Query time
# TYPE app_query_seconds summary
app_query_seconds{quantile="0.95"} 0.2
app_query_seconds_count 7.0
app_query_seconds_sum 0.5
# HELP app_db_p95_ms Window quantiles, as a gauge
# TYPE app_db_p95_ms gauge
app_db_p95_ms{query_type="q",quantile="0.95"} 12.0
# HELP app_in_flight_requests Requests being served
# TYPE app_in_flight_requests gauge
app_in_flight_requests{worker="1"} 1.0
app_in_flight_requests{worker="2"} 2.0
# HELP process_cpu_seconds_total CPU time
# TYPE process_cpu_seconds_total counter
process_cpu_seconds_total 1.25
# HELP process_resident_memory_bytes RSS
# TYPE process_resident_memory_bytes gauge
process_resident_memory_bytes 2.5e+07
# HELP process_open_fds Open file descriptors
# TYPE process_open_fds gauge
process_open_fds 6.0
"""


# -- selecting series from Prometheus text -------------------------------------------------


def test_the_default_patterns_take_cpu_memory_in_flight_and_request_totals():
    assert select_series(EXPOSITION, DEFAULT_PATTERNS) == {
        "app_requests_total": 5.0,
        "app_in_flight_requests": 3.0,
        "process_cpu_seconds_total": 1.25,
        "process_resident_memory_bytes": 2.5e7,
    }


def test_globs_match_sample_names_and_skip_buckets_quantiles_and_creation_times():
    assert select_series(EXPOSITION, ["app_*"]) == {
        "app_requests_total": 5.0,
        "app_latency_seconds_count": 5.0,
        "app_latency_seconds_sum": 0.75,
        "app_query_seconds_count": 7.0,
        "app_query_seconds_sum": 0.5,
        "app_in_flight_requests": 3.0,
    }
    named = ["app_requests_created", "app_latency_seconds_bucket", "app_query_seconds"]
    assert select_series(EXPOSITION, named) == {}
    assert select_series(EXPOSITION, ["process_open_fds", "nothing*"]) == {"process_open_fds": 6.0}


@pytest.mark.parametrize(
    "text", ["<html><body>Not found</body></html>\n", '{"cache": {"size": 1}}', "up yes\n"]
)
def test_text_that_is_not_prometheus_is_refused(text):
    with pytest.raises(ValueError):
        select_series(text, DEFAULT_PATTERNS)


# -- the reference API's columns -----------------------------------------------------------


def test_the_reference_row_takes_the_summary_and_the_process():
    summary = {
        "cache": {"hit_rate_pct": 79.0, "size": 145, "hits": 2345, "misses": 623},
        "performance": {"total_queries": 750, "failed": 8, "p95_duration_ms": 4.5,
                        "error_rate_pct": 1.07},
    }  # fmt: skip
    values = reference_values(summary, {"process": {"rss_bytes": 1234}})
    header = ["timestamp", *REFERENCE_COLUMNS]
    assert tuple(header) == names(SERVER_COLUMNS)
    assert dict(zip(header, history_row(10.0, values, REFERENCE_COLUMNS), strict=True)) == {
        "timestamp": "10.000",
        "cache_hit_rate_pct": 79.0,
        "cache_size": 145,
        "cache_hits": 2345,
        "cache_misses": 623,
        "queries_total": 750,
        "queries_failed": 8,
        "p95_ms": 4.5,
        "error_rate_pct": 1.07,
        "rss_bytes": 1234,
    }
    empty = reference_values({}, None)
    assert history_row(1.0, empty, REFERENCE_COLUMNS) == ["1.000"] + [""] * len(REFERENCE_COLUMNS)


# -- which requests carry the extra headers ------------------------------------------------


@pytest.mark.parametrize(
    ("url", "same"),
    [
        ("http://api.example:8000/metrics", True),
        ("HTTP://API.example:8000/x?y=1", True),
        ("http://api.example:9000/metrics", False),
        ("https://api.example:8000/metrics", False),
        ("http://other.example:8000/metrics", False),
        ("http://api.example/metrics", False),
    ],
)
def test_headers_go_to_the_targets_origin_only(url, same):
    assert same_origin(url, "http://api.example:8000") is same


def test_default_ports_are_the_same_origin():
    assert same_origin("http://h/metrics", "http://h:80")
    assert same_origin("https://h:443/metrics", "https://h")
    assert not same_origin("https://h/metrics", "http://h:443")


# -- the sampling thread -------------------------------------------------------------------


class FakeSource:
    """Answers ``outcomes`` in turn (an exception is raised), then fails for ever."""

    def __init__(self, *outcomes: dict[str, float | None] | Exception) -> None:
        self.outcomes = list(outcomes)
        self.calls = 0
        self.closed = False

    def columns(self) -> list[str]:
        return ["a", "b"]

    def sample(self) -> dict[str, float | None]:
        self.calls += 1
        outcome = self.outcomes.pop(0) if self.outcomes else requests.ConnectionError("down")
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    def close(self) -> None:
        self.closed = True


def read_rows(path: Path) -> list[list[str]]:
    with path.open(newline="", encoding="utf-8") as f:
        return list(csv.reader(f))


def test_the_sampler_writes_each_sample_at_once_and_skips_failed_ones(tmp_path):
    source = FakeSource({"a": 1.0, "b": 2.0}, ValueError("not text"), {"a": 3.0, "b": None})
    path = tmp_path / "server_history.csv"
    sampler = Sampler(source, path, interval_s=0.01)
    sampler.start()
    try:
        wait_until(lambda: sampler.failures_in_a_row >= 2, 5, "the failures after both rows")
        rows = read_rows(path)  # while the sampler runs: each row is flushed as it comes
    finally:
        sampler.stop()
    assert not sampler.is_alive() and source.closed
    assert read_rows(path) == rows
    assert rows[0] == ["timestamp", "a", "b"]
    assert [row[1:] for row in rows[1:]] == [["1.0", "2.0"], ["3.0", ""]]
    first, second = (float(row[0]) for row in rows[1:])
    assert 0 < second - first < 5 and all(len(row[0].split(".")[1]) == 3 for row in rows[1:])
    assert sampler.samples == 2
    assert sampler.failures_in_a_row == source.calls - 3  # counted since the last success


# -- choosing the source -------------------------------------------------------------------


@dataclass
class FakeServer:
    """A loopback HTTP server answering ``routes``: path -> (status, body, extra headers)."""

    url: str
    routes: dict[str, tuple[int, str, dict[str, str]]] = field(default_factory=dict)
    seen: list[tuple[str, dict[str, str]]] = field(default_factory=list)

    def answer(self, path: str, body: str, status: int = 200, **headers: str) -> None:
        self.routes[path] = (status, body, headers)


@pytest.fixture
def serve() -> Iterator[Callable[[], FakeServer]]:
    """Starts loopback servers on demand; all are shut down after the test."""
    servers: list[ThreadingHTTPServer] = []

    def start() -> FakeServer:
        state = FakeServer("")

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                state.seen.append((self.path, dict(self.headers)))
                status, body, headers = state.routes.get(self.path, (404, "nope", {}))
                data = body.encode()
                self.send_response(status)
                for name, value in {"Content-Length": str(len(data)), **headers}.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: object) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
        servers.append(server)
        state.url = f"http://127.0.0.1:{server.server_address[1]}"
        return state

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}"


def test_a_prometheus_endpoint_fixes_its_columns_at_the_first_scrape(serve):
    server = serve()
    server.answer("/metrics", EXPOSITION)
    side = choose_server_side(server.url, server.url + "/metrics", [], {})
    assert side.source is not None and side.note is None
    assert side.description == f"Prometheus {server.url}/metrics (4 series)"
    assert side.source.columns() == [
        "app_in_flight_requests",
        "app_requests_total",
        "process_cpu_seconds_total",
        "process_resident_memory_bytes",
    ]
    server.answer("/metrics", "process_cpu_seconds_total 2.5\nnew_requests_total 1\n")
    assert side.source.sample() == {
        "app_in_flight_requests": None,
        "app_requests_total": None,
        "process_cpu_seconds_total": 2.5,
        "process_resident_memory_bytes": None,
    }
    server.answer("/metrics", "<html></html>")
    with pytest.raises(ValueError, match="answered no Prometheus text"):
        side.source.sample()
    side.source.close()


def test_given_patterns_replace_the_defaults(serve):
    server = serve()
    server.answer("/metrics", EXPOSITION)
    patterns = ["*_sum", "process_open_fds"]
    side = choose_server_side(server.url, server.url + "/metrics", patterns, {})
    assert side.source is not None
    assert side.source.columns() == [
        "app_latency_seconds_sum", "app_query_seconds_sum", "process_open_fds"
    ]  # fmt: skip
    side.source.close()


@pytest.mark.parametrize(
    ("status", "body", "says"),
    [
        (200, "up 1\n", "has no series matching process_cpu_seconds_total, "
                        "process_resident_memory_bytes, *in_flight*, *inprogress*, "
                        "*requests_total"),
        (200, "<html><body>Metrics</body></html>", "answered no Prometheus text"),
        (404, "not here", "answered 404"),
    ],
)  # fmt: skip
def test_an_unusable_prometheus_endpoint_is_a_note(serve, status, body, says):
    server = serve()
    server.answer("/metrics", body, status)
    side = choose_server_side(server.url, server.url + "/metrics", DEFAULT_PATTERNS, {})
    assert side == type(side)(None, None, f"{server.url}/metrics {says}")


def test_an_unreachable_prometheus_endpoint_is_a_note():
    url = closed_port_url() + "/metrics"
    side = choose_server_side("http://127.0.0.1:9", url, ["up"], {})
    assert side.source is None and side.description is None
    assert side.note == f"{url} could not be reached (ConnectionError)"


def test_the_reference_api_is_sampled_when_no_prometheus_url_is_given(serve):
    server = serve()
    server.answer("/api/v1/performance/summary", '{"cache": {"size": 3}, "performance": {}}')
    server.answer("/api/v1/status", '{"process": {"rss_bytes": 4096}}')
    side = choose_server_side(server.url + "/", None, [], {})
    assert isinstance(side.source, ReferenceSource)
    assert (side.description, side.note) == ("reference API /api/v1/performance/summary", None)
    assert side.source.columns() == list(REFERENCE_COLUMNS)
    sample = side.source.sample()
    assert (sample["cache_size"], sample["rss_bytes"], sample["p95_ms"]) == (3, 4096, None)
    side.source.close()


@pytest.mark.parametrize(
    ("summary", "says"),
    [
        (None, "/api/v1/performance/summary answered 404"),
        ("[1, 2]", "/api/v1/performance/summary answered no JSON object"),
        ("<html></html>", "/api/v1/performance/summary answered no JSON object"),
        ('{"status": "ok"}', "/api/v1/performance/summary answered no cache or performance "
                             "figures"),
    ],
)  # fmt: skip
def test_without_the_reference_api_nothing_is_sampled_and_the_note_says_why(serve, summary, says):
    server = serve()
    if summary is not None:
        server.answer("/api/v1/performance/summary", summary)
    side = choose_server_side(server.url, None, DEFAULT_PATTERNS, {})
    assert side == type(side)(None, None, f"no --prometheus URL, and {server.url}{says}")


def test_extra_headers_reach_the_target_and_no_other_origin(serve):
    target, elsewhere = serve(), serve()
    for server in (target, elsewhere):
        server.answer("/metrics", EXPOSITION)
    key = {"X-Api-Key": "s3cret"}
    for server in (target, elsewhere):
        side = choose_server_side(target.url, server.url + "/metrics", [], key)
        assert side.source is not None
        side.source.sample()
        side.source.close()
    assert [headers.get("X-Api-Key") for _path, headers in target.seen] == ["s3cret"] * 2
    assert [headers.get("X-Api-Key") for _path, headers in elsewhere.seen] == [None] * 2


def test_a_redirect_is_not_followed_so_the_headers_stay_at_the_target(serve):
    target, elsewhere = serve(), serve()
    elsewhere.answer("/metrics", EXPOSITION)
    target.answer("/metrics", "", 302, Location=elsewhere.url + "/metrics")
    side = choose_server_side(target.url, target.url + "/metrics", [], {"X-Api-Key": "s3cret"})
    assert side == type(side)(None, None, f"{target.url}/metrics answered 302")
    assert elsewhere.seen == []


@pytest.mark.e2e
@pytest.mark.concurrent
def test_the_runner_loads_no_pandas_while_the_load_runs():
    """The run format comes from a module without pandas; the report's is imported later."""
    code = (
        "import sys, scenarios.runner, scenarios.sampler, scenarios.web_ui_runner; "
        "print('pandas' in sys.modules)"
    )
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert loaded.stdout.strip() == "False", loaded.stderr
