"""The start check: the target answers its health path with a 2xx before any load is sent.

Without it a run against the wrong port, or a service that is down, would send its whole
schedule into 404s or errors and only then say so. A 4xx is a wrong path or missing
credentials, so it fails at once; a 5xx or no answer may be a service still starting, so it
is asked again until the deadline.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping

import requests

HEALTH_PATH = "/health"
NO_CHECK = "none"
#: How long a target given with --host may take to become healthy; the embedded service,
#: which may be seeding its database, gets its own start-up time.
HOST_PATIENCE_S = 5.0
RETRY_EVERY_S = 0.5


class HealthError(RuntimeError):
    """The target is not healthy; the message is one line naming the URL."""


def parse_health_path(text: str) -> str | None:
    """``/path`` to check, or None for ``none``; ValueError otherwise."""
    if text.strip().lower() == NO_CHECK:
        return None
    if not text.startswith("/") or any(c.isspace() for c in text):
        raise ValueError(f"--health-path must be a path starting with / or 'none', not {text!r}")
    return text


def check_health(
    base_url: str,
    path: str,
    headers: Mapping[str, str],
    patience_s: float = HOST_PATIENCE_S,
    clock: Callable[[], float] = time.monotonic,
) -> int:
    """The 2xx status ``base_url + path`` answers; HealthError when it does not in time."""
    url = base_url.rstrip("/") + path
    deadline = clock() + patience_s
    with requests.Session() as session:
        while True:
            try:
                response = session.get(url, headers=dict(headers), timeout=2.0)
            except requests.RequestException as exc:
                problem = f"cannot reach {url} ({type(exc).__name__}): is the service running?"
            else:
                if 200 <= response.status_code < 300:
                    return response.status_code
                problem = (
                    f"{url} answered {response.status_code} {response.reason or ''}".rstrip()
                    + "; the start check needs a 2xx (--health-path PATH, or none to skip it)"
                )
                if 400 <= response.status_code < 500 and response.status_code not in (408, 429):
                    raise HealthError(problem)
            if clock() >= deadline:
                raise HealthError(problem)
            time.sleep(RETRY_EVERY_S)
