"""Open-model runs: latency from the intended start, drops, a generator that fell behind, and
what a closed run may hide; with every figure derived by hand from the synthetic logs."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from perf_lib.thresholds import Thresholds
from reports import analyse_run, build_report, render_terminal
from reports.closed_model import RATE_FALL_SHARE
from reports.comparison import compare_reports
from reports.generator import CPU_LIMIT_PCT, LAG_LIMIT_MS
from reports.html import render_report
from reports.junit import render_junit
from reports.markdown import render_summary
from reports.open_model import FROM_INTENDED, FROM_SEND, FROM_SEND_OPEN, correct_latency
from reports.run_format import GENERATOR_COLUMNS, names
from tests.examples import examples
from tests.reports_helpers import HEALTH, HISTORICAL, START, requests_frame, write_run
from tests.test_reports_render_text import banner, phase_row, text_of

CPU_LINE = "[2025-01-01 00:00:00,000] host/WARNING/root: CPU usage above 90%!\n"
OPEN = {"model": "open", "rate": 100.0, "max_in_flight": 100, "arrivals": "uniform"}


def open_frame(intended, sent, rt_ms=5.0, name=HISTORICAL) -> pd.DataFrame:
    """One request per intended start, sent at ``sent``, each taking ``rt_ms`` from its send."""
    frame = requests_frame((float(s), name, float(rt_ms), True) for s in sent)
    frame["intended_start"] = intended
    return frame


def write_generator(run_dir: Path, rows: list[dict], name: str = "generator.csv") -> None:
    """generator.csv: one row per second; missing cells stay empty, as a closed run leaves them."""
    pd.DataFrame(rows, columns=list(names(GENERATOR_COLUMNS))).to_csv(run_dir / name, index=False)


def second_rows(seconds: int, *, dropped=lambda k: 0, cpu=lambda k: 40.0) -> list[dict]:
    """A generator row for each of ``seconds`` seconds from START: its end, drops and CPU."""
    return [
        {
            "timestamp": START + k + 1,
            "intended": 10,
            "sent": 10 - dropped(k),
            "dropped": dropped(k),
            "lag_p50_ms": 0.2,
            "lag_p99_ms": 0.9,
            "in_flight": 1,
            "cpu_pct": cpu(k),
        }
        for k in range(seconds)
    ]


def steady(tmp_path, *, lag_s=0.0, name="run", rt_ms=5.0, **meta) -> Path:
    """A 10 s open run at 100 req/s, every request sent ``lag_s`` after its intended start."""
    intended = START + np.arange(1000) * 0.01
    phases = [{"name": "sustained", "start": START, "end": START + 10, "users": 10, "rate": 100}]
    return write_run(
        tmp_path / name,
        open_frame(intended, intended + lag_s, rt_ms),
        phases,
        scenario="sustained",
        locust=False,
        **{**OPEN, **meta},
    )


# Latency from the intended start: a stall the closed model would not see


def stall_run(tmp_path, **meta) -> Path:
    """1000 requests due every 10 ms, each answered in 5 ms from its send; the 100 due in
    [5.00, 5.99] s leave together at 6.00 s, so request k of them waits 1000 - 10 k ms."""
    intended = START + np.arange(1000) * 0.01
    sent = intended.copy()
    sent[500:600] = START + 6.0
    phases = [{"name": "sustained", "start": START, "end": START + 10, "users": 10, "rate": 100}]
    frame = open_frame(intended, sent)
    return write_run(tmp_path / "stall", frame, phases, scenario="sustained", locust=False, **meta)


def test_latency_is_measured_from_the_intended_start(tmp_path):
    report = analyse_run(stall_run(tmp_path, **OPEN), Thresholds()).report
    # Corrected: 900 times of 5 ms, then 15, 25, ..., 1005 ms. p99 at rank 989.01 of the sorted
    # 1000: 905 + 0.01 * 10; p95 at rank 949.05: 505 + 0.05 * 10; mean (4500 + 51000) / 1000.
    corrected = np.r_[np.full(900, 5.0), 15.0 + 10 * np.arange(100)]
    assert np.percentile(corrected, [50, 95, 99]).tolist() == pytest.approx([5.0, 505.5, 905.1])
    totals = report["totals"]
    assert (totals["p50_ms"], totals["p95_ms"], totals["avg_ms"]) == pytest.approx(
        (5.0, 505.5, 55.5), abs=1e-3
    )
    assert totals["p99_ms"] == pytest.approx(905.1, abs=1e-3)
    assert totals["uncorrected"] == pytest.approx(
        {"p50_ms": 5.0, "p95_ms": 5.0, "p99_ms": 5.0, "p99_ratio": 181.02}, abs=1e-3
    )
    (endpoint,) = report["endpoints"]
    (phase,) = report["phases"]
    for entry in (endpoint, phase, phase["endpoints"][0]):
        assert entry["p99_ms"] == pytest.approx(905.1, abs=1e-3)
        assert entry["uncorrected"]["p99_ms"] == 5.0
        assert entry["uncorrected"]["p99_ratio"] == pytest.approx(181.02, abs=1e-3)
    # p95 505.5 ms is above the 500 ms critical limit, p99 905.1 above 800 ms
    assert endpoint["checks"]["p95_ms"] == endpoint["checks"]["p99_ms"] == "critical"
    assert report["verdict"] == "critical"
    assert report["model"] == "open" and report["latency_measured_from"] == FROM_INTENDED
    # the send lag itself: 900 zeros, then 10, 20, ..., 1000 ms: p99 900 + 0.01 * 10
    assert report["generator"]["lag_p99_ms"] == pytest.approx(900.1, abs=1e-3)
    assert report["generator"]["limited"] is True


def test_degradation_and_recovery_use_the_corrected_latency(tmp_path):
    """normal, spike and recovery of 10 s at 10, 20 and 10 req/s, every reply in 5 ms; the
    spike's requests and those due in the first 4 s of recovery leave 50 ms late (55 ms)."""
    due = np.r_[
        START + np.arange(100) * 0.1,
        START + 10 + np.arange(200) * 0.05,
        START + 20 + np.arange(100) * 0.1,
    ]
    late = (due >= START + 10) & (due < START + 24)
    phases = [
        {"name": name, "start": START + 10 * i, "end": START + 10 * (i + 1), "rate": rate}
        for i, (name, rate) in enumerate([("normal", 10), ("spike", 20), ("recovery", 10)])
    ]
    frame = open_frame(due, due + np.where(late, 0.05, 0.0))
    open_run = write_run(tmp_path / "open", frame, phases, locust=False, **OPEN)
    report = analyse_run(open_run, Thresholds()).report
    assert report["degradation"]["spike_p95_ms"] == pytest.approx(55.0, abs=1e-3)
    assert report["degradation_pct"] == pytest.approx(1000.0, abs=1e-3)  # 55 / 5 - 1
    # back to normal once no window [k, k + 3) holds a late request: k = 4
    assert report["recovery_seconds"] == 4
    closed = analyse_run(write_run(tmp_path / "closed", frame, phases, locust=False)).report
    assert closed["degradation_pct"] == 0.0 and closed["recovery_seconds"] == 0


