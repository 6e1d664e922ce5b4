"""The progress line: phase, users, time or budget left, and the recovery watch."""

from __future__ import annotations

from scenarios.catalog import SCENARIOS
from scenarios.progress import capacity_line, progress_line, requests_so_far
from scenarios.schedule import spike_schedule

SPIKE = SCENARIOS["spike"]


def phase(time, name, users):
    return {"time": time, "event": "phase", "name": name, "users": users}


def test_progress_line_for_a_timed_run():
    events = [phase(1000.0, "normal", 10), phase(1030.0, "spike", 50)]
    line = progress_line(SPIKE, spike_schedule(), 10, events, 1042.0, 12345)
    assert line == "spike | phase spike, 50 users | 18 s left in phase, 78 s left | 12,345 requests"
    assert progress_line(SPIKE, spike_schedule(), 10, [], 0, None) == "spike | starting"


def test_progress_line_shows_the_recovery_watch():
    events = [phase(1000.0, "normal", 10), phase(1030.0, "spike", 50),
              phase(1060.0, "recovery", 10),
              {"time": 1060.0, "event": "watch", "recovered_after_s": None, "ends": 1245.0,
               "deadline": 1245.0}]  # fmt: skip
    within = progress_line(SPIKE, spike_schedule(), 10, events, 1100.0, None)
    assert within == (
        "spike | phase recovery, 10 users | 20 s left in phase, 20 s left | "
        "watching recovery: not back to normal yet (at most 145 s more)"
    )
    extended = progress_line(SPIKE, spike_schedule(), 10, events, 1150.0, 99)
    assert extended == (
        "spike | phase recovery, 10 users | "
        "watching recovery: not back to normal yet (at most 95 s more) | 99 requests"
    )
    seen = {"time": 1160.0, "event": "watch", "recovered_after_s": 95, "ends": 1161.0,
            "deadline": 1245.0}  # fmt: skip
    confirming = progress_line(SPIKE, spike_schedule(), 10, [*events, seen], 1160.0, None)
    assert confirming.endswith(
        "watching recovery: back to normal 95 s after the spike, phase ends in 1 s"
    )


def test_progress_line_for_a_budgeted_run(tmp_path):
    stats = tmp_path / "locust_stats.csv"
    stats.write_text("Type,Name,Request Count\nGET,/health,40\n,Aggregated,431\n")
    events = [phase(5.0, "baseline", 10)]
    line = progress_line(SCENARIOS["baseline"], None, 10, events, 9.0, requests_so_far(stats))
    assert line == "baseline | phase baseline, 10 users | 431 requests (budget 1,000)"
    assert requests_so_far(tmp_path / "absent.csv") is None


def test_capacity_progress_gives_the_step_its_rate_the_bracket_and_the_time():
    events = [
        {"time": 100.0, "event": "phase", "name": "step 1", "rate": 50.0},
        {"time": 190.0, "event": "phase", "name": "step 9", "rate": 152.5},
    ]
    climbing = capacity_line(events[:1], {"healthy_rps": None, "failing_rps": None}, 105.0, 12.0)
    assert climbing == "capacity | step 1 at 50.0 req/s | held none yet, climbing | 5 s spent"
    answer = {"healthy_rps": 137.8, "failing_rps": 168.8, "settings": {"precision": 0.05}}
    # log(168.8/137.8) / log(1.05) = 4.2 bracket widths: 3 more halvings, 1.5 steps each
    assert capacity_line(events, answer, 195.0, 12.0) == (
        "capacity | step 9 at 152.5 req/s | held 137.8, failed 168.8 | 95 s spent, about 54 s left"
    )
    assert capacity_line([], None, 0.0, 12.0) == "capacity | starting"
