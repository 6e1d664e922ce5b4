"""junit.xml: one test case per endpoint and checked metric, failing at the --fail-on level.

CI systems show JUnit results natively, so a threshold breach appears as a named failing test
(``/api/v1/historical`` / ``p95_ms``) with its value and limits in the message. An interrupted
run adds a ``run`` / ``complete`` case that fails (or, with ``--fail-on never``, is skipped), so
that a partial run never shows as an all-green suite. A run whose load generator did not keep up
gets a ``run`` / ``generator kept up`` case that fails (or is skipped) the same way: its figures
describe the generator as much as the service. An open-model run always has that case, passing
with the send lag and drops in its output when the generator kept up.

A capacity search's run has one ``run`` / ``capacity`` case instead of the endpoint and
generator cases: its steps are pushed past the knee, and its generator may run out, on purpose,
so only the answer is judged. The case fails when the capacity's verdict reaches the --fail-on
level (a capacity below ``--min-capacity`` is critical), and passes, with the answer in its
output, otherwise.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any

from perf_lib.thresholds import METRICS, Level
from reports.exit_codes import fails, parse_fail_on
from reports.explain import (
    capacity_block,
    capacity_line,
    capacity_verdict_sentence,
    generator_limited,
    generator_sentence,
    metric_text,
    partial_sentence,
)
from reports.numbers import NA, count, num

#: The run-level cases: the run completed, its load generator kept up, its capacity.
COMPLETE = "complete"
KEPT_UP = "generator kept up"
CAPACITY = "capacity"


def render_junit(report: dict[str, Any], fail_on: str) -> bytes:
    """The JUnit XML document (UTF-8 bytes)."""
    limits = report["thresholds"]
    cases = []
    failures = skipped = 0
    judged = parse_fail_on(fail_on) is not None
    run_cases = []
    capacity = capacity_block(report)
    if report.get("partial"):
        text = f"{partial_sentence(report)} Verdict so far: {report['verdict']}."
        run_cases.append((COMPLETE, text, "partial"))
    if generator_limited(report) and capacity is None:
        run_cases.append((KEPT_UP, generator_sentence(report) or KEPT_UP, "generator-limited"))
    for name, text, kind in run_cases:
        case = _case(f"{report['scenario']}.run", name)
        if judged:
            failures += 1
            ET.SubElement(case, "failure", message=text, type=kind).text = text
        else:
            skipped += 1
            ET.SubElement(case, "skipped", message=text)
        cases.append(case)
    if capacity is not None:
        case, failed = _capacity_case(report, capacity, fail_on)
        failures += failed
        cases.append(case)
    elif report.get("model") == "open" and not generator_limited(report):
        case = _case(f"{report['scenario']}.run", KEPT_UP)
        ET.SubElement(case, "system-out").text = _kept_up(report)
        cases.append(case)
    for endpoint in [] if capacity is not None else report["endpoints"]:
        for metric in METRICS:
            if metric not in endpoint["checks"]:
                continue
            level = Level.parse(endpoint["checks"][metric])
            case = _case(f"{report['scenario']}.{endpoint['name']}", metric)
            limit = limits["endpoints"].get(endpoint["name"], {}).get(metric)
            limit = limit or limits["default"][metric]
            text = (
                f"{metric_text(metric, endpoint.get(metric))} is {level.label} "
                f"(healthy below {limit['healthy']:g}, critical above {limit['degraded']:g})"
            )
            if fails(level, fail_on):
                failures += 1
                failure = ET.SubElement(case, "failure", message=text, type=level.label)
                failure.text = text
            else:
                ET.SubElement(case, "system-out").text = text
            cases.append(case)
    suite = ET.Element(
        "testsuite",
        name=f"load test {report['scenario']}"
        + (" (partial run)" if report.get("partial") else ""),
        tests=str(len(cases)),
        failures=str(failures),
        errors="0",
        skipped=str(skipped),
        time=str(report["run"].get("duration_s") or 0),
        timestamp=report.get("generated_at", ""),
    )
    properties = ET.SubElement(suite, "properties")
    for name, value in (
        ("verdict", report["verdict"]),
        ("fail_on", fail_on),
        ("partial", str(bool(report.get("partial"))).lower()),
        ("model", report.get("model") or "closed"),
        ("generator_limited", str(generator_limited(report)).lower()),
        ("dropped", (report.get("generator") or {}).get("dropped")),
        ("degradation_pct", report.get("degradation_pct")),
        ("recovery_seconds", report.get("recovery_seconds")),
        ("capacity_rps", capacity["healthy_rps"] if capacity else None),
        ("min_capacity", capacity["min_capacity"] if capacity else None),
    ):
        ET.SubElement(properties, "property", name=name, value="" if value is None else str(value))
    suite.extend(cases)
    root = ET.Element(
        "testsuites", tests=str(len(cases)), failures=str(failures), skipped=str(skipped)
    )
    root.append(suite)
    ET.indent(root)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True) + b"\n"


def _case(classname: str, name: str) -> ET.Element:
    return ET.Element("testcase", classname=classname, name=name, time="0")


def _capacity_case(
    report: dict[str, Any], capacity: dict[str, Any], fail_on: str
) -> tuple[ET.Element, int]:
    """The capacity case and whether it failed: it fails when the capacity's verdict reaches
    ``fail_on`` (below ``--min-capacity``: critical), with the answer as its message."""
    case = _case(f"{report['scenario']}.run", CAPACITY)
    text = f"{capacity_line(report)}. {capacity_verdict_sentence(capacity)}"
    if not fails(Level.parse(capacity["verdict"]), fail_on):
        ET.SubElement(case, "system-out").text = text
        return case, 0
    kind = "below-minimum" if capacity["meets_minimum"] is False else capacity["verdict"]
    ET.SubElement(case, "failure", message=capacity_line(report) or CAPACITY, type=kind).text = text
    return case, 1


def _kept_up(report: dict[str, Any]) -> str:
    """What a generator that kept up did: its send lag, CPU and drops."""
    generator = report.get("generator") or {}
    return (
        f"send lag p99 {num(generator.get('lag_p99_ms'), missing=NA)} ms, CPU max "
        f"{num(generator.get('cpu_max_pct'), missing=NA)} %, "
        f"{count(generator.get('dropped'), missing=NA)} arrivals dropped"
    )
