"""Warnings: each one a sentence a person can act on, raised when its condition holds."""

from __future__ import annotations

import pytest

from reports import analyse_run
from tests.reports_helpers import (
    HEALTH,
    HISTORICAL,
    START,
    block,
    spike_phases,
    spike_rows,
    sustained_rows,
    write_run,
    write_sustained,
)
from tests.test_reports_open_model import OPEN, second_rows, steady, write_generator

EVERY_CODE = {
    "partial",
    "fallback",
    "no_run_json",
    "failures",
    "user_exceptions",
    "load_generator_cpu",
    "short_phase",
    "few_samples",
    "outside_phases",
    "empty_phase",
    "recovery_unmeasured",
    "recovery_lag",
    "recovery_no_data",
    "recovery_short",
    "drift",
    "dropped",
    "generator_limited",
    "no_generator_log",
    "latency_uncorrected",
    "closed_model",
}
CPU_LINE = (
    "[2025-01-01 00:00:00,000] host/WARNING/root: CPU usage above 90%! This may constrain "
    "your throughput and may even give inconsistent response time measurements!\n"
)


def report_of(tmp_path, rows, phases=None, **kw):
    return analyse_run(write_run(tmp_path / "run", rows, phases, **kw)).report


def _troubled_runs(root):
    """Runs that, between them, raise every warning there is."""
    fallback = write_run(
        root / "fallback", spike_rows(7), spike_phases(), requests_log=False, partial=True
    )
    (fallback / "locust.log").write_text(CPU_LINE)
    with (fallback / "locust_exceptions.csv").open("a") as out:
        out.write("1,KeyError('bars'),\"Traceback...\",local\n")
    yield fallback
    short = [
        {"name": "normal", "start": START, "end": START + 3, "users": 10},
        {"name": "spike", "start": START + 3, "end": START + 6, "users": 50},
        {"name": "recovery", "start": START + 6, "end": START + 8, "users": 10},
        {"name": "idle", "start": START + 8, "end": START + 9, "users": 0},
    ]
    rows = (
        block(START - 2, 2, 5, lambda s, j, n: 10.0)  # before the first phase
        + block(START, 3, 10, lambda s, j, n: 10.0)
        + block(START + 3, 3, 20, lambda s, j, n: 200.0)
        + block(START + 6, 2, 10, lambda s, j, n: 200.0)
    )
    yield write_run(root / "short", rows, short)
    cold = [r for r in spike_rows(7) if r[0] < START + 5 or r[0] >= START + 30]
    yield write_run(root / "cold", cold, spike_phases())  # nothing after the warm-up
    yield write_run(
        root / "cut", [r for r in spike_rows() if r[0] < START + 60], spike_phases()[:2]
    )
    yield write_run(root / "nojson", spike_rows(7), spike_phases(), run_json=False)
    yield write_sustained(root / "drift", sustained_rows([50.0, 55, 60, 65, 70, 75]), 60)
    late = steady(root, lag_s=0.010, name="open-late")  # and a drop a second
    write_generator(late, second_rows(10, dropped=lambda k: 1))
    yield late
    yield write_run(root / "open-bare", spike_rows(7), spike_phases(), **OPEN)


def test_every_warning_is_a_sentence_to_act_on(tmp_path):
    seen = set()
    for run_dir in _troubled_runs(tmp_path):
        for warning in analyse_run(run_dir).report["warnings"]:
            seen.add(warning["code"])
            message = warning["message"]
            assert message[0].isupper() or message[0].isdigit(), message
            assert message.endswith("."), message
            assert "\n" not in message and "  " not in message, message
    assert seen == EVERY_CODE


def test_partial_run_from_run_json(tmp_path):
    report = report_of(
        tmp_path,
        spike_rows(7),
        spike_phases(),
        partial=True,
        partial_reason="interrupted by SIGINT.",
    )
    assert report["partial"] is True
    assert report["partial_reason"] == "interrupted by SIGINT."
    assert report["warnings"][0] == {
        "code": "partial",
        "message": (
            "The run is partial: interrupted by SIGINT. Its figures and verdict cover only the "
            "part that ran; run it again to completion for a full verdict."
        ),
    }


def test_failures_warning_lists_top_errors(tmp_path):
    report = report_of(tmp_path, spike_rows(7), spike_phases())
    assert report["errors"] == [
        {"endpoint": HEALTH, "message": "HTTPError('503 Server Error')", "count": 60}
    ]
    message = {w["code"]: w["message"] for w in report["warnings"]}["failures"]
    assert message.startswith("60 of 1,500 requests failed (4.00 %). Top errors: ")
    assert "HTTPError('503 Server Error') (x60)." in message


def test_few_samples_behind_p99(tmp_path):
    rows = block(START, 10, 5, lambda s, j, n: 10.0, name_of=lambda s, j: HEALTH)
    rows += block(START, 10, 20, lambda s, j, n: 10.0, name_of=lambda s, j: HISTORICAL)
    rows.sort(key=lambda r: r[0])
    report = report_of(tmp_path, rows, [{"name": "sustained", "start": START, "end": START + 10}])
    message = {w["code"]: w["message"] for w in report["warnings"]}["few_samples"]
    listed = message.split(": ")[1].split(". ")[0]
    assert f"{HEALTH} (50)" in listed
    assert HISTORICAL not in listed  # 200 samples: enough


@pytest.mark.parametrize("log", [CPU_LINE, "CPU usage was too high at some point\n", ""])
def test_load_generator_cpu_warning(tmp_path, log):
    run_dir = write_run(tmp_path / "run", spike_rows(7), spike_phases())
    (run_dir / "locust.log").write_text(log)
    codes = {w["code"] for w in analyse_run(run_dir).report["warnings"]}
    assert ("load_generator_cpu" in codes) is bool(log)


def test_short_phases_are_named(tmp_path):
    rows = block(START, 3, 10, lambda s, j, n: 10.0) + block(START + 3, 3, 20, lambda s, j, n: 9.0)
    phases = [
        {"name": "normal", "start": START, "end": START + 3, "users": 10},
        {"name": "spike", "start": START + 3, "end": START + 6, "users": 50},
    ]
    message = {w["code"]: w["message"] for w in report_of(tmp_path, rows, phases)["warnings"]}
    assert "shorter than 10 s: normal (3.0 s), spike (3.0 s). " in message["short_phase"]
