"""A capacity search's run: its answer, verdict and steps in every output, and the knee chart.

The runner judged each step live and wrote run.json's ``capacity`` block; the report takes the
block as it is, so these run directories pair a small request log with a hand-written block.
"""

from __future__ import annotations

import copy
import json
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest

from perf_lib.thresholds import Thresholds
from reports import analyse_run, build_report, render_terminal
from reports.capacity import read_capacity
from reports.charts import capacity_chart
from reports.explain import reasons
from reports.html import render_report
from reports.junit import render_junit
from reports.markdown import render_summary
from tests.reports_helpers import HEALTH, HISTORICAL, START, requests_frame, write_run

STEP_S = 8.0
#: (offered rate, held, response time ms, achieved rate, p99 ms) per step: two held, one failed.
STEPS = (
    (10.0, True, 5.0, 10.0, 6.0),
    (20.0, True, 5.0, 20.0, 7.0),
    (40.0, False, 600.0, 38.5, 700.0),
)
OPEN = {"model": "open", "rate": 10.0, "max_in_flight": 1000, "arrivals": "uniform"}
SERVICE = (
    "capacity: 20 req/s healthy (p95 5.0 ms) · breaks at 40 req/s: p95 600 ms on "
    "/api/v1/historical · limited by: the service"
)


def step(i: int, rate: float, held: bool, ms: float, achieved: float, p99: float) -> dict:
    start = START + i * STEP_S
    return {
        "rate": rate,
        "repetition": 1,
        "held": held,
        "outcome": "held" if held else "failed",
        "level": "healthy" if held else "critical",
        "dropped": 0 if held else 12,
        "generator_limited": False,
        "achieved_rps": achieved,
        "p50_ms": ms,
        "p95_ms": ms,
        "p99_ms": p99,
        "endpoints": {
            HISTORICAL: {
                "level": "healthy" if held else "critical",
                "metric": None if held else "p95_ms",
                "value": None if held else ms,
            }
        },
        "phase": f"step {i + 1}",
        "start": start,
        "end": start + STEP_S,
        "steady_from": start + 2.0,
    }


def block(min_capacity: float | None = None, **changes) -> dict:
    """The block of a search that held 20 req/s and broke at 40 on /api/v1/historical's p95."""
    document = {
        "settings": {
            "start_rate": 10.0,
            "max_rate": 1000.0,
            "factor": 2.0,
            "precision": 0.05,
            "step_s": STEP_S,
            "warmup_s": 2.0,
            "confirmations": 1,
            "min_capacity": min_capacity,
        },
        "healthy_rps": 20.0,
        "failing_rps": 40.0,
        "limited_by": "service",
        "complete": True,
        "first_to_break": [
            {
                "endpoint": HISTORICAL,
                "rate": 40.0,
                "metric": "p95_ms",
                "value": 600.0,
                "level": "critical",
            }
        ],
        "steps": [step(i, *s) for i, s in enumerate(STEPS)],
    }
    document.update(changes)
    return document


def capacity_run(
    run_dir: Path, capacity: object = None, scenario: str = "capacity", **meta
) -> Path:
    """Three 8 s steps at 10, 20 and 40 req/s; the last one's replies take 600 ms."""
    rows, phases = [], []
    for i, (rate, _, ms, _, _) in enumerate(STEPS):
        start = START + i * STEP_S
        for k in range(int(rate * STEP_S)):
            rows.append((start + k / rate, HISTORICAL if k % 2 else HEALTH, ms, True))
        end = start + STEP_S
        phases.append(
            {"name": f"step {i + 1}", "role": "steady", "start": start, "end": end, "rate": rate}
        )
    frame = requests_frame(rows)
    frame["intended_start"] = frame["timestamp"]
    extra = {} if capacity is None else {"capacity": capacity}
    return write_run(
        run_dir,
        frame,
        phases,
        scenario=scenario,
        locust=False,
        **{**OPEN, **extra, **meta},
    )


def answer_of(document: dict, partial: bool = False) -> str:
    reading = read_capacity({"capacity": document}, "capacity", partial)
    assert reading.block is not None, reading.warnings
    return reading.block["answer"]


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    run_dir = capacity_run(tmp_path_factory.mktemp("capacity") / "run", block())
    return build_report(run_dir, Thresholds())


@pytest.fixture
def report(built):
    return copy.deepcopy(built.report)


# report.json


