"""Shared fixtures, registered as plugins so test modules need not import them; and the guard
that keeps ``make test-fast`` free of real processes.

A test that starts a real process (a command line, the service under uvicorn, Locust, a
browser) carries the ``e2e`` marker; ``pytest -m "not e2e"`` (``make test-fast``) is the quick
edit loop. Any other test that starts a process fails, saying so, so a missing marker cannot
slip a slow test into the fast loop.
"""

from __future__ import annotations

import os
import subprocess

import pytest
from hypothesis import settings

pytest_plugins = ["tests.e2e_helpers", "tests.market_api_helpers"]

settings.register_profile("fast", max_examples=20)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))


@pytest.fixture(autouse=True)
def _processes_need_the_e2e_marker(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Outside ``e2e`` tests, starting a process fails and says why."""
    if request.node.get_closest_marker("e2e") is not None:
        return

    def refuse(self, args, *rest, **options):
        shown = args if isinstance(args, str) else " ".join(map(str, list(args)[:4]))
        raise AssertionError(
            f"{request.node.nodeid} starts a process ({shown}): mark it "
            "`pytest.mark.e2e` so that `make test-fast` leaves it out"
        )

    monkeypatch.setattr(subprocess.Popen, "__init__", refuse)