def test_the_same_log_read_as_closed_hides_the_stall(tmp_path):
    report = analyse_run(stall_run(tmp_path), Thresholds()).report
    assert report["model"] == "closed" and report["latency_measured_from"] == FROM_SEND
    assert report["totals"]["p99_ms"] == 5.0 and report["verdict"] == "healthy"
    assert report["totals"]["uncorrected"] is None
    assert report["endpoints"][0]["uncorrected"] is None
    assert report["phases"][0]["uncorrected"] is None
    assert report["generator"]["lag_p99_ms"] is None


@settings(max_examples=examples(60), deadline=None)
@given(
    st.lists(
        st.tuples(
            st.floats(0, 3600),  # seconds into the run at which the request was due
            st.one_of(st.none(), st.floats(-0.05, 10)),  # its send lag in s; None: not logged
            st.floats(0, 60_000),  # the measured response time in ms
        ),
        min_size=1,
        max_size=50,
    )
)
def test_the_correction_adds_the_lag_and_never_subtracts(requests):
    due = np.array([START + d for d, _, _ in requests])
    lag = np.array([np.nan if g is None else g for _, g, _ in requests])
    measured = np.array([rt for _, _, rt in requests])
    frame = pd.DataFrame(
        {
            "timestamp": due + np.nan_to_num(lag),
            "intended_start": np.where(np.isnan(lag), np.nan, due),
        }
    ).assign(response_time_ms=measured)
    corrected = correct_latency(frame)
    if np.isnan(lag).all():
        assert corrected is frame  # nothing to correct: the frame as it was read
        return
    assert corrected["uncorrected_ms"].tolist() == measured.tolist()
    expected = measured + np.maximum(np.nan_to_num(lag) * 1000, 0)
    np.testing.assert_allclose(corrected["response_time_ms"], expected, atol=1e-3)
    assert (corrected["response_time_ms"] >= corrected["uncorrected_ms"]).all()