def test_the_report_json_block(built):
    document = json.loads((built.run_dir / "report.json").read_text())
    capacity = document["capacity"]
    assert set(capacity) == {
        "method",
        "settings",
        "min_capacity",
        "meets_minimum",
        "healthy_rps",
        "failing_rps",
        "limited_by",
        "complete",
        "first_to_break",
        "steps",
        "verdict",
        "verdict_reason",
        "answer",
    }
    assert capacity["settings"] == block()["settings"]
    assert capacity["steps"] == block()["steps"]  # as the runner recorded them: not re-judged
    assert capacity["first_to_break"] == block()["first_to_break"]
    assert (capacity["healthy_rps"], capacity["failing_rps"]) == (20.0, 40.0)
    assert (capacity["limited_by"], capacity["complete"]) == ("service", True)
    assert capacity["min_capacity"] is None and capacity["meets_minimum"] is None
    assert capacity["answer"] == SERVICE
    assert "judged live on each step's steady part, from the intended start" in (capacity["method"])
    assert capacity["method"].startswith(
        "An open-model arrival rate stepped up from 10 req/s by ×2 a step up to 1,000 req/s, "
        "then bisected between the last rate held and the first that failed to within 5 %; "
        "each step lasted 8 s, its first 2 s left out as warm-up;"
    )


def test_the_steps_keep_their_own_verdicts_but_the_run_has_the_capacity(built):
    report = built.report
    assert [p["verdict"] for p in report["phases"]] == ["healthy", "healthy", "critical"]
    assert report["verdict"] == "healthy" and report["exit_code"] == 0
    lines = reasons(report)
    assert lines[0] == SERVICE[0].upper() + SERVICE[1:] + "."
    assert lines[1].startswith(
        "The verdict comes from the capacity: the search completed and no minimum was asked for"
    )
    assert not any(line.startswith(("Phase step", "Endpoint")) for line in lines)


# The answer, in each case


def test_thousands_and_the_highest_held_step_p95():
    document = block(healthy_rps=1840.0, failing_rps=1930.0)
    document["steps"][1].update(rate=1840.0, p95_ms=38.4)
    document["steps"][2]["rate"] = 1930.0
    document["first_to_break"][0].update(rate=1930.0, value=212.0)
    assert answer_of(document) == (
        "capacity: 1,840 req/s healthy (p95 38 ms) · breaks at 1,930 req/s: p95 212 ms on "
        "/api/v1/historical · limited by: the service"
    )


def test_without_first_to_break_the_failing_steps_level_says_what_broke():
    assert answer_of(block(first_to_break=[])) == (
        "capacity: 20 req/s healthy (p95 5.0 ms) · breaks at 40 req/s: critical · "
        "limited by: the service"
    )


def test_the_generator_ran_out_first():
    assert answer_of(block(limited_by="generator", failing_rps=None)) == (
        "capacity ≥ 20 req/s: the load generator ran out first; add --processes or machines"
    )


def test_held_up_to_the_max_rate():
    document = block(limited_by="max_rate", healthy_rps=5000.0, failing_rps=None)
    assert answer_of(document) == (
        "capacity ≥ 5,000 req/s: held up to --max-rate, the highest rate asked for"
    )


def test_nothing_held():
    document = block(healthy_rps=None, failing_rps=10.0)
    for s in document["steps"]:
        s.update(held=False, outcome="failed", level="critical")
    document["first_to_break"] = [
        {
            "endpoint": None,
            "rate": 10.0,
            "metric": "dropped_pct",
            "value": 12.5,
            "level": "critical",
        }
    ]
    assert answer_of(document) == (
        "capacity below 10 req/s: even the lowest rate tried failed (dropped 12.50 %)"
    )


def test_an_interrupted_search_is_a_lower_bound():
    document = block(complete=False, limited_by=None)
    assert answer_of(document, partial=True) == (
        "search interrupted · capacity ≥ 20 req/s healthy so far (p95 5.0 ms): a lower bound, "
        "not the answer · failed at 40 req/s: p95 600 ms on /api/v1/historical"
    )
    assert answer_of(block(complete=False, limited_by=None, steps=[]), partial=True) == (
        "search interrupted · capacity unknown: no step was judged"
    )


# Verdict and exit code


@pytest.mark.parametrize(
    ("minimum", "meets", "verdict", "code"),
    [(None, None, "healthy", 0), (15.0, True, "healthy", 0), (30.0, False, "critical", 1)],
)
def test_verdict_and_exit_code_follow_the_minimum(tmp_path, minimum, meets, verdict, code):
    built = build_report(capacity_run(tmp_path / "run", block(minimum)), Thresholds())
    capacity = built.report["capacity"]
    assert (capacity["min_capacity"], capacity["meets_minimum"]) == (minimum, meets)
    assert (built.report["verdict"], built.exit_code) == (verdict, code)
    if meets is False:
        assert capacity["verdict_reason"] == (
            "the capacity is below the minimum of 30 req/s asked for (--min-capacity)"
        )
        assert build_report(built.run_dir, Thresholds(), fail_on="never").exit_code == 0


