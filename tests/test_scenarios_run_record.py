"""run.json: the phases the shape really ran, the format's keys, and no credentials."""

from __future__ import annotations

import json

import pytest

from reports.run_format import FORMAT_VERSION, PHASE_KEYS, PHASE_LOG, RUN_KEYS, RUN_RECORD
from scenarios import run_record
from scenarios.run_record import (
    RunRecord,
    dropped_arrivals,
    phases_from_log,
    read_phase_log,
    strip_credentials,
)

SPIKE_LOG = [
    {"time": 100.0, "event": "phase", "name": "normal", "role": "baseline", "users": 10},
    {"time": 130.5, "event": "phase", "name": "spike", "role": "spike", "users": 50},
    {"time": 161.0, "event": "phase", "name": "recovery", "role": "recovery", "users": 10},
    {"time": 161.0, "event": "watch", "recovered_after_s": None, "ends": 349.0,
     "deadline": 349.0},
    {"time": 230.0, "event": "watch", "recovered_after_s": 62, "ends": 230.0, "deadline": 349.0},
    {"time": 230.2, "event": "end"},
]  # fmt: skip


def write_log(run_dir, events, tail=""):
    (run_dir / PHASE_LOG).write_text("".join(json.dumps(e) + "\n" for e in events) + tail)


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


def test_phases_take_their_real_timestamps_and_roles_from_the_shape_log(tmp_path):
    write_log(tmp_path, SPIKE_LOG, tail='{"time": 22')  # torn by a kill
    assert read_phase_log(tmp_path) == SPIKE_LOG
    assert phases_from_log(SPIKE_LOG, ended=231.0) == [
        {"name": "normal", "role": "baseline", "start": 100.0, "end": 130.5, "users": 10},
        {"name": "spike", "role": "spike", "start": 130.5, "end": 161.0, "users": 50},
        {"name": "recovery", "role": "recovery", "start": 161.0, "end": 230.2, "users": 10},
    ]
    assert read_phase_log(tmp_path / "missing") == []


def test_the_watchs_notes_do_not_end_the_recovery_phase():
    """The recovery phase ends where the shape ended it, after the watch's notes."""
    interrupted = SPIKE_LOG[:4]  # killed while the watch was still waiting
    assert phases_from_log(interrupted, ended=200.0)[-1] == {
        "name": "recovery", "role": "recovery", "start": 161.0, "end": 200.0, "users": 10
    }  # fmt: skip
    assert phases_from_log(SPIKE_LOG, ended=240.0)[-1]["end"] == 230.2


def test_run_json_has_the_formats_keys_version_and_recovery_limits(tmp_path, monkeypatch):
    monkeypatch.setattr(run_record, "versions", lambda: {"kit": "test"})  # no `uname -p`
    write_log(tmp_path, SPIKE_LOG)
    limits = {"healthy_s": 3.0, "degraded_s": 18.0, "tolerance_pct": 10.0, "tolerance_ms": 5.0}
    record = RunRecord(
        scenario="spike",
        host="http://user:pw@127.0.0.1:8000",
        started=99.0,
        time_scale=0.1,
        users=10,
        processes=0,
        think_time="default",
        ended=231.0,
        recovery=limits,
    )
    record.write(tmp_path)
    document = json.loads((tmp_path / RUN_RECORD).read_text())
    assert tuple(document) == RUN_KEYS
    assert document["format_version"] == FORMAT_VERSION
    assert document["recovery"] == limits
    assert document["host"] == "http://127.0.0.1:8000"
    assert all(tuple(phase) == PHASE_KEYS for phase in document["phases"])
    assert [p["role"] for p in document["phases"]] == ["baseline", "spike", "recovery"]


def test_dropped_arrivals_are_summed_over_every_process_and_a_torn_line_is_skipped(tmp_path):
    header = "timestamp,intended,sent,dropped,lag_p50_ms,lag_p99_ms,in_flight,cpu_pct\n"
    (tmp_path / "generator.csv").write_text(header + "1.0,10,7,3,,,,5\n2.0,10,10,0,,,,5\n")
    (tmp_path / "generator-11.csv").write_text(header + "1.0,10,6,4,,,,5\n2.0,10,8,")
    (tmp_path / "generator-12.csv").write_text(header + "1.0,,,,,,,40\n")  # closed: CPU only
    assert dropped_arrivals(tmp_path) == 7
    assert dropped_arrivals(tmp_path / "nothing") == 0