def test_rows_without_an_intended_start_keep_their_own_time(tmp_path):
    intended = START + np.arange(200) * 0.05
    frame = open_frame(intended, intended + 0.1)  # 100 ms late: 105 ms from the intended start
    frame.loc[frame.index % 2 == 1, "intended_start"] = np.nan
    run_dir = write_run(tmp_path / "run", frame, locust=False, scenario="sustained", **OPEN)
    report = analyse_run(run_dir, Thresholds()).report
    assert report["totals"]["p50_ms"] == pytest.approx(55.0, abs=1e-3)  # half 5, half 105
    assert report["totals"]["uncorrected"]["p50_ms"] == 5.0


def test_open_run_without_intended_start_says_it_is_uncorrected(tmp_path):
    frame = open_frame(np.nan, START + np.arange(200) * 0.05)
    run_dir = write_run(tmp_path / "run", frame, locust=False, scenario="sustained", **OPEN)
    report = analyse_run(run_dir, Thresholds()).report
    assert report["latency_measured_from"] == FROM_SEND_OPEN
    assert report["totals"]["uncorrected"] is None and report["generator"]["lag_p99_ms"] is None
    codes = [w["code"] for w in report["warnings"]]
    assert "latency_uncorrected" in codes and "no_generator_log" in codes
    assert report["phases"][0]["dropped"] is None  # unknown, not zero


# Drops are never silent


def two_phase_run(tmp_path, generator_files=("generator.csv",)) -> Path:
    """warm: 10 s at 10 req/s offered 10; peak: 10 s at 20 req/s offered 50, 3 dropped a second."""
    intended = np.r_[START + np.arange(100) * 0.1, START + 10 + np.arange(200) * 0.05]
    phases = [
        {"name": "warm", "start": START, "end": START + 10, "users": 10, "rate": 10},
        {"name": "peak", "start": START + 10, "end": START + 20, "users": 10, "rate": 50},
    ]
    run_dir = write_run(
        tmp_path / "drops",
        open_frame(intended, intended),
        phases,
        scenario="sustained",
        locust=False,
        **{**OPEN, "rate": 10.0},
    )
    rows = second_rows(20, dropped=lambda k: 3 if k >= 10 else 0)
    for i, name in enumerate(generator_files):  # workers share the seconds between them
        write_generator(run_dir, rows[i :: len(generator_files)], name)
    return run_dir


