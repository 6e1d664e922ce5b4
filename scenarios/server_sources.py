"""What the server sampler reads: the reference API's own summary, or a Prometheus endpoint.

Each source holds its own HTTP session with short timeouts, so a slow or dead service costs
a failed sample, never a stuck run. Extra headers (an API key, say) go only to the target's
own origin, and redirects are not followed, so they never reach another host.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol
from urllib.parse import SplitResult, urlsplit

import requests

from reports.run_format import SERVER_COLUMNS, names
from scenarios.prometheus_text import select_series

TIMEOUT_S = 2.0
SUMMARY_PATH = "/api/v1/performance/summary"
STATUS_PATH = "/api/v1/status"
#: server_history.csv's columns after the timestamp when the reference API is sampled.
REFERENCE_COLUMNS: tuple[str, ...] = names(SERVER_COLUMNS)[1:]
_DEFAULT_PORTS = {"http": 80, "https": 443}


class SampleError(ValueError):
    """A read that failed; the message is one line naming the URL and what went wrong."""


class Source(Protocol):
    """A server-side view with fixed columns, sampled on demand."""

    def columns(self) -> list[str]:
        """server_history.csv's columns after the timestamp."""
        ...

    def sample(self) -> dict[str, float | None]:
        """One value per column (None: absent now); raises RequestException or ValueError."""
        ...

    def close(self) -> None: ...


def _origin(parts: SplitResult) -> tuple[str, str | None, int | None]:
    scheme = parts.scheme.lower()
    return scheme, parts.hostname, parts.port or _DEFAULT_PORTS.get(scheme)


def same_origin(url: str, other: str) -> bool:
    """Whether two URLs share scheme, host and port (the browser's rule for credentials)."""
    return _origin(urlsplit(url)) == _origin(urlsplit(other))


class HttpClient:
    """One session for one target; its extra headers are sent to the target's origin only."""

    def __init__(self, host: str, headers: Mapping[str, str]) -> None:
        self.host = host.rstrip("/")
        self._headers = dict(headers)
        self._session = requests.Session()

    def get(self, url: str) -> requests.Response:
        """``url``'s 200 answer; any other outcome raises ``SampleError``."""
        try:
            headers = self._headers if same_origin(url, self.host) else {}
            response = self._session.get(
                url, headers=headers, timeout=TIMEOUT_S, allow_redirects=False
            )
        except requests.Timeout:
            raise SampleError(f"{url} did not answer within {TIMEOUT_S:g} s") from None
        except (requests.RequestException, ValueError) as exc:
            raise SampleError(f"{url} could not be reached ({type(exc).__name__})") from None
        if response.status_code != 200:
            raise SampleError(f"{url} answered {response.status_code}")
        return response

    def close(self) -> None:
        self._session.close()


class HttpSource:
    """A source reading through its own ``HttpClient``, closed with it."""

    def __init__(self, client: HttpClient) -> None:
        self.client = client

    def close(self) -> None:
        self.client.close()


def reference_values(
    summary: dict[str, Any], status: dict[str, Any] | None
) -> dict[str, float | None]:
    """The reference columns from the summary and status documents; absent values are None."""
    cache = summary.get("cache") or {}
    performance = summary.get("performance") or {}
    process = (status or {}).get("process") or {}
    return {
        "cache_hit_rate_pct": cache.get("hit_rate_pct"),
        "cache_size": cache.get("size"),
        "cache_hits": cache.get("hits"),
        "cache_misses": cache.get("misses"),
        "queries_total": performance.get("total_queries"),
        "queries_failed": performance.get("failed"),
        "p95_ms": performance.get("p95_duration_ms"),
        "error_rate_pct": performance.get("error_rate_pct"),
        "rss_bytes": process.get("rss_bytes"),
    }


class ReferenceSource(HttpSource):
    """The reference API: its performance summary (cache, queries) and its status (RSS)."""

    def columns(self) -> list[str]:
        return list(REFERENCE_COLUMNS)

    def sample(self) -> dict[str, float | None]:
        summary = self._json_object(SUMMARY_PATH)
        if not {"cache", "performance"} & summary.keys():
            raise SampleError(
                f"{self.client.host}{SUMMARY_PATH} answered no cache or performance figures"
            )
        return reference_values(summary, self._json_object(STATUS_PATH))

    def _json_object(self, path: str) -> dict[str, Any]:
        url = self.client.host + path
        try:
            document = self.client.get(url).json()
        except requests.JSONDecodeError:
            document = None
        if not isinstance(document, dict):
            raise SampleError(f"{url} answered no JSON object")
        return document


def scrape(client: HttpClient, url: str, patterns: Sequence[str]) -> dict[str, float]:
    """The series of ``url`` selected by ``patterns``, each summed over its label sets."""
    text = client.get(url).text
    try:
        return select_series(text, patterns)
    except ValueError:
        raise SampleError(f"{url} answered no Prometheus text") from None


class PrometheusSource(HttpSource):
    """A Prometheus text endpoint; ``columns`` are fixed, later series are ignored."""

    def __init__(
        self, client: HttpClient, url: str, patterns: Sequence[str], columns: Sequence[str]
    ) -> None:
        super().__init__(client)
        self.url = url
        self.patterns = tuple(patterns)
        self._columns = list(columns)

    def columns(self) -> list[str]:
        return list(self._columns)

    def sample(self) -> dict[str, float | None]:
        series = scrape(self.client, self.url, self.patterns)
        return {name: series.get(name) for name in self._columns}
