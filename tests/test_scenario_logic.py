"""The scenarios' pure parts: schedules, response checks, run records, progress, sampling."""

from __future__ import annotations

import json

import orjson
import pytest

from scenarios.catalog import SCENARIOS, parse_think_time
from scenarios.checks import (
    check_health,
    check_metrics,
    check_status,
    check_symbols,
    historical_check,
    server_time_ms,
    symbol_listing,
)
from scenarios.progress import progress_line, requests_so_far
from scenarios.run_record import phases_from_log, read_phase_log, strip_credentials
from scenarios.sampler import COLUMNS, sample_row
from scenarios.schedule import Phase, Schedule, spike_schedule

# ------------------------------------------------------------------ schedules


def test_the_spike_is_normal_spike_recovery_at_10_50_10_users():
    schedule = spike_schedule()
    assert [(p.name, p.duration_s, p.users) for p in schedule.phases] == [
        ("normal", 30.0, 10),
        ("spike", 30.0, 50),
        ("recovery", 60.0, 10),
    ]
    assert schedule.duration_s == 120.0
    assert schedule.phases[1].spawn_rate >= 40  # the spike arrives within a second


@pytest.mark.parametrize(
    ("elapsed", "phase"),
    [(0, "normal"), (29.99, "normal"), (30, "spike"), (59.9, "spike"), (60, "recovery"),
     (119.9, "recovery"), (120, None), (500, None)],
)  # fmt: skip
def test_phase_at_walks_the_schedule(elapsed, phase):
    found = spike_schedule().phase_at(elapsed)
    assert (found.name if found else None) == phase


def test_time_scale_shortens_every_phase():
    scaled = spike_schedule().scaled(0.1)
    assert [p.duration_s for p in scaled.phases] == pytest.approx([3.0, 3.0, 6.0])
    assert scaled.phase_at(3.5).name == "spike"
    assert scaled.remaining_s(4.0) == pytest.approx(8.0)
    with pytest.raises(ValueError):
        spike_schedule().scaled(0)
    with pytest.raises(ValueError):
        spike_schedule().scaled(-1)


def test_users_scale_keeping_the_spikes_ratio():
    assert [p.users for p in spike_schedule().with_users(4).phases] == [4, 20, 4]
    with pytest.raises(ValueError):
        spike_schedule().with_users(0)


def test_invalid_phases_are_rejected():
    with pytest.raises(ValueError):
        Schedule(())
    with pytest.raises(ValueError):
        Schedule((Phase("x", 10, 0, 1.0),))


def test_catalog_matches_the_design():
    assert {n: (s.users, s.requests_per_user) for n, s in SCENARIOS.items()} == {
        "baseline": (10, 100),
        "historical": (10, 50),
        "sustained": (10, None),
        "spike": (10, None),
    }
    assert SCENARIOS["baseline"].schedule() is None
    sustained = SCENARIOS["sustained"].schedule(time_scale=0.5, duration_s=30)
    assert [(p.name, p.duration_s, p.users) for p in sustained.phases] == [("sustained", 15.0, 10)]
    assert SCENARIOS["sustained"].schedule().duration_s == 60
    assert all(s.module.is_file() for s in SCENARIOS.values())


@pytest.mark.parametrize(("text", "expected"), [("0", (0, 0)), ("0.01,0.03", (0.01, 0.03))])
def test_think_time_parses(text, expected):
    assert parse_think_time(text) == expected


@pytest.mark.parametrize("text", ["", "a", "-1", "0.3,0.1", "1,2,3", "inf"])
def test_bad_think_time_is_rejected(text):
    with pytest.raises(ValueError, match="think time"):
        parse_think_time(text)


# --------------------------------------------------------------------- checks


def body(document) -> bytes:
    return orjson.dumps(document)


def bar(date, o=10.0, h=12.0, low=9.0, c=11.0, v=100):
    return {"date": date, "open": o, "high": h, "low": low, "close": c, "volume": v}


def historical(bars, symbol="AAPL", start="2024-01-01", end="2024-12-31"):
    return body({"symbol": symbol, "start": start, "end": end, "count": len(bars), "bars": bars})


def test_a_valid_historical_response_passes():
    ok = historical([bar("2024-01-02"), bar("2024-01-03")])
    assert historical_check("AAPL")(200, ok) is None


@pytest.mark.parametrize(
    ("status", "payload", "message"),
    [
        (500, historical([]), "HTTP 500, expected 200"),
        (200, b"<html>", "not valid JSON"),
        (200, b"[1, 2]", "not a JSON object"),
        (200, body({"symbol": "AAPL"}), "missing fields start, end, count, bars"),
        (200, historical([], symbol="MSFT"), "asked for AAPL, got MSFT"),
        (200, historical([bar("2024-01-03"), bar("2024-01-02")]), "out of order at 2024-01-02"),
        (200, historical([bar("2024-01-02"), bar("2024-01-02")]), "out of order"),
        (200, historical([bar("2023-12-29")]), "outside 2024-01-01..2024-12-31"),
        (200, historical([bar("2024-01-02", h=8.0)]), "inconsistent OHLC on 2024-01-02"),
        (200, historical([{"date": "2024-01-02"}]), "missing fields open, high, low, close"),
        (200, body({"symbol": "AAPL", "start": "a", "end": "b", "count": 3, "bars": []}),
         "count 3 does not match"),
    ],
)  # fmt: skip
def test_broken_historical_responses_fail_with_a_clear_message(status, payload, message):
    assert message in historical_check("AAPL")(status, payload)