def test_drops_are_counted_per_phase(tmp_path):
    report = analyse_run(two_phase_run(tmp_path), Thresholds()).report
    warm, peak = report["phases"]
    assert (warm["dropped"], peak["dropped"]) == (0, 30)
    assert (warm["offered_rps"], peak["offered_rps"]) == (10.0, 50.0)
    assert (warm["achieved_rps"], peak["achieved_rps"]) == (10.0, 20.0)
    assert report["generator"]["dropped"] == 30 and report["generator"]["limited"] is False
    message = {w["code"]: w["message"] for w in report["warnings"]}["dropped"]
    assert message.startswith(
        "30 arrivals were dropped because the in-flight limit (100 requests) was reached: "
        "30 in phase peak. "
    )


def test_drops_count_against_the_error_rate_limits(tmp_path):
    """30 of the peak's 230 arrivals were dropped: 13.04 %, past the 5 % critical error rate,
    although every request that was sent succeeded fast."""
    report = analyse_run(two_phase_run(tmp_path), Thresholds()).report
    warm, peak = report["phases"]
    assert warm["dropped_pct"] == 0.0 and warm["verdict"] == "healthy"
    assert peak["dropped_pct"] == pytest.approx(100 * 30 / 230, abs=0.01)
    assert peak["error_rate_pct"] == 0.0 and {e["verdict"] for e in peak["endpoints"]} == {
        "healthy"
    }
    assert peak["verdict"] == report["verdict"] == "critical"
    assert peak["verdict_from"] == {"endpoint": None, "metric": "dropped_pct", "value": 13.043}
    peak_line = next(x for x in render_terminal(report).splitlines() if x.startswith("phase peak"))
    assert peak_line.endswith("CRITICAL  arrivals dropped 13.04 %")
    assert "Phase peak is critical, set by arrivals dropped 13.04 %." in render_summary(report)


@pytest.mark.parametrize(
    ("thresholds", "verdict"),
    [
        ({"error_rate_pct": {"healthy": 20, "degraded": 30}}, "healthy"),
        ({"error_rate_pct": {"healthy": 10, "degraded": 30}}, "degraded"),
    ],
)
def test_drops_are_judged_by_the_configured_error_rate_limits(tmp_path, thresholds, verdict):
    limits = Thresholds.from_dict({"default": thresholds})
    report = analyse_run(two_phase_run(tmp_path), limits).report
    assert report["phases"][1]["verdict"] == verdict


def test_an_endpoint_further_past_its_limit_than_the_drops_names_the_verdict(tmp_path):
    """Both critical: the p95 at 10x its critical limit outweighs 13 % drops at 2.6x."""
    thresholds = Thresholds.from_dict({"default": {"p95_ms": {"healthy": 0.2, "degraded": 0.5}}})
    peak = analyse_run(two_phase_run(tmp_path), thresholds).report["phases"][1]
    assert peak["verdict"] == "critical"
    assert peak["verdict_from"]["metric"] == "p95_ms"


def test_distributed_generator_logs_are_summed(tmp_path):
    run_dir = two_phase_run(tmp_path, ("generator-101.csv", "generator-102.csv"))
    report = analyse_run(run_dir, Thresholds()).report
    assert [p["dropped"] for p in report["phases"]] == [0, 30]


def test_drops_show_in_every_output(tmp_path):
    report = analyse_run(two_phase_run(tmp_path), Thresholds()).report
    terminal = render_terminal(report).splitlines()
    assert terminal[0].endswith(
        "open model at 10.0 req/s (uniform arrivals, at most 100 in flight), "
        "30 arrivals dropped (peak: 30), generator kept up"
    )
    header = terminal[terminal.index("") + 1].split()
    assert header[:5] == ["users", "requests", "offered/s", "achieved/s", "dropped"]
    assert terminal[terminal.index("") + 3].split()[:9] == [
        "phase", "peak", "10", "200", "50.0", "20.0", "30", "(13.04", "%)",
    ]  # fmt: skip
    assert any(line.startswith("warning: 30 arrivals were dropped") for line in terminal)

    summary = render_summary(report)
    assert "Open model at 10.0 req/s" in summary.splitlines()[2]
    peak = "| peak | 10 | 200 | 50.0 | 20.0 | 30 (13.04 %) | 5.0 | 5.0 | 5.0 | 5.0 | 0.00 |"
    assert peak in summary
    assert "- ⚠️ 30 arrivals were dropped" in summary

    html = render_report(report, {})
    assert "30 arrivals dropped (peak: 30)" in text_of(banner(html))
    row = phase_row(html, "peak")
    assert re.search(r'<td class="lv-degraded">30 \(13.04 %\)</td>', row)
    assert "<th>Offered/s</th><th>Achieved/s</th><th>Dropped</th>" in html


