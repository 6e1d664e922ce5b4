"""Threshold boundaries, overrides, recovery limits and bad thresholds files; recommendations
that agree."""

from __future__ import annotations

from pathlib import Path

import pytest

from perf_lib.recommendations import recommendations
from perf_lib.thresholds import (
    Level,
    RecoveryLimits,
    Thresholds,
    ThresholdsError,
    resolve_thresholds,
    worst,
)

REPO_ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize(
    ("metric", "value", "level"),
    [
        ("avg_ms", 99.999, Level.HEALTHY),
        ("avg_ms", 100, Level.DEGRADED),  # equal to the healthy limit: degraded
        ("avg_ms", 300, Level.DEGRADED),  # equal to the degraded limit: still degraded
        ("avg_ms", 300.001, Level.CRITICAL),
        ("p95_ms", 199.9, Level.HEALTHY),
        ("p95_ms", 200, Level.DEGRADED),
        ("p95_ms", 500, Level.DEGRADED),
        ("p95_ms", 500.1, Level.CRITICAL),
        ("p99_ms", 399, Level.HEALTHY),
        ("p99_ms", 400, Level.DEGRADED),
        ("p99_ms", 801, Level.CRITICAL),
        ("error_rate_pct", 0.99, Level.HEALTHY),
        ("error_rate_pct", 1.0, Level.DEGRADED),
        ("error_rate_pct", 1.07, Level.DEGRADED),
        ("error_rate_pct", 5.0, Level.DEGRADED),
        ("error_rate_pct", 5.01, Level.CRITICAL),
        ("p95_ms", None, Level.HEALTHY),  # no samples: nothing to hold against the endpoint
    ],
)
def test_boundaries_follow_the_table(metric, value, level):
    assert Thresholds().level(metric, value) is level


def test_the_committed_file_is_the_default_table():
    loaded = Thresholds.load(REPO_ROOT / "thresholds.toml")
    assert loaded.limits_for() == Thresholds().limits_for()
    assert loaded.source.endswith("thresholds.toml")


def test_per_endpoint_overrides_apply_only_to_that_endpoint(tmp_path):
    path = tmp_path / "t.toml"
    path.write_text(
        "[default]\np95_ms = { healthy = 150, degraded = 400 }\n"
        '[endpoints."/api/v1/historical"]\np95_ms = { healthy = 300, degraded = 600 }\n'
    )
    thresholds = Thresholds.load(path)
    assert thresholds.level("p95_ms", 250, "/api/v1/historical") is Level.HEALTHY
    assert thresholds.level("p95_ms", 250, "/health") is Level.DEGRADED
    assert thresholds.level("avg_ms", 150, "/api/v1/historical") is Level.DEGRADED  # default
    checks = thresholds.check({"p95_ms": 700, "avg_ms": 10, "other": 1}, "/api/v1/historical")
    assert checks == {"avg_ms": Level.HEALTHY, "p95_ms": Level.CRITICAL}
    assert thresholds.to_dict()["endpoints"]["/api/v1/historical"]["p95_ms"]["healthy"] == 300


def test_an_endpoint_split_by_method_keeps_its_paths_overrides(tmp_path):
    path = tmp_path / "t.toml"
    path.write_text(
        '[endpoints."/orders"]\np95_ms = { healthy = 300, degraded = 600 }\n'
        '[endpoints."POST /orders"]\np95_ms = { healthy = 50, degraded = 100 }\n'
    )
    thresholds = Thresholds.load(path)
    assert thresholds.level("p95_ms", 250, "GET /orders") is Level.HEALTHY  # /orders' own
    assert thresholds.level("p95_ms", 250, "POST /orders") is Level.CRITICAL  # its own wins
    assert thresholds.level("p95_ms", 250, "GET/orders") is Level.DEGRADED  # no method prefix


def test_worst_and_labels():
    assert worst([Level.HEALTHY, Level.CRITICAL, Level.DEGRADED]) is Level.CRITICAL
    assert worst([]) is Level.HEALTHY
    assert Level.parse("Degraded") is Level.DEGRADED
    assert Level.CRITICAL.label == "critical"
    with pytest.raises(ValueError, match="unknown level"):
        Level.parse("fine")


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ("[default\n", "not valid TOML"),
        (b"\xff\xfe\x00binary", "not valid TOML"),
        ("[default]\np95 = { healthy = 1, degraded = 2 }\n", "unknown metric 'p95'"),
        ("[default]\np95_ms = 200\n", "p95_ms must be"),
        ("[default]\np95_ms = { healthy = 500, degraded = 200 }\n", "above the degraded limit"),
        ("[default]\np95_ms = { healthy = -1, degraded = 2 }\n", ">= 0"),
        ('[default]\np95_ms = { healthy = "a", degraded = 2 }\n', "must be a number"),
        ("[limits]\n", "unknown section"),
        ("endpoints = 3\n", "[endpoints] must be a table"),
        ("[recovery]\nhealthy = 30\n", "[recovery]: unknown key(s) healthy"),
        ("[recovery]\nhealthy_s = 200\n", "healthy_s 200 is above degraded_s 180"),
        ("[recovery]\ntolerance_pct = -1\n", "tolerance_pct must be a finite number >= 0"),
        ('[recovery]\ndegraded_s = "3m"\n', "degraded_s must be a number"),
        ("[recovery]\ntolerance_ms = true\n", "tolerance_ms must be a number"),
        ("recovery = 30\n", "[recovery] must be a table"),
    ],
)
def test_a_malformed_file_raises_one_error_naming_the_file(tmp_path, content, problem):
    path = tmp_path / "bad.toml"
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    with pytest.raises(ThresholdsError) as caught:
        Thresholds.load(path)
    message = str(caught.value)
    assert message.startswith(str(path))
    assert problem in message
    assert "\n" not in message
    assert "\n" not in message


