"""The baseline a spike is measured against (its warm-up left out) and the degradation."""

from __future__ import annotations

import pytest

from reports import analyse_run
from reports.recovery import WARMUP_SHARE, baseline_window, degradation_pct
from tests.reports_helpers import BASELINE_P95, START, spike_phases, spike_rows, write_run

SPIKE_P95 = 285.15


def report_of(tmp_path, rows, phases=None, **kw):
    return analyse_run(write_run(tmp_path / "run", rows, phases, **kw)).report


def test_degradation_pct():
    assert degradation_pct(100.0, 145.0) == pytest.approx(45.0)
    assert degradation_pct(0.0, 10.0) is None
    assert degradation_pct(float("nan"), 10.0) is None


def test_baseline_window_leaves_out_the_first_fifth():
    assert WARMUP_SHARE == 0.2
    assert baseline_window(100.0, 130.0) == (106.0, 130.0)


def test_a_slow_start_is_left_out_of_the_baseline(tmp_path):
    # the first 6 s of the normal phase (its first 20 %) take 400 ms: a cold cache
    rows = spike_rows(recover_at=7, warmup_s=6, slow_ms=300.0)
    report = report_of(tmp_path, rows, spike_phases())
    normal = report["phases"][0]
    assert normal["p95_ms"] == 400.0  # the phase's own row keeps its whole figures
    assert report["baseline"] == {
        "phase": "normal",
        "warmup_s": 6.0,
        "start": START + 6,
        "end": START + 30,
        "requests": 240,
        "p95_ms": BASELINE_P95,
        "error_rate_pct": 0.0,
        "method": "first 20 % of the baseline phase left out (warm-up)",
    }
    assert report["degradation_pct"] == round((SPIKE_P95 / BASELINE_P95 - 1) * 100, 3)
    # 300 ms after the spike is within 10 % of a 400 ms baseline, but not of 96.05 ms
    assert report["recovery"]["baseline_p95_ms"] == BASELINE_P95
    assert report["recovery_seconds"] == 7


def test_the_degradation_block(tmp_path):
    report = report_of(tmp_path, spike_rows(7), spike_phases())
    pct = round((SPIKE_P95 / BASELINE_P95 - 1) * 100, 3)
    assert report["degradation"] == {
        "pct": pct,
        "baseline_p95_ms": BASELINE_P95,
        "spike_p95_ms": SPIKE_P95,
        "judged": False,
        "note": (
            "degradation has no threshold; the verdict comes from the thresholds and the recovery"
        ),
    }
    assert report["degradation_pct"] == pct


def test_no_spike_no_baseline_or_degradation(tmp_path):
    rows = [r for r in spike_rows(7) if r[0] < START + 30]
    report = report_of(tmp_path, rows, spike_phases()[:1])
    assert report["baseline"] is None
    assert report["degradation"] is None and report["degradation_pct"] is None
