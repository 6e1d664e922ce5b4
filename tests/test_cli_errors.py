"""Every command line answers bad input with exit 2 and one line on stderr, never a traceback."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.e2e_helpers import REPO_ROOT

pytestmark = [pytest.mark.e2e, pytest.mark.concurrent]  # each case starts a command line

CASES = [
    (["market_api", "--bogus"], "unrecognized arguments: --bogus"),
    (["market_api", "--port", "-5"], "--port"),
    (["market_api", "--cache", "maybe"], "must be on or off"),
    (["market_api", "--db", "/proc/nope/market.db"], "database"),
    (["reports", "build"], "RUN_DIR"),
    (["reports", "build", "/nonexistent/run"], "/nonexistent/run"),
    (["reports", "bogus"], "invalid choice"),
    (["scenarios"], "required"),
    (["scenarios", "run", "spike", "--time-scale", "-1"], "positive"),
    (["scenarios", "run", "spike", "--users", "0"], "at least 1"),
    (["scenarios", "ui", "--web-port", "0"], "at least 1"),
    (["scenarios", "capacity", "--start-rate", "500", "--max-rate", "100"], "max_rate"),
    (["scenarios", "capacity", "--step-s", "1"], "too short"),
    (["scenarios", "capacity", "--precision", "2"], "precision"),
    (["benchmarks", "nosuch"], "unknown suite"),
]


@pytest.mark.parametrize(("argv", "expected"), CASES, ids=[" ".join(a) for a, _ in CASES])
def test_bad_command_lines_exit_2_with_one_line(argv, expected):
    completed = subprocess.run(
        [sys.executable, "-m", *argv], cwd=REPO_ROOT, capture_output=True, text=True, timeout=60
    )
    assert completed.returncode == 2, completed.stderr
    lines = completed.stderr.strip().splitlines()
    assert len(lines) == 1, completed.stderr
    assert expected in lines[0]
    assert "Traceback" not in completed.stderr
