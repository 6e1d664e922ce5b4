"""The drift section of steady runs, against synthetic runs of known slopes."""

from __future__ import annotations

import re

import pytest

from perf_lib.thresholds import Thresholds
from reports import analyse_run, build_report, render_terminal
from reports.drift import window_length
from tests.reports_helpers import (
    START,
    block,
    constant_run,
    spike_phases,
    spike_rows,
    sustained_rows,
    write_run,
    write_server_history,
    write_sustained,
)

RISING = [50.0, 55.0, 60.0, 65.0, 70.0, 75.0]  # +5 ms per 10 s window: +30 ms/min
WARM_UP = [50.0 + 10 * i for i in range(6)]  # the first 10 % of 60 samples


def drift_of(run_dir):
    report = analyse_run(run_dir).report
    return report["drift"], {w["code"]: w["message"] for w in report["warnings"]}


def test_rising_p95_and_error_rate_have_exact_slopes(tmp_path):
    run_dir = write_sustained(
        tmp_path / "run", sustained_rows(RISING, window_failures=[0, 1, 2, 3, 4, 5]), 60
    )
    drift, warnings = drift_of(run_dir)
    assert {k: v for k, v in drift.items() if not k.startswith(("rss_", "series"))} == {
        "source": "request log",
        "window_s": 10.0,
        "windows": 6,
        "p95_first_window_ms": 50.0,
        "p95_last_window_ms": 75.0,
        "p95_slope_ms_per_min": 30.0,
        "p95_rise_pct": 50.0,  # 30 ms/min over the 50 s between the first and last centres
        "p95_slope_significant": True,
        "error_rate_slope_pct_per_min": 6.0,  # +1 % per window
        "cache_size_max": None,
    }
    assert drift["series"][1] == {
        "t": 10.0,
        "requests": 100,
        "failures": 1,
        "p95_ms": 55.0,
        "error_rate_pct": 1.0,
    }
    assert drift["rss_start_mb"] is None and drift["rss_flat"] is None  # no server_history.csv
    assert warnings["drift"] == (
        "Drift under steady load: p95 rises +30.0 ms/min (windows 50.0 -> 75.0 ms; "
        "fitted rise +50 % over the run, above 20 %). The service may be leaking or queueing: "
        "a longer run will tell."
    )


def test_drift_is_a_warning_not_a_verdict(tmp_path):
    report = analyse_run(write_sustained(tmp_path / "run", sustained_rows(RISING), 60)).report
    assert report["verdict"] == "healthy"
    assert report["drift"]["p95_slope_significant"]
    assert "drift" in {w["code"] for w in report["warnings"]}


@pytest.mark.parametrize(
    ("window_ms", "slope", "significant"),
    [
        ([50.0] * 6, 0.0, False),
        ([50.0, 51.0, 52.0, 53.0, 54.0, 55.0], 6.0, False),  # steady, but +10 %: below 20 %
        ([50.0, 50.0, 50.0, 50.0, 50.0, 100.0], 42.857, False),  # +71 %, but one window: t = 1.7
        ([75.0, 70.0, 65.0, 60.0, 55.0, 50.0], -30.0, False),
    ],
)
def test_p95_significance_needs_size_and_a_robust_sign(tmp_path, window_ms, slope, significant):
    drift, warnings = drift_of(write_sustained(tmp_path / "run", sustained_rows(window_ms), 60))
    assert (drift["p95_slope_ms_per_min"], drift["p95_slope_significant"]) == (slope, significant)
    assert "drift" not in warnings


@pytest.mark.parametrize(
    ("after_warm_up", "end", "change", "flat", "slope", "peak", "warned"),
    [
        ([100 + 0.1 * i for i in range(54)], 105.3, 5.3, True, 6.0, 105.3, False),
        ([100 + 0.5 * i for i in range(54)], 126.5, 26.5, False, 30.0, 126.5, True),
        ([115.0 if i == 20 else 100.0 for i in range(54)], 100.0, 0.0, False, -0.446, 115.0, False),
    ],
    ids=["flat", "growing", "one excursion"],
)
def test_rss_after_warm_up(tmp_path, after_warm_up, end, change, flat, slope, peak, warned):
    run_dir = write_sustained(tmp_path / "run", sustained_rows([50.0] * 6), 60)
    write_server_history(run_dir, WARM_UP + after_warm_up, cache_size=[10 * i for i in range(60)])
    drift, warnings = drift_of(run_dir)
    rss = {k: v for k, v in drift.items() if k.startswith("rss_")}
    assert rss == {
        "rss_warmup_s": 6.0,  # 10 % of 60 samples is shorter than 30 s
        "rss_start_mb": 100.0,
        "rss_end_mb": end,
        "rss_max_mb": peak,
        "rss_change_pct": change,
        "rss_flat": flat,
        "rss_slope_mb_per_min": slope,
    }
    assert drift["cache_size_max"] == 590
    if warned:
        assert warnings["drift"] == (
            "Drift under steady load: the service's RSS grew +26.5 % after warm-up "
            "(100.0 -> 126.5 MB). The service may be leaking or queueing: a longer run will tell."
        )
    else:
        assert "drift" not in warnings