def test_light_endpoint_checks():
    health = {"status": "ok", "database": "ok", "uptime_seconds": 1.0}
    assert check_health(200, body(health)) is None
    degraded = check_health(200, body(health | {"status": "degraded", "database": "unavailable"}))
    assert degraded == "service reports status 'degraded' (database 'unavailable')"
    assert check_health(503, body(health)) == "HTTP 503, expected 200"
    assert check_status(200, body({"version": "1", "uptime_seconds": 2, "database": {}})) is None
    assert "missing field version" in check_status(200, body({"uptime_seconds": 2, "database": {}}))
    assert check_metrics(200, body({"requests_total": 1, "routes": {}})) is None
    assert (
        check_metrics(200, body({"requests_total": 1, "routes": []})) == "routes is not an object"
    )


def test_symbols_check_and_listing():
    entry = {
        "symbol": "AAPL",
        "name": "Apple",
        "first_date": "2020-01-01",
        "last_date": "2025-06-30",
    }
    other = entry | {"symbol": "MSFT", "last_date": "2025-07-01"}
    good = body({"count": 2, "symbols": [entry, other]})
    assert check_symbols(200, good) is None
    assert symbol_listing(good) == (["AAPL", "MSFT"], "2025-07-01")
    assert check_symbols(200, body({"count": 0, "symbols": []})) == "symbols is empty or not a list"
    assert "count 3 but 2" in check_symbols(200, body({"count": 3, "symbols": [entry, other]}))
    broken = body({"count": 1, "symbols": [{"symbol": "AAPL"}]})
    assert check_symbols(200, broken) == "missing fields name, first_date, last_date in a symbol"


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("app;dur=12.5, db;dur=3.1", 12.5),
        ('db;dur=3.1,app;desc="x";dur=0.25', 0.25),
        ("db;dur=3.1", None),
        ("app;dur=abc", None),
        ("", None),
        (None, None),
    ],
)
def test_server_timing_app_duration(header, expected):
    assert server_time_ms(header) == expected


# ---------------------------------------------------------------- run record


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("http://user:secret@example.com:8000/api", "http://example.com:8000/api"),
        ("https://token@host", "https://host"),
        ("http://u:p@[::1]:9000", "http://[::1]:9000"),
        ("http://127.0.0.1:8000", "http://127.0.0.1:8000"),
    ],
)
def test_credentials_never_reach_the_run_record(url, expected):
    assert strip_credentials(url) == expected


def test_phases_take_their_real_timestamps_from_the_shape_log(tmp_path):
    events = [
        {"time": 100.0, "event": "phase", "name": "normal", "users": 10},
        {"time": 130.5, "event": "phase", "name": "spike", "users": 50},
        {"time": 161.0, "event": "phase", "name": "recovery", "users": 10},
        {"time": 221.2, "event": "end"},
    ]
    (tmp_path / "phases.jsonl").write_text(
        "".join(json.dumps(e) + "\n" for e in events) + '{"time": 22'  # torn by a kill
    )
    assert read_phase_log(tmp_path) == events
    assert phases_from_log(events, ended=230.0) == [
        {"name": "normal", "start": 100.0, "end": 130.5, "users": 10},
        {"name": "spike", "start": 130.5, "end": 161.0, "users": 50},
        {"name": "recovery", "start": 161.0, "end": 221.2, "users": 10},
    ]
    interrupted = events[:2]
    assert phases_from_log(interrupted, ended=140.0)[-1] == {
        "name": "spike", "start": 130.5, "end": 140.0, "users": 50
    }  # fmt: skip
    assert read_phase_log(tmp_path / "missing") == []


# ------------------------------------------------------------------- progress


def test_progress_line_for_a_timed_run():
    events = [
        {"time": 1000.0, "event": "phase", "name": "normal", "users": 10},
        {"time": 1030.0, "event": "phase", "name": "spike", "users": 50},
    ]
    line = progress_line(SCENARIOS["spike"], spike_schedule(), 10, events, 1042.0, 12345)
    assert line == "spike | phase spike, 50 users | 18 s left in phase, 78 s left | 12,345 requests"
    assert (
        progress_line(SCENARIOS["spike"], spike_schedule(), 10, [], 0, None) == "spike | starting"
    )


def test_progress_line_for_a_budgeted_run(tmp_path):
    stats = tmp_path / "locust_stats.csv"
    stats.write_text("Type,Name,Request Count\nGET,/health,40\n,Aggregated,431\n")
    events = [{"time": 5.0, "event": "phase", "name": "baseline", "users": 10}]
    line = progress_line(SCENARIOS["baseline"], None, 10, events, 9.0, requests_so_far(stats))
    assert line == "baseline | phase baseline, 10 users | 431 requests (budget 1,000)"
    assert requests_so_far(tmp_path / "absent.csv") is None


# -------------------------------------------------------------------- sampler


def test_sample_row_takes_the_summary_and_the_process():
    summary = {
        "cache": {"hit_rate_pct": 79.0, "size": 145, "hits": 2345, "misses": 623},
        "performance": {"total_queries": 750, "failed": 8, "p95_duration_ms": 4.5,
                        "error_rate_pct": 1.07},
    }  # fmt: skip
    row = sample_row(summary, {"process": {"rss_bytes": 1234}}, 10.0)
    assert dict(zip(COLUMNS, row, strict=True)) == {
        "timestamp": "10.000",
        "cache_hit_rate_pct": 79.0,
        "cache_size": 145,
        "cache_hits": 2345,
        "cache_misses": 623,
        "queries_total": 750,
        "queries_failed": 8,
        "p95_ms": 4.5,
        "error_rate_pct": 1.07,
        "rss_bytes": 1234,
    }
    assert sample_row({}, None, 1.0) == ["1.000"] + [""] * (len(COLUMNS) - 1)
