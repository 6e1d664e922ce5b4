"""The open model end to end: an open spike against the embedded service keeps its rates."""

from __future__ import annotations

import os

import orjson
import pandas as pd
import pytest

from tests.e2e_helpers import run_scenario

pytestmark = pytest.mark.e2e

RATE = 150.0


def test_an_open_spike_sends_r_five_r_r_on_time_and_drops_nothing(tmp_path):
    args = ["spike", "--model", "open", "--rate", str(RATE), "--time-scale", "0.1"]
    result = run_scenario(args, tmp_path / "out", dict(os.environ))
    assert result.returncode == 0, result.stderr
    assert result.run_dir is not None
    run = orjson.loads((result.run_dir / "run.json").read_bytes())
    assert (run["model"], run["rate"], run["arrivals"]) == ("open", RATE, "uniform")
    assert run["dropped"] == 0
    phases = run["phases"]
    assert [p["rate"] for p in phases] == [RATE, 5 * RATE, RATE]

    requests = pd.read_csv(result.run_dir / "requests.csv")
    arrivals = requests.dropna(subset=["intended_start"])
    assert len(arrivals) >= len(requests) - 2  # all but the driver's symbol discovery
    for phase in phases:
        sent = arrivals["timestamp"].between(phase["start"], phase["end"], inclusive="left")
        achieved = sent.sum() / (phase["end"] - phase["start"])
        assert achieved == pytest.approx(phase["rate"], rel=0.02), phase["name"]

    generator = pd.read_csv(result.run_dir / "generator.csv")
    assert generator["dropped"].sum() == 0
    assert generator["intended"].sum() == generator["sent"].sum() > 0
    lag_ms = (arrivals["timestamp"] - arrivals["intended_start"]) * 1000
    assert lag_ms.quantile(0.99) < 50  # sent on time: the generator kept up
