"""The open model over two Locust processes: one arrival schedule, shared without gaps.

Each worker takes every second arrival of the one schedule, timed from the origin the master's
shape sent it, so the union of their arrivals is what one process would have sent, and the
phase in run.json starts and ends with the arrivals.
"""

from __future__ import annotations

import os

import numpy as np
import pandas as pd
import pytest

from tests.e2e_helpers import run_scenario

pytestmark = [pytest.mark.e2e, pytest.mark.concurrent]

RATE, DURATION_S, WORKERS = 300.0, 6.0, 2


def test_two_processes_share_one_arrival_schedule(tmp_path):
    args = ["sustained", "--model", "open", "--rate", str(RATE), "--duration", str(DURATION_S)]
    result = run_scenario([*args, "--processes", str(WORKERS)], tmp_path / "out", dict(os.environ))
    assert result.returncode == 0, result.stderr
    run = result.json("run.json")
    assert run["dropped"] == 0
    (phase,) = run["phases"]
    assert phase["end"] - phase["start"] == pytest.approx(DURATION_S, abs=1e-3)

    logs = sorted(result.run_dir.glob("requests-*.csv"))
    assert len(logs) == WORKERS and len(list(result.run_dir.glob("generator-*.csv"))) == WORKERS
    arrivals = [pd.read_csv(log)["intended_start"].dropna().to_numpy() for log in logs]
    expected = RATE * DURATION_S
    assert [len(a) for a in arrivals] == [expected / WORKERS] * WORKERS  # half each

    union = np.sort(np.concatenate(arrivals))
    assert union[0] == pytest.approx(phase["start"], abs=1e-3)  # from the phase's first instant
    assert np.diff(union) == pytest.approx(np.full(len(union) - 1, 1 / RATE), abs=1e-4)

    report = result.json("report.json")
    (judged,) = report["phases"]
    assert judged["achieved_rps"] == pytest.approx(RATE, rel=0.02)
    assert judged["dropped"] == 0
