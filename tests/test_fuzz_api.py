"""Schemathesis against the real service's OpenAPI: thousands of generated requests, no 500."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.concurrent]

SCHEMATHESIS = Path(sys.executable).with_name("schemathesis")


def fuzz(url: str, max_examples: int, timeout_s: int, seed: int = 42) -> tuple[int, str]:
    """Run schemathesis (examples, coverage and fuzzing phases); (test cases, output).

    No ``--max-time``: with it schemathesis keeps fuzzing until the budget is spent. The
    example cap bounds the work and the timeout bounds the wall time.
    """
    completed = subprocess.run(
        [
            str(SCHEMATHESIS), "run", f"{url}/openapi.json",
            "--checks", "not_a_server_error",
            "--seed", str(seed),
            "--max-examples", str(max_examples),
            "--phases", "examples,coverage,fuzzing",
            "--workers", "1",
            "--generation-database", "none",
        ],
        capture_output=True, text=True, timeout=timeout_s,
    )  # fmt: skip
    match = re.search(r"(\d+) generated", completed.stdout)
    assert completed.returncode == 0, completed.stdout[-3000:]
    assert match, completed.stdout[-2000:]
    return int(match.group(1)), completed.stdout


def test_a_thousand_generated_requests_find_no_server_error(live_service):
    cases, output = fuzz(live_service, max_examples=1200, timeout_s=180)
    assert cases >= 1000
    assert "No issues found" in output
