"""Recovery after a spike: the search, its limits (scaled by the time scale) and its verdict."""

from __future__ import annotations

import pytest

from perf_lib.thresholds import Level, RecoveryLimits, Thresholds
from reports import analyse_run
from reports.recovery import Sample, allowed_failures, find_recovery
from tests.reports_helpers import (
    BASELINE_P95,
    START,
    block,
    spike_phases,
    spike_rows,
    write_run,
)

LIMITS = RecoveryLimits()


def report_of(tmp_path, rows, phases=None, thresholds=None, **kw):
    return analyse_run(write_run(tmp_path / "run", rows, phases, **kw), thresholds).report


def _samples(oks, p95=50.0):
    return [Sample(t, 30, 0, p95 if ok else 500.0) for t, ok in oks]


# ---------------------------------------------------------------- the search itself


def test_find_recovery_needs_three_consecutive_samples():
    samples = _samples(
        [(0, False), (1, True), (2, True), (3, False), (4, True), (5, True), (6, True)]
    )
    recovery = find_recovery(samples, 100.0, 0.0, LIMITS, 60, "m")
    assert recovery.seconds == 4 and recovery.level is Level.HEALTHY
    assert [s.ok for s in recovery.samples] == [False, True, True, False, True, True, True]


def test_find_recovery_limits_are_inclusive():
    at_limit = [Sample(t, 30, 0, 110.0) for t in range(3)]
    assert find_recovery(at_limit, 100.0, 0.0, LIMITS, 10, "m").seconds == 0
    over = [Sample(t, 30, 0, 110.01) for t in range(3)]
    assert find_recovery(over, 100.0, 0.0, LIMITS, 10, "m").seconds is None


def test_find_recovery_judges_by_the_limits_it_is_given():
    late = [Sample(t, 30, 0, 50.0) for t in range(40, 43)]
    assert find_recovery(late, 100.0, 0.0, LIMITS, 60, "m").level is Level.DEGRADED
    assert find_recovery(late, 100.0, 0.0, LIMITS.scaled(0.1), 60, "m").level is Level.CRITICAL
    assert find_recovery(late, 100.0, 0.0, LIMITS.scaled(2), 60, "m").level is Level.HEALTHY


@pytest.mark.parametrize(
    ("baseline_pct", "requests", "failures", "ok"),
    [
        (0.0, 30, 0, True),
        (0.0, 30, 1, False),  # a clean baseline: no failure allowed
        (1.399, 138, 2, True),
        (1.399, 138, 3, False),  # 1.93 expected: two allowed
        (1.399, 46, 1, True),
        (1.399, 46, 2, False),
        (10.0, 30, 3, True),
        (10.0, 30, 4, False),  # exactly the rate
    ],
)
def test_failures_allowed_at_the_baseline_rate(baseline_pct, requests, failures, ok):
    assert (failures <= allowed_failures(baseline_pct, requests)) is ok
    samples = [Sample(t, requests, failures, 50.0) for t in range(3)]
    assert (find_recovery(samples, 100.0, baseline_pct, LIMITS, 10, "m").seconds == 0) is ok


# ---------------------------------------------------------------- through the report