def test_a_closed_run_shows_no_drop_columns(tmp_path):
    report = analyse_run(stall_run(tmp_path), Thresholds()).report
    assert report["phases"][0]["dropped"] is None and report["phases"][0]["offered_rps"] is None
    assert "dropped" not in render_terminal(report).splitlines()[2]
    assert "<th>Dropped</th>" not in render_report(report, {})


# A generator that did not keep up is flagged everywhere


@pytest.mark.parametrize(
    ("kind", "sign"),
    [
        ("lag", "requests left 10.0 ms after their intended start at p99, above the 5 ms limit"),
        ("cpu", "a Locust process used 95 % of a core in a second of generator.csv, at or above"),
        ("locust", "Locust warned of its CPU usage in locust.log"),
    ],
)
def test_a_generator_that_fell_behind_is_flagged(tmp_path, kind, sign):
    run_dir = steady(tmp_path, lag_s=0.010 if kind == "lag" else 0.0)
    write_generator(
        run_dir, second_rows(10, cpu=lambda k: 95.0 if kind == "cpu" and k == 4 else 40)
    )
    if kind == "locust":
        (run_dir / "locust.log").write_text(CPU_LINE)
    report = build_report(run_dir, Thresholds(), fail_on="critical").report
    assert report["verdict"] == "healthy" and report["exit_code"] == 0
    generator = report["generator"]
    assert generator["limited"] is True
    assert len(generator["why"]) == 1 and generator["why"][0].startswith(sign)
    assert generator["cpu_max_pct"] == (95.0 if kind == "cpu" else 40.0)
    expected_warning = "load_generator_cpu" if kind == "locust" else "generator_limited"
    assert expected_warning in {w["code"] for w in report["warnings"]}

    head = render_terminal(report).splitlines()[0]
    assert head.startswith("sustained: HEALTHY — generator-limited  ·  1,000 requests")
    assert head.endswith("nothing dropped, generator-limited")
    summary = (run_dir / "summary.md").read_text().splitlines()
    assert summary[0] == "## ⚪ Load test `sustained`: **HEALTHY — generator-limited**"
    assert (
        "- The load generator did not keep up, so the figures describe the load generator as "
        f"much as the service: {sign}"
    ) in "\n".join(summary)
    html = (run_dir / "report.html").read_text()
    top = banner(html)
    assert 'class="verdict bg-limited"' in top and "bg-healthy" not in top
    assert 'data-limited="true"' in top
    assert text_of(top).startswith("HEALTHY — generator-limited The run is healthy, but")
    assert "<title>HEALTHY — generator-limited · sustained" in html
    case = ET.parse(run_dir / "junit.xml").find(
        ".//testcase[@classname='sustained.run'][@name='generator kept up']"
    )
    assert case is not None and case.find("failure").get("type") == "generator-limited"


def test_a_partial_generator_limited_run_says_both(tmp_path):
    run_dir = steady(tmp_path, lag_s=0.010, partial=True, partial_reason="interrupted by SIGINT")
    report = analyse_run(run_dir).report
    head = "sustained: PARTIAL (HEALTHY so far) — generator-limited  ·  "
    assert render_terminal(report).startswith(head)
    summary = render_summary(report).splitlines()
    assert summary[0] == "## ⚪ Load test `sustained`: **PARTIAL**"
    assert summary[2].startswith("Verdict so far: **HEALTHY — generator-limited**. ")
    top = banner(render_report(report, {}))
    assert 'class="verdict bg-partial"' in top and 'data-limited="true"' in top
    suite = ET.fromstring(render_junit(report, "critical")).find("testsuite")
    failed = [c.get("name") for c in suite.iter("testcase") if c.find("failure") is not None]
    assert failed == ["complete", "generator kept up"]


