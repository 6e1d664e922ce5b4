"""The pure cores: percentiles, phase maths, recovery search, CSV damage handling."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from perf_lib.thresholds import Level
from reports.loading import Column, read_checked_csv
from reports.phases import Phase, assign, from_run_json, segment_by_users
from reports.recovery import (
    Sample,
    allowed_failures,
    degradation_pct,
    find_recovery,
    recovery_level,
)
from reports.stats import group_stats, grouped_quantiles


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 4), st.floats(0, 1e5, allow_nan=False, allow_infinity=False)),
        min_size=1,
        max_size=200,
    )
)
def test_grouped_quantiles_match_numpy(pairs):
    codes = np.array([c for c, _ in pairs])
    values = np.array([v for _, v in pairs])
    result = grouped_quantiles(codes, values, 6, (0.5, 0.95, 0.99))
    for group in range(6):
        chosen = values[codes == group]
        if len(chosen) == 0:
            assert np.isnan(result[group]).all()
        else:
            np.testing.assert_allclose(
                result[group], np.percentile(chosen, [50, 95, 99]), rtol=1e-12, atol=1e-9
            )


def test_group_stats_counts_and_means():
    frame = group_stats(
        np.array([0, 0, 1, 1, 1]),
        np.array([1.0, 3.0, 10, 20, 30]),
        np.array([False, True, False, False, False]),
        3,
    )
    assert frame["requests"].tolist() == [2, 3, 0]
    assert frame["failures"].tolist() == [1, 0, 0]
    assert frame["error_rate_pct"].tolist()[:2] == [50.0, 0.0]
    assert frame["avg_ms"].tolist()[:2] == [2.0, 20.0]
    assert np.isnan(frame.loc[2, "p95_ms"])


def test_assign_half_open_with_inclusive_last_end():
    phases = [Phase("a", 10, 20), Phase("b", 20, 30), Phase("c", 40, 50)]
    ts = np.array([9.99, 10, 19.999, 20, 29.9, 35, 40, 50, 50.1])
    assert assign(ts, phases).tolist() == [-1, 0, 0, 1, 1, -1, 2, 2, -1]


def test_from_run_json_checks_phases():
    phases = from_run_json(
        {
            "phases": [
                {"name": "b", "start": 5, "end": 9, "users": 50},
                {"name": "a", "start": 1, "end": 5, "users": 10},
            ]
        }
    )
    assert [p.name for p in phases] == ["a", "b"]
    for bad, reason in [
        ({}, "no phases"),
        ({"phases": [{"name": "x", "start": 5, "end": 1}]}, "no valid start and end"),
        ({"phases": [{"start": 1, "end": 2}]}, "has no name"),
        (
            {"phases": [{"name": "a", "start": 0, "end": 5}, {"name": "b", "start": 4, "end": 9}]},
            "overlap",
        ),
        ({"phases": [{"name": "a", "start": 0, "end": 5, "users": "ten"}]}, "non-numeric"),
        ({"phases": [{"name": "a", "start": 0, "end": 5, "users": 1e30}]}, "impossible user"),
        ({"phases": [{"name": "a", "start": 0, "end": 5, "users": -3.5}]}, "impossible user"),
        ({"phases": [{"name": "a", "start": -1.7e308, "end": 1.7e308}]}, "no valid start"),
    ]:
        with pytest.raises(ValueError, match=reason):
            from_run_json(bad)


def test_segment_by_users_merges_ramps_and_names_a_spike():
    times = np.arange(100, 190, dtype=float)
    users = np.array([0] * 2 + [3, 7] + [10] * 26 + [33] + [50] * 29 + [20] + [10] * 29)
    phases = segment_by_users(times, users, "spike")
    assert [(p.name, p.start, p.end, p.users) for p in phases] == [
        ("normal", 102.0, 130.0, 10),
        ("spike", 130.0, 160.0, 50),
        ("recovery", 160.0, 190.0, 10),
    ]
    flat = segment_by_users(times, np.full(len(times), 10), "sustained")
    assert [(p.name, p.start, p.end) for p in flat] == [("sustained", 100.0, 190.0)]
    steps = segment_by_users(times, np.repeat([10, 20, 30], 30), "x")
    assert [p.name for p in steps] == ["phase 1", "phase 2", "phase 3"]


def _samples(oks, p95=50.0):
    return [Sample(t, 30, 0, p95 if ok else 500.0) for t, ok in oks]


def test_find_recovery_needs_three_consecutive_samples():
    samples = _samples(
        [(0, False), (1, True), (2, True), (3, False), (4, True), (5, True), (6, True)]
    )
    recovery = find_recovery(samples, 100.0, 0.0, 60, "m")
    assert recovery.seconds == 4 and recovery.level is Level.HEALTHY
    assert [s.ok for s in recovery.samples] == [False, True, True, False, True, True, True]


def test_find_recovery_limits_are_inclusive():
    at_limit = [Sample(t, 30, 0, 110.0) for t in range(3)]
    assert find_recovery(at_limit, 100.0, 0.0, 10, "m").seconds == 0
    over = [Sample(t, 30, 0, 110.01) for t in range(3)]
    assert find_recovery(over, 100.0, 0.0, 10, "m").seconds is None


@pytest.mark.parametrize(
    ("baseline_pct", "requests", "failures", "ok"),
    [
        (0.0, 30, 0, True),
        (0.0, 30, 1, False),  # a clean normal phase: no failure allowed
        (1.399, 138, 2, True),
        (1.399, 138, 3, False),  # 1.93 expected: two allowed
        (1.399, 46, 1, True),
        (1.399, 46, 2, False),
        (10.0, 30, 3, True),
        (10.0, 30, 4, False),  # exactly the rate
    ],
)
def test_failures_allowed_at_the_normal_rate(baseline_pct, requests, failures, ok):
    assert (failures <= allowed_failures(baseline_pct, requests)) is ok
    samples = [Sample(t, requests, failures, 50.0) for t in range(3)]
    assert (find_recovery(samples, 100.0, baseline_pct, 10, "m").seconds == 0) is ok


def test_recovery_buckets_and_degradation():
    assert [recovery_level(s) for s in (0, 30, 31, 180, 181, None)] == [
        Level.HEALTHY,
        Level.HEALTHY,
        Level.DEGRADED,
        Level.DEGRADED,
        Level.CRITICAL,
        Level.CRITICAL,
    ]
    assert degradation_pct(100.0, 145.0) == pytest.approx(45.0)
    assert degradation_pct(0.0, 10.0) is None
    assert degradation_pct(float("nan"), 10.0) is None


COLUMNS = (Column("a", "float"), Column("b", "str", required=False, empty_ok=True))


@pytest.mark.parametrize(
    ("content", "rows", "truncated"),
    [
        (b"a,b\n1,x\n2,y\n", 2, False),
        (b"a,b\r\n1,x\r\n2,y\r\n", 2, False),
        (b"a,b\n1,x\n2,y\n3.1", 2, True),  # cut in the middle of a number
        (b'a,b\n1,x\n2,"unterminated', 1, True),
        (b"\xef\xbb\xbfa,b\n1,x\n", 1, False),  # a byte-order mark
    ],
)
def test_truncated_last_line(tmp_path, content, rows, truncated):
    path = tmp_path / "f.csv"
    path.write_bytes(content)
    table = read_checked_csv(path, COLUMNS, what="test")
    assert (len(table.frame), table.truncated) == (rows, truncated)
    assert table.frame["a"].dtype == np.float64


def test_cli_constants_match_their_sources():
    from reports import cli, compare, verdict

    assert cli.FAIL_ON_CHOICES == verdict.FAIL_ON_CHOICES
    assert cli.EXIT_BAD_INPUT == verdict.EXIT_BAD_INPUT
    assert cli.DEFAULT_MAX_REGRESSION_PCT == compare.DEFAULT_MAX_REGRESSION_PCT


def test_reports_does_not_import_locust_or_scenarios():
    import subprocess
    import sys

    code = (
        "import sys, reports, reports.build, reports.compare_render, reports.cli; "
        "bad = [m for m in sys.modules if m.split('.')[0] in ('locust', 'scenarios', 'gevent')]; "
        "print(bad)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