def test_a_missing_file_or_a_directory_is_a_clear_error(tmp_path):
    with pytest.raises(ThresholdsError, match="not found"):
        Thresholds.load(tmp_path / "missing.toml")
    with pytest.raises(ThresholdsError, match="is a directory"):
        Thresholds.load(tmp_path)


# ------------------------------------------------------------ recovery limits


def test_recovery_limits_default_to_the_committed_table():
    committed = Thresholds.load(REPO_ROOT / "thresholds.toml").recovery
    assert committed == Thresholds().recovery == RecoveryLimits(30, 180, 10, 5)
    assert Thresholds().to_dict()["recovery"] == {
        "healthy_s": 30.0,
        "degraded_s": 180.0,
        "tolerance_pct": 10.0,
        "tolerance_ms": 5.0,
    }


def test_a_recovery_table_overrides_only_what_it_names(tmp_path):
    path = tmp_path / "t.toml"
    path.write_text("[recovery]\nhealthy_s = 10\ntolerance_ms = 0.5\n")
    limits = Thresholds.load(path).recovery
    assert limits == RecoveryLimits(
        healthy_s=10, degraded_s=180, tolerance_pct=10, tolerance_ms=0.5
    )


@pytest.mark.parametrize(
    ("seconds", "level"),
    [
        (0, "healthy"),
        (30, "healthy"),
        (30.5, "degraded"),
        (180, "degraded"),
        (181, "critical"),
        (None, "critical"),
    ],
)
def test_recovery_level_buckets(seconds, level):
    assert RecoveryLimits().level(seconds) is Level.parse(level)


def test_recovery_limits_scale_their_times_only():
    scaled = RecoveryLimits().scaled(0.1)
    assert (scaled.healthy_s, scaled.degraded_s) == pytest.approx((3.0, 18.0))
    assert (scaled.tolerance_pct, scaled.tolerance_ms) == (10, 5)
    assert scaled.level(3) is Level.HEALTHY and scaled.level(4) is Level.DEGRADED
    assert scaled.level(19) is Level.CRITICAL
    for bad in (0, -1, float("nan"), float("inf")):
        with pytest.raises(ValueError, match="time scale"):
            RecoveryLimits().scaled(bad)


@pytest.mark.parametrize(
    ("baseline", "limit"),
    [(2.5, 7.5), (50.0, 55.0), (100.0, 110.0), (0.0, 5.0)],  # the 5 ms floor up to 50 ms
)
def test_p95_limit_is_the_larger_of_the_percentage_and_the_floor(baseline, limit):
    assert RecoveryLimits().p95_limit_ms(baseline) == pytest.approx(limit)
    assert RecoveryLimits(tolerance_ms=0).p95_limit_ms(2.5) == pytest.approx(2.75)


def test_resolve_thresholds_finds_the_file_in_the_current_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert resolve_thresholds().source == "built-in defaults"
    (tmp_path / "thresholds.toml").write_text("[recovery]\nhealthy_s = 12\n")
    assert resolve_thresholds().recovery.healthy_s == 12
    with pytest.raises(ThresholdsError, match="not found"):
        resolve_thresholds(tmp_path / "none.toml")


# ------------------------------------------------------------ recommendations

SAMPLE_CACHE = {"size": 145, "hit_rate_pct": 79.0, "hits": 2345, "misses": 623}
SAMPLE_PERFORMANCE = {
    "total_queries": 750,
    "error_rate_pct": 1.07,
    "p99_duration_ms": 890.1,
}


def test_recommendations_follow_the_table():
    advice = recommendations(SAMPLE_CACHE, SAMPLE_PERFORMANCE)
    assert advice[0] == "Cache hit rate is good at 79.0%"
    assert advice[1].startswith("P99 query time is critical at 890.1ms")
    assert advice[2].startswith("Error rate is degraded at 1.07%")


def test_recommendations_for_a_healthy_service_and_a_cold_cache():
    performance = {"total_queries": 10, "error_rate_pct": 0.0, "p99_duration_ms": 12.0}
    advice = recommendations({"hits": 0, "misses": 0}, performance)
    assert advice == [
        "Cache has not been used yet",
        "P99 query time is healthy at 12.0ms (below 400ms)",
        "Error rate is healthy at 0.00% (below 1%)",
    ]


def test_recommendations_name_a_full_cache_and_the_worst_bottleneck():
    cache = {
        "hits": 10,
        "misses": 90,
        "hit_rate_pct": 10.0,
        "size": 5,
        "max_size": 5,
        "evictions": 3,
    }
    bottleneck = {
        "query_type": "historical_data",
        "slow_count": 4,
        "threshold_ms": 200.0,
        "avg_slow_ms": 350.0,
    }
    advice = recommendations(cache, {"total_queries": 100, "error_rate_pct": 0.0}, [bottleneck])
    assert "larger max_size" in advice[0]
    assert advice[-1].startswith("Slowest query type is historical_data: 4 queries above 200.0ms")


def test_no_queries_yet_says_so():
    assert recommendations(None, {"total_queries": 0}) == [
        "No queries recorded in the window yet: nothing to judge."
    ]