@pytest.mark.parametrize(
    ("recover_at", "errors_until", "recovery_s", "seconds", "verdict"),
    [
        (0, 0, 60, 0, "healthy"),
        (7, 0, 60, 7, "healthy"),
        (7, 12, 60, 12, "healthy"),  # latency back at 7 s, errors only at 12 s
        (30, 0, 60, 30, "healthy"),
        (31, 0, 60, 31, "degraded"),
        (180, 0, 200, 180, "degraded"),  # a recovery phase long enough for the 180 s bucket
        (181, 0, 200, 181, "critical"),
    ],
)
def test_recovery_point(tmp_path, recover_at, errors_until, recovery_s, seconds, verdict):
    report = report_of(
        tmp_path, spike_rows(recover_at, recovery_s, errors_until), spike_phases(recovery_s)
    )
    assert report["recovery_seconds"] == seconds
    assert report["recovery"]["status"] == "recovered"
    assert report["recovery"]["verdict"] == verdict
    assert report["recovery"]["baseline_p95_ms"] == BASELINE_P95
    assert report["recovery"]["limit_p95_ms"] == round(BASELINE_P95 * 1.1, 3)
    assert report["recovery"]["baseline_error_rate_pct"] == 0.0
    assert report["recovery"]["searched_s"] == recovery_s
    first = report["recovery"]["samples"][seconds]
    assert first == {
        "t": seconds,
        "requests": 30,
        "failures": 0,
        "p95_ms": 100.0,
        "error_rate_pct": 0.0,
        "ok": True,
    }
    if verdict == "critical":
        assert report["verdict"] == "critical"


def test_the_report_states_the_limits_it_applied(tmp_path):
    report = report_of(tmp_path, spike_rows(7), spike_phases(), Thresholds())
    recovery = report["recovery"]
    assert recovery["limits"] == RecoveryLimits().to_dict()
    assert recovery["limit_p95_ms"] == round(BASELINE_P95 * 1.1, 3)
    assert recovery["verdict"] == "healthy"
    assert report["thresholds"]["recovery"] == recovery["limits"]  # unscaled at time scale 1


@pytest.mark.parametrize(
    ("recover_at", "seconds", "verdict"),
    [(2, 2, "healthy"), (3, 3, "healthy"), (4, 4, "degraded"), (18, 18, "degraded")]
    + [(19, 19, "critical"), (60, None, "critical")],
)
def test_limits_scale_with_the_time_scale(tmp_path, recover_at, seconds, verdict):
    report = report_of(tmp_path, spike_rows(recover_at), spike_phases(), time_scale=0.1)
    recovery = report["recovery"]
    assert recovery["limits"] == RecoveryLimits(3.0, 18.0, 10.0, 5.0).to_dict()
    assert (recovery["seconds"], recovery["verdict"]) == (seconds, verdict)


def test_the_limits_come_from_the_thresholds_file(tmp_path):
    thresholds = Thresholds.from_dict({"recovery": {"healthy_s": 5, "degraded_s": 10}})
    report = report_of(tmp_path, spike_rows(7), spike_phases(), thresholds, time_scale=2.0)
    assert report["recovery"]["limits"]["healthy_s"] == 10.0
    assert report["recovery"]["limits"]["degraded_s"] == 20.0
    assert report["recovery"]["verdict"] == "healthy"  # 7 s, within 10 s at this time scale


def test_tolerance_ms_floors_a_small_baseline(tmp_path):
    # baseline 2.5 ms; after the spike 6 ms: 140 % above, but within 5 ms of it
    rows = (
        block(START, 30, 10, lambda s, j, n: 2.5)
        + block(START + 30, 30, 20, lambda s, j, n: 40.0)
        + block(START + 60, 60, 10, lambda s, j, n: 6.0 if s >= 4 else 40.0)
    )
    report = report_of(tmp_path, rows, spike_phases())
    assert report["recovery"]["baseline_p95_ms"] == 2.5
    assert report["recovery"]["limits"]["tolerance_ms"] == 5.0
    assert report["recovery"]["limit_p95_ms"] == 7.5  # max(2.5 * 1.1, 2.5 + 5)
    assert report["recovery_seconds"] == 4
    strict = Thresholds.from_dict({"recovery": {"tolerance_ms": 0}})
    assert report_of(tmp_path / "strict", rows, spike_phases(), strict)["recovery_seconds"] is None


def test_searched_to_the_recorded_end_of_the_recovery_phase(tmp_path):
    # the runner kept the recovery phase going until recovery was seen: 95 s, not 60
    rows = spike_rows(recover_at=80, recovery_s=95)
    report = report_of(tmp_path, rows, spike_phases(95))
    assert report["recovery"]["searched_s"] == 95.0
    assert (report["recovery_seconds"], report["recovery"]["verdict"]) == (80, "degraded")