def test_a_generator_limited_run_is_only_skipped_when_nothing_fails(tmp_path):
    run_dir = steady(tmp_path, lag_s=0.010)
    write_generator(run_dir, second_rows(10))
    report = analyse_run(run_dir, Thresholds()).report
    suite = ET.fromstring(render_junit(report, "never")).find("testsuite")
    assert (suite.get("failures"), suite.get("skipped")) == ("0", "1")
    props = {p.get("name"): p.get("value") for p in suite.iter("property")}
    assert props["generator_limited"] == "true" and props["model"] == "open"


def test_a_generator_that_kept_up_is_not_flagged(tmp_path):
    run_dir = steady(tmp_path, lag_s=0.001)
    write_generator(run_dir, second_rows(10, cpu=lambda k: 89.9))
    (run_dir / "locust.log").write_text("All users spawned\n")
    report = analyse_run(run_dir, Thresholds()).report
    assert report["generator"]["limited"] is False and report["generator"]["why"] == []
    assert report["generator"]["lag_p99_ms"] == pytest.approx(1.0, abs=1e-3)
    assert report["totals"]["p99_ms"] == pytest.approx(6.0, abs=1e-3)
    assert not {"generator_limited", "load_generator_cpu"} & {w["code"] for w in report["warnings"]}
    assert render_terminal(report).startswith("sustained: HEALTHY  ·  ")
    assert render_terminal(report).splitlines()[0].endswith("nothing dropped, generator kept up")
    assert render_summary(report).startswith("## 🟢 Load test `sustained`: **HEALTHY**\n")
    assert 'class="verdict bg-healthy"' in banner(render_report(report, {}))
    suite = ET.fromstring(render_junit(report, "critical")).find("testsuite")
    case = suite.find("testcase[@name='generator kept up']")
    assert case.find("failure") is None
    assert case.find("system-out").text == (
        "send lag p99 1.0 ms, CPU max 89.9 %, 0 arrivals dropped"
    )


def test_limits_sit_where_their_constants_say(tmp_path):
    at_lag = steady(tmp_path, lag_s=LAG_LIMIT_MS / 1000, name="lag")
    write_generator(at_lag, second_rows(10))
    assert analyse_run(at_lag).report["generator"]["limited"] is False  # above, not at, 5 ms
    at_cpu = steady(tmp_path, name="cpu")
    write_generator(at_cpu, second_rows(10, cpu=lambda k: CPU_LIMIT_PCT))
    assert analyse_run(at_cpu).report["generator"]["limited"] is True  # 90 % reached


def test_a_closed_run_is_judged_by_its_cpu_too(tmp_path):
    run_dir = stall_run(tmp_path)
    write_generator(run_dir, [{"timestamp": START + 1, "cpu_pct": 97.0}])
    report = analyse_run(run_dir).report
    assert report["generator"]["limited"] is True and report["generator"]["dropped"] is None
    assert render_terminal(report).startswith("sustained: HEALTHY — generator-limited")


# What a closed run may hide


def closed_run(tmp_path, spike_users: int, spike_ms: float, **meta) -> dict:
    """normal: 10 users send 20 req/s at 10 ms; spike: ``spike_users`` send 20 req/s."""
    rows = [(START + i / 20, HISTORICAL, 10.0, True) for i in range(200)]
    rows += [(START + 10 + i / 20, HEALTH, spike_ms, True) for i in range(200)]
    phases = [
        {"name": "normal", "start": START, "end": START + 10, "users": 10},
        {"name": "spike", "start": START + 10, "end": START + 20, "users": spike_users},
    ]
    return analyse_run(write_run(tmp_path / "closed", rows, phases, locust=False, **meta)).report