def test_nothing_held_with_a_minimum_is_critical():
    document = block(5.0, healthy_rps=None, failing_rps=10.0)
    reading = read_capacity({"capacity": document}, "capacity", False)
    assert reading.block["meets_minimum"] is False and reading.block["verdict"] == "critical"


def test_an_interrupted_search_is_healthy_so_far_only_when_the_run_is_partial(tmp_path):
    document = block(complete=False, limited_by=None)
    partial = analyse_run(
        capacity_run(tmp_path / "partial", document, partial=True), Thresholds()
    ).report
    assert partial["verdict"] == "healthy" and partial["partial"] is True
    assert render_terminal(partial).startswith("capacity: PARTIAL (HEALTHY so far)")
    unmarked = analyse_run(capacity_run(tmp_path / "unmarked", document), Thresholds()).report
    assert unmarked["verdict"] == "degraded"
    assert "capacity_incomplete" in {w["code"] for w in unmarked["warnings"]}


# JUnit


def suite_of(report: dict, fail_on: str = "critical") -> ET.Element:
    return ET.fromstring(render_junit(report, fail_on)).find("testsuite")


def test_junit_capacity_case_passes_whatever_the_steps_past_the_knee(report):
    suite = suite_of(report)
    assert [c.get("name") for c in suite.iter("testcase")] == ["capacity"]
    case = suite.find("testcase[@name='capacity']")
    assert case.get("classname") == "capacity.run" and case.find("failure") is None
    assert case.find("system-out").text.startswith(SERVICE + ". The verdict comes from")
    assert suite.get("failures") == "0"
    props = {p.get("name"): p.get("value") for p in suite.iter("property")}
    assert (props["capacity_rps"], props["min_capacity"]) == ("20.0", "")


def test_junit_capacity_case_fails_below_the_minimum(tmp_path):
    report = analyse_run(capacity_run(tmp_path / "run", block(30.0)), Thresholds()).report
    suite = suite_of(report)
    failure = suite.find("testcase[@name='capacity']/failure")
    assert failure is not None and failure.get("type") == "below-minimum"
    assert failure.get("message") == SERVICE and suite.get("failures") == "1"
    assert suite_of(report, "never").find("testcase[@name='capacity']/failure") is None


# Terminal, summary.md and HTML


def test_terminal_answer_and_step_table(report):
    lines = render_terminal(report).splitlines()
    assert lines[0].startswith("capacity: HEALTHY  ·  ")
    assert lines[1] == SERVICE
    table = lines.index("capacity steps (as the search judged them live on each steady part):")
    rows = [line.split() for line in lines[table + 1 : table + 5]]
    assert rows[0] == ["rate/s", "rep", "outcome", "p95", "ms", "p99", "ms", "achieved/s"] + [
        "dropped",
        "level",
    ]
    assert rows[1] == ["10", "1", "held", "5.0", "6.0", "10.0", "0", "healthy"]
    assert rows[3] == ["40", "1", "failed", "600.0", "700.0", "38.5", "12", "critical"]


def test_the_head_line_says_the_rate_stepped(report):
    head = render_terminal(report).splitlines()[0]
    assert "open model stepped by the capacity search from 10.0 req/s" in head
    assert head.endswith("generator kept up")


def test_the_head_line_says_where_the_generator_ran_out(tmp_path):
    """The whole run's lag can stay low while the fastest step's did not: the head line says
    where the search found the generator's limit, never that it kept up."""
    steps = [step(i, *s) for i, s in enumerate(STEPS)]
    steps[-1] |= {"generator_limited": True, "outcome": "unjudged", "level": "healthy"}
    document = block(limited_by="generator", failing_rps=None, steps=steps)
    result = build_report(capacity_run(tmp_path / "run", document), Thresholds())
    head = render_terminal(result.report).splitlines()[0]
    assert head.endswith("generator ran out at 40 req/s")
    assert "kept up" not in head


def test_summary_capacity_section(report):
    summary = render_summary(report)
    assert f"### Capacity\n\n**{SERVICE}**\n" in summary
    assert "| rate/s | rep | outcome | p95 ms | p99 ms | achieved/s | dropped | level |" in summary
    assert "| 10 | 1 | held | 5.0 | 6.0 | 10.0 | 0 | 🟢 healthy |" in summary
    assert "| 40 | 1 | failed | 600.0 | 700.0 | 38.5 | 12 | 🔴 critical |" in summary
    assert "- /api/v1/historical at 40 req/s: p95 600 ms (critical)" in summary
    assert summary.index("### Capacity") < summary.index("### Phases")
    assert "judged live on each step's steady part, from the intended start" in summary