def test_never_recovered_is_null_and_critical(tmp_path):
    report = report_of(tmp_path, spike_rows(recover_at=60), spike_phases())
    assert report["recovery_seconds"] is None
    assert report["recovery"]["status"] == "not recovered"
    assert report["recovery"]["verdict"] == "critical"
    assert report["verdict"] == "critical"


def test_two_healthy_seconds_at_the_very_end_are_not_a_recovery(tmp_path):
    report = report_of(tmp_path, spike_rows(recover_at=58), spike_phases())
    assert report["recovery_seconds"] is None
    assert [s["t"] for s in report["recovery"]["samples"] if s["ok"]] == [58, 59]


def test_seconds_without_requests_are_skipped_not_counted(tmp_path):
    rows = [r for r in spike_rows(recover_at=7) if not START + 68 <= r[0] < START + 70]
    report = report_of(tmp_path, rows, spike_phases())
    samples = [s["t"] for s in report["recovery"]["samples"]]
    assert 8 not in samples and 9 not in samples
    assert report["recovery_seconds"] == 7  # samples 7, 10, 11 are the three consecutive ones

    only_two = [r for r in spike_rows(recover_at=7) if r[0] < START + 69]
    report = report_of(tmp_path / "b", only_two, spike_phases())
    assert report["recovery_seconds"] is None  # samples 7 and 8 only: empty seconds don't count


def test_recovery_only_measured_with_baseline_and_spike_phases(tmp_path):
    rows = block(START, 20, 10, lambda s, j, n: 10.0)
    report = report_of(tmp_path, rows, scenario="sustained")
    assert [(p["name"], p["role"]) for p in report["phases"]] == [("sustained", "steady")]
    assert report["degradation_pct"] is None
    assert report["recovery_seconds"] is None and report["recovery"] is None


def test_time_scale_tenth_short_phases_still_recover(tmp_path):
    rows = (
        block(START, 3, 10, lambda s, j, n: n % 30 + 1)
        + block(START + 3, 3, 20, lambda s, j, n: 200.0 + n % 30)
        + block(START + 6, 6, 10, lambda s, j, n: 300.0 if s < 1 else n % 30 + 1)
    )
    phases = [
        {"name": "normal", "start": START, "end": START + 3, "users": 10},
        {"name": "spike", "start": START + 3, "end": START + 6, "users": 50},
        {"name": "recovery", "start": START + 6, "end": START + 12, "users": 10},
    ]
    report = report_of(tmp_path, rows, phases, time_scale=0.1)
    assert (report["recovery_seconds"], report["recovery"]["verdict"]) == (1, "healthy")


def test_no_request_after_the_spike(tmp_path):
    rows = [r for r in spike_rows() if r[0] < START + 60]
    report = report_of(tmp_path, rows, spike_phases()[:2])
    assert report["recovery_seconds"] is None
    assert "recovery_no_data" in {w["code"] for w in report["warnings"]}


def test_recovery_alone_can_make_the_run_critical(tmp_path):
    # every endpoint and phase healthy, but p95 stays ~20 % above the baseline after the spike
    rows = (
        block(START, 30, 10, lambda s, j, n: n % 100 + 1)
        + block(START + 30, 30, 10, lambda s, j, n: n % 100 + 1)
        + block(START + 60, 60, 10, lambda s, j, n: (j + 1) * 10 + 20)
    )
    report = report_of(tmp_path, rows, spike_phases(), Thresholds())
    assert {e["verdict"] for e in report["endpoints"]} == {"healthy"}
    assert {p["verdict"] for p in report["phases"]} == {"healthy"}
    assert report["recovery"]["status"] == "not recovered"
    assert report["verdict"] == "critical"
