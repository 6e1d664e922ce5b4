"""What the text outputs say (HTML, Markdown, JUnit, terminal), from one report's content.

Each test takes a real report's content and sets the fields it is about, so the renderers are
checked against report.json as the analysis writes it and against older ones without a field.
"""

from __future__ import annotations

import copy
import re
import xml.etree.ElementTree as ET

import pytest

from perf_lib.thresholds import Thresholds
from reports import analyse_run, render_terminal
from reports.html import render_report
from reports.junit import render_junit
from reports.markdown import render_summary
from tests.reports_helpers import HEALTH, HISTORICAL, spike_phases, spike_rows, write_run


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    run_dir = write_run(tmp_path_factory.mktemp("render") / "run", spike_rows(7), spike_phases())
    return analyse_run(run_dir, Thresholds()).report


@pytest.fixture
def report(base):
    return copy.deepcopy(base)


def banner(html: str) -> str:
    return html[html.index('<section id="verdict"') : html.index("</section>")]


def phase_row(html: str, name: str) -> str:
    table = html[html.index('<table id="phases"') :]
    table = table[: table.index("</table>")]
    return next(row for row in table.split("<tr>") if row.startswith(f"<td>{name}"))


def text_of(markup: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", markup).split())


def partial(report, verdict="healthy"):
    report.update(partial=True, partial_reason="interrupted by SIGINT", verdict=verdict)
    return report


# A partial run never reads as a pass


def test_partial_html_banner_is_neutral_and_says_partial_first(report):
    html = render_report(partial(report), {})
    top = banner(html)
    assert 'class="verdict bg-partial"' in top and "bg-healthy" not in top
    words = text_of(top)
    assert words.startswith("PARTIAL Verdict so far: HEALTHY")
    assert "interrupted by SIGINT" in words
    assert re.search(r"<title>PARTIAL \(HEALTHY so far\)", html)
    assert "--partial: #546e7a" in html  # neither green, amber nor red


def test_complete_run_banner_is_unchanged(report):
    top = banner(render_report(report, {}))
    assert 'class="verdict bg-critical"' in top and text_of(top).startswith("CRITICAL")


def test_partial_summary_first_line(report):
    lines = render_summary(partial(report)).splitlines()
    assert lines[0] == "## ⚪ Load test `spike`: **PARTIAL**"
    assert lines[2].startswith("Verdict so far: **HEALTHY**. The run did not complete")


@pytest.mark.parametrize(("fail_on", "failed", "skipped"), [("critical", 1, 0), ("never", 0, 1)])
def test_partial_junit_is_not_green(report, fail_on, failed, skipped):
    for endpoint in report["endpoints"]:  # every threshold check passes...
        endpoint["checks"] = dict.fromkeys(endpoint["checks"], "healthy")
    root = ET.fromstring(render_junit(partial(report), fail_on))
    suite = root.find("testsuite")
    case = suite.find("testcase[@classname='spike.run'][@name='complete']")
    assert case is not None  # ...but the run itself did not complete
    assert (suite.get("failures"), suite.get("skipped")) == (str(failed), str(skipped))
    marker = case.find("failure" if failed else "skipped")
    assert "interrupted by SIGINT" in marker.get("message")
    assert "Verdict so far: healthy" in marker.get("message")


def test_complete_run_junit_has_no_run_case(report):
    root = ET.fromstring(render_junit(report, "critical"))
    assert root.find(".//testcase[@classname='spike.run']") is None


def test_partial_terminal_head(report):
    lines = render_terminal(partial(report)).splitlines()
    assert lines[0].startswith("spike: PARTIAL (HEALTHY so far)  ·  1,500 requests")
    assert (
        lines[1] == "The run did not complete (interrupted by SIGINT): the figures cover only "
        "the part that ran."
    )


# Warnings are sentences


def test_terminal_prints_the_warning_sentences(report):
    report["warnings"] = [
        {"code": "short_phase", "message": "phase(s) shorter than 10 s: normal (3.0 s)"},
        {"code": "few_samples", "message": "fewer than 100 samples behind a p99"},
    ]
    lines = render_terminal(report).splitlines()
    assert "warning: phase(s) shorter than 10 s: normal (3.0 s)" in lines
    assert "warning: fewer than 100 samples behind a p99" in lines
    assert not any("warning(s)" in line for line in lines)


# Degradation: the absolute change beside the relative one, and no threshold


DEGRADATION = {
    "pct": 45.7,
    "baseline_p95_ms": 2.5,
    "spike_p95_ms": 3.6425,
    "judged": False,
    "note": "No threshold applies to degradation.",
}


def test_degradation_shows_the_absolute_change_everywhere(report):
    report.update(degradation=DEGRADATION, degradation_pct=45.7)
    html = render_report(report, {})
    card = html[html.index('id="degradation-card"') :]
    card = card[: card.index("</div></div>")]
    assert "+45.7 %" in card and "2.5 → 3.6 ms" in card and "lv-" not in card
    section = html[html.index('<div id="recovery">') :]
    assert "No threshold applies to degradation." in section[: section.index("</div>")]
    summary = render_summary(report)
    assert "Spike degradation: +45.7 % (p95 2.5 → 3.6 ms). No threshold applies" in summary
    assert "spike degradation +45.7 % (p95 2.5 → 3.6 ms)  (no threshold" in render_terminal(report)


def test_degradation_of_an_older_report_comes_from_its_phases(report):
    from reports.numbers import num

    report.pop("degradation", None)
    spike = next(p for p in report["phases"] if p["name"] == "spike")
    expected = f"({num(report['recovery']['baseline_p95_ms'])} → {num(spike['p95_ms'])} ms"
    assert f"{report['degradation_pct']:+.1f} % (p95 {expected[1:]})" in render_summary(report)
    assert "no threshold" in render_report(report, {})


# A phase that is not healthy names what set it


def test_phase_verdict_names_its_endpoint_and_metric(report):
    spike = next(p for p in report["phases"] if p["name"] == "spike")
    spike["verdict_from"] = {"endpoint": HISTORICAL, "metric": "p99_ms", "value": 612.3}
    cause = f"{HISTORICAL} p99 612.3 ms"
    assert cause in text_of(phase_row(render_report(report, {}), "spike"))
    row = next(line for line in render_summary(report).splitlines() if line.startswith("| spike"))
    assert row.endswith(f"| `{HISTORICAL}` p99 612.3 ms |")
    line = next(x for x in render_terminal(report).splitlines() if x.startswith("phase spike"))
    assert line.endswith(f"CRITICAL  {cause}")


def test_phase_cause_of_an_older_report_comes_from_its_endpoints(report):
    for phase in report["phases"]:
        phase.pop("verdict_from", None)
    row = text_of(phase_row(render_report(report, {}), "spike"))
    assert row.endswith(f"critical {HEALTH} error rate 20.00 %")
    healthy = text_of(phase_row(render_report(report, {}), "normal"))
    assert healthy.endswith("healthy")


# Recovery states the limits it was judged by


LIMITS = {"healthy_s": 3.0, "degraded_s": 18.0, "tolerance_pct": 10.0, "tolerance_ms": 5.0}


def test_recovery_states_its_limits(report):
    report["recovery"]["limits"] = LIMITS
    report["run"]["time_scale"] = 0.1
    html = render_report(report, {})
    card = text_of(html[html.index('id="recovery-card"') : html.index("<h2>Phases</h2>")])
    assert "7 s healthy: within 3 s healthy, within 18 s degraded, later or never critical" in card
    section = text_of(html[html.index('<div id="recovery">') : html.index("<h2>Endpoints")])
    assert "Limits applied: within 3 s healthy, within 18 s degraded" in section
    assert "(scaled to the time scale 0.1)" in section
    assert "+ 10 % or + 5 ms, whichever is larger" in section
    assert "limits: within 3 s healthy, within 18 s degraded" in render_summary(report)
    assert "recovery 7 s (HEALTHY; limits: within 3 s healthy" in render_terminal(report)


def test_recovery_of_an_older_report_states_the_fixed_limits(report):
    report["recovery"].pop("limits", None)
    assert "within 30 s healthy, within 180 s degraded" in render_summary(report)


# The server table shows the non-server distribution


def test_server_table_shows_the_non_server_p50_and_p95(report):
    for phase in report["server"]["phases"]:
        phase.pop("non_server_ms", None)
        phase.update(non_server_p50_ms=1.4, non_server_p95_ms=7.6)
    report["server"].update(non_server_p50_ms=1.3, non_server_p95_ms=8.2)
    html = render_report(report, {})
    table = text_of(
        html[
            html.index('<table id="server">') : html.index(
                "</table>", html.index('<table id="server">')
            )
        ]
    )
    assert "normal" in table and table.count("1.4 7.6") == len(report["server"]["phases"])
    assert "whole run" in table and "1.3 8.2" in table
    row = next(
        x for x in render_summary(report).splitlines() if x.startswith("| normal |") and "7.6" in x
    )
    assert "| 1.4 | 7.6 |" in row


# One number format


def test_numbers():
    from reports import numbers as fmt

    assert fmt.num(1234.56) == "1,234.6"
    assert fmt.num(None) == fmt.num(float("nan")) == fmt.num("x") == "–"
    assert fmt.num(None, missing="n/a") == "n/a"
    assert fmt.signed(3.0) == "+3.0" and fmt.signed(-0.25, 2) == "-0.25"
    assert fmt.count(12345) == "12,345" and fmt.count(None) == "–"
    assert fmt.seconds(30.0) == "30 s" and fmt.seconds(1.5) == "1.5 s"
    assert (
        fmt.plain(3) == "3" and fmt.plain(2.5) == "2.50" and fmt.plain(None, missing="n/a") == "n/a"
    )
    assert fmt.span(2.5, 3.64) == "2.5 → 3.6 ms"


def test_a_missing_value_reads_the_same_in_every_text_output(report):
    phase = next(p for p in report["phases"] if p["name"] == "normal")
    phase["p99_ms"] = None
    terminal = next(x for x in render_terminal(report).splitlines() if x.startswith("phase normal"))
    summary = next(x for x in render_summary(report).splitlines() if x.startswith("| normal"))
    html = text_of(phase_row(render_report(report, {}), "normal"))
    assert " – " in terminal and "| – |" in summary and " – " in html
    assert " - " not in terminal


def test_renderers_have_no_number_formatters_of_their_own():
    import reports.compare_render
    import reports.explain
    import reports.html
    import reports.markdown
    import reports.terminal

    for module in (
        reports.terminal,
        reports.markdown,
        reports.html,
        reports.explain,
        reports.compare_render,
    ):
        own = {"_num", "_int", "_signed", "_fixed", "_fmt", "_thousands"} & set(vars(module))
        assert not own, f"{module.__name__} formats numbers itself: {own}"