def test_html_capacity_section_holds_the_knee_chart(built):
    html = (built.run_dir / "report.html").read_text()
    section = html[
        html.index('<div id="capacity"') : html.index("</div>", html.index('id="capacity"'))
    ]
    assert f"<strong>{SERVICE}</strong>" in section
    assert '<table id="capacity-steps">' in section and "<td>38.5</td>" in section
    assert "(capacity.png)" in section and "the highest rate held, 20 req/s" in section
    assert "<li>/api/v1/historical at 40 req/s: p95 600 ms (critical)</li>" in section
    assert html.index('id="capacity"') < html.index("<h2>Phases</h2>")
    charts = html[html.index("<h2>Charts</h2>") :]
    assert "(capacity.png)" not in charts and "(latency.png)" in charts


# The knee chart


def test_capacity_png_is_written_for_capacity_runs_only(built, tmp_path):
    assert built.report["charts"][0] == "capacity.png"
    assert (built.run_dir / "capacity.png").read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    other = build_report(capacity_run(tmp_path / "other", scenario="sustained"), Thresholds())
    assert "capacity.png" not in other.report["charts"]
    assert not (other.run_dir / "capacity.png").exists()


def test_the_knee_chart_draws_each_step(tmp_path):
    model = analyse_run(capacity_run(tmp_path / "run", block()), Thresholds())
    ax, twin = capacity_chart(model).axes
    assert "knee" in ax.get_title(loc="left") and ax.get_xscale() == "log"
    labels = {artist.get_label(): artist for artist in [*ax.lines, *ax.collections]}
    p95 = labels["p95"]
    assert list(p95.get_xdata()) == [10.0, 20.0, 40.0]
    assert list(p95.get_ydata()) == [5.0, 5.0, 600.0]
    assert labels["held (p95)"].get_offsets().tolist() == [[10.0, 5.0], [20.0, 5.0]]
    assert labels["failed (p95)"].get_offsets().tolist() == [[40.0, 600.0]]
    assert list(labels["capacity 20 req/s"].get_xdata()) == [20.0, 20.0]
    assert {"p95 degraded from 200 ms", "p95 critical above 500 ms"} <= set(labels)
    achieved = next(line for line in twin.lines if line.get_label() == "achieved req/s")
    np.testing.assert_allclose(achieved.get_ydata(), [10.0, 20.0, 38.5])


# A malformed block, and runs without one


@pytest.mark.parametrize(
    ("capacity", "why"),
    [
        ([1, 2], "not a JSON object"),
        ({**block(), "complete": "yes"}, "complete must be true or false"),
        ({**block(), "limited_by": "moon"}, "limited_by 'moon' is none of"),
        ({**block(), "steps": {"rate": 1}}, "steps is not a list"),
        ({**block(), "healthy_rps": -3}, "healthy_rps must be a number > 0"),
        (
            {**block(), "steps": [{**block()["steps"][0], "rate": "fast"}]},
            "steps[0].rate must be a number > 0, not 'fast'",
        ),
        (
            {**block(), "settings": {"min_capacity": True}},
            "settings.min_capacity must be a number",
        ),
    ],
)
def test_a_malformed_block_is_a_warning_not_a_crash(tmp_path, capacity, why):
    built = build_report(capacity_run(tmp_path / "run", capacity), Thresholds())
    report = built.report
    assert report["capacity"] is None
    message = {w["code"]: w["message"] for w in report["warnings"]}["capacity_unreadable"]
    assert message.startswith("run.json's capacity block cannot be read (") and why in message
    assert report["verdict"] == "critical"  # the steps', as for any run
    assert "capacity.png" not in report["charts"]
    assert "### Capacity" not in (built.run_dir / "summary.md").read_text()


def test_a_capacity_run_without_its_block_says_so(tmp_path):
    report = analyse_run(capacity_run(tmp_path / "run"), Thresholds()).report
    message = {w["code"]: w["message"] for w in report["warnings"]}["capacity_unreadable"]
    assert message.startswith("run.json has no capacity block")


def test_other_runs_have_no_capacity(tmp_path):
    built = build_report(capacity_run(tmp_path / "run", scenario="sustained"), Thresholds())
    report = built.report
    assert report["capacity"] is None
    assert json.loads((built.run_dir / "report.json").read_text())["capacity"] is None
    assert not any(w["code"].startswith("capacity") for w in report["warnings"])
    terminal = render_terminal(report)
    assert "capacity:" not in terminal and "capacity steps" not in terminal
    assert "### Capacity" not in render_summary(report)
    assert 'id="capacity"' not in render_report(report, {})
    names = [c.get("name") for c in suite_of(report).iter("testcase")]
    assert "capacity" not in names and "generator kept up" in names