def test_closed_model_warning_when_users_were_held_back(tmp_path):
    report = closed_run(tmp_path, spike_users=20, spike_ms=30.0)  # 2 -> 1 req/s per user
    message = {w["code"]: w["message"] for w in report["warnings"]}["closed_model"]
    assert (
        "in phase spike each user sent 1.00 req/s against 2.00 in phase normal (-50 %) while "
        "p95 rose 10.0 → 30.0 ms" in message
    )
    assert "--model open" in message


@pytest.mark.parametrize(
    ("users", "ms", "meta"),
    [
        (10, 30.0, {}),  # the rate per user held
        (20, 10.0, {}),  # it fell, but the latency did not rise
        (20, 30.0, OPEN),  # an open run holds no user back
    ],
)
def test_no_closed_model_warning_otherwise(tmp_path, users, ms, meta):
    report = closed_run(tmp_path, spike_users=users, spike_ms=ms, **meta)
    assert "closed_model" not in {w["code"] for w in report["warnings"]}


def test_the_fall_must_pass_the_share(tmp_path):
    users = int(10 / (1 - RATE_FALL_SHARE))  # 14 users: a 28.6 % fall, within the share
    report = closed_run(tmp_path, spike_users=users, spike_ms=30.0)
    assert "closed_model" not in {w["code"] for w in report["warnings"]}


def test_a_phase_rate_that_is_no_rate_is_refused(tmp_path):
    run_dir = steady(tmp_path)
    document = json.loads((run_dir / "run.json").read_text())
    document["phases"][0]["rate"] = "fast"
    (run_dir / "run.json").write_text(json.dumps(document))
    report = analyse_run(run_dir).report
    message = {w["code"]: w["message"] for w in report["warnings"]}["no_run_json"]
    assert "run.json phase 'sustained' has an impossible rate ('fast')" in message


# Runs from before the open model


def test_closed_generator_log_and_empty_intended_start_change_no_figure(tmp_path):
    old = stall_run(tmp_path / "old")  # a log from before intended_start, without run.json model
    frame = pd.read_csv(old / "requests.csv").drop(columns="intended_start")
    frame.to_csv(old / "requests.csv", index=False)
    plain = analyse_run(old).report
    run_dir = stall_run(tmp_path / "new")  # a closed run of today: the column empty, cpu logged
    frame["intended_start"] = np.nan
    frame.to_csv(run_dir / "requests.csv", index=False)
    write_generator(run_dir, [{"timestamp": START + k, "cpu_pct": 30.0} for k in range(1, 11)])
    again = analyse_run(run_dir).report
    for key in ("totals", "endpoints", "phases", "verdict", "warnings", "model"):
        assert again[key] == plain[key]
    assert plain["totals"]["p99_ms"] == 5.0 and plain["model"] == "closed"
    assert plain["generator"] == {
        "lag_p99_ms": None,
        "limited": False,
        "cpu_max_pct": None,
        "why": [],
        "checked": [],
        "dropped": None,
        "lag_limit_ms": LAG_LIMIT_MS,
        "cpu_limit_pct": CPU_LIMIT_PCT,
    }
    assert again["generator"]["cpu_max_pct"] == 30.0


def test_compare_old_and_new_reports(tmp_path):
    new = analyse_run(stall_run(tmp_path, **OPEN)).report
    old = analyse_run(stall_run(tmp_path / "old")).report
    for key in ("model", "latency_measured_from", "generator"):
        old.pop(key)
    for row in [old["totals"], *old["endpoints"], *old["phases"]]:
        for key in ("uncorrected", "offered_rps", "achieved_rps", "dropped"):
            row.pop(key, None)
    comparison = compare_reports(old, new)
    assert comparison["regressed"] is True  # p95 5 -> 505.5 ms
    assert any(
        note.startswith("different load models: closed (base) vs open")
        for note in comparison["notes"]
    )
    assert any("the new run's load generator did not keep up" in n for n in comparison["notes"])
    assert compare_reports(old, old)["notes"] == []