def test_long_soak_warm_up_is_30_s(tmp_path):
    rows = block(START, 600, 1, lambda s, j, n: 40.0)
    run_dir = write_sustained(tmp_path / "run", rows, 600, locust=False)
    # rising 1 MB/s while warming up, then +0.01 MB/s: 100.0 MB at 30 s, 100.3 MB at 60 s
    write_server_history(
        run_dir, [70.0 + i for i in range(30)] + [100 + 0.01 * i for i in range(570)]
    )
    drift, _ = drift_of(run_dir)
    assert (drift["window_s"], drift["windows"]) == (10.0, 60)
    assert (drift["rss_warmup_s"], drift["rss_start_mb"], drift["rss_end_mb"]) == (
        30.0,
        100.0,
        105.69,
    )
    assert (drift["rss_slope_mb_per_min"], drift["rss_flat"]) == (0.6, True)


def test_the_locust_history_gives_about_the_same_drift(tmp_path):
    rows = sustained_rows(RISING, window_failures=[0, 1, 2, 3, 4, 5])
    exact, _ = drift_of(write_sustained(tmp_path / "exact", rows, 60))
    fallback, _ = drift_of(write_sustained(tmp_path / "fallback", rows, 60, requests_log=False))
    assert fallback["source"].startswith("Locust stats (approximate")
    # counts are exact; Locust's windowed percentiles blur each 10 s step over its neighbours
    for mine, truth in zip(fallback["series"], exact["series"], strict=True):
        assert {k: mine[k] for k in ("t", "requests", "failures", "error_rate_pct")} == {
            k: truth[k] for k in ("t", "requests", "failures", "error_rate_pct")
        }
        assert mine["p95_ms"] == pytest.approx(truth["p95_ms"], abs=5.0)
    assert fallback["p95_slope_ms_per_min"] == pytest.approx(30.0, rel=0.15)
    assert fallback["p95_slope_significant"] is exact["p95_slope_significant"] is True
    assert fallback["error_rate_slope_pct_per_min"] == exact["error_rate_slope_pct_per_min"]


def test_a_short_sustained_run_gets_six_shorter_windows(tmp_path):
    rows = block(START, 6, 10, lambda s, j, n: 50.0 + 5 * s)  # a --time-scale 0.1 run
    drift, _ = drift_of(write_sustained(tmp_path / "run", rows, 6, time_scale=0.1))
    assert (drift["window_s"], drift["windows"]) == (1.0, 6)
    assert drift["p95_slope_ms_per_min"] == 300.0  # +5 ms per 1 s window


@pytest.mark.parametrize(
    ("span_s", "window_s"), [(6, 1.0), (3, 1.0), (30, 5.0), (60, 10.0), (3600, 10.0), (36000, 20.0)]
)
def test_window_length(span_s, window_s):
    assert window_length(span_s) == window_s  # 10 s; 6 windows under a minute; <= 1,800 windows


def test_which_runs_get_a_drift_section(tmp_path):
    spike = analyse_run(write_run(tmp_path / "spike", spike_rows(7), spike_phases())).report
    assert spike["drift"] is None  # three phases
    baseline = analyse_run(
        constant_run(tmp_path / "baseline", {"/x": (20.0, 200, 0)}, scenario="baseline")
    )
    assert baseline.report["drift"]["windows"] == 10  # one phase of 100 s
    short = write_run(
        tmp_path / "short", block(START, 30, 10, lambda s, j, n: 20.0), scenario="historical"
    )
    assert analyse_run(short).report["drift"] is None  # one phase, but 31 s


def test_drift_follows_the_phases_role_and_the_time_scale_not_the_name(tmp_path):
    rows = block(START, 6, 10, lambda s, j, n: 50.0 + 5 * s)
    full_scale = write_sustained(tmp_path / "full", rows, 6)
    assert analyse_run(full_scale).report["drift"] is None  # 6 s at full scale: too short
    minute = sustained_rows(RISING)
    burst = [{"name": "sustained", "role": "spike", "start": START, "end": START + 60}]
    spike = write_run(tmp_path / "spike", minute, burst, scenario="sustained")
    assert analyse_run(spike).report["drift"] is None  # called sustained, but a spike
    soak = [{"name": "hold", "role": "steady", "start": START, "end": START + 60}]
    steady = write_run(tmp_path / "soak", minute, soak, scenario="soak")
    assert analyse_run(steady).report["drift"]["p95_slope_significant"]


def test_drift_in_every_output(tmp_path):
    run_dir = write_sustained(
        tmp_path / "sustained-20250101T000000Z",
        sustained_rows(RISING, window_failures=[0, 1, 2, 3, 4, 5]),
        60,
    )
    write_server_history(
        run_dir, WARM_UP + [100 + 0.5 * i for i in range(54)], cache_size=[500] * 60
    )
    result = build_report(run_dir, Thresholds(), fail_on="never")
    line = (
        "drift: p95 50.0 → 75.0 ms, +30.0 ms/min (significant); errors +6.00 %/min; "
        "RSS 100.0 → 126.5 MB (+26.5 %, not flat); cache size max 500"
    )
    assert line in render_terminal(result.report).splitlines()
    assert f"### Drift\n\n{line}\n" in (run_dir / "summary.md").read_text()
    assert "drift.png" in result.report["charts"]
    html = result.html_path.read_text()
    section = html[html.index("<h2>Drift</h2>") : html.index("<h2>Charts</h2>")]
    assert "+30.0 ms/min" in section and "+26.5 %" in section and "not flat" in section
    assert section.count("data:image/png;base64,") == 1  # the drift chart, in its section
    embedded = re.findall(r'src="data:image/png;base64,', html)
    assert len(embedded) == len(result.report["charts"])
