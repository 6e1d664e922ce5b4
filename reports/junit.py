"""junit.xml: one test case per endpoint and checked metric, failing at the --fail-on level.

CI systems show JUnit results natively, so a threshold breach appears as a named failing test
(``/api/v1/historical`` / ``p95_ms``) with its value and limits in the message. An interrupted
run adds a ``run`` / ``complete`` case that fails (or, with ``--fail-on never``, is skipped), so
that a partial run never shows as an all-green suite.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any

from perf_lib.thresholds import METRICS, Level
from reports.exit_codes import fails, parse_fail_on
from reports.explain import metric_text, partial_sentence


def render_junit(report: dict[str, Any], fail_on: str) -> bytes:
    """The JUnit XML document (UTF-8 bytes)."""
    limits = report["thresholds"]
    cases = []
    failures = skipped = 0
    if report.get("partial"):
        case = ET.Element(
            "testcase", classname=f"{report['scenario']}.run", name="complete", time="0"
        )
        text = f"{partial_sentence(report)} Verdict so far: {report['verdict']}."
        if parse_fail_on(fail_on) is None:
            skipped += 1
            ET.SubElement(case, "skipped", message=text)
        else:
            failures += 1
            ET.SubElement(case, "failure", message=text, type="partial").text = text
        cases.append(case)
    for endpoint in report["endpoints"]:
        for metric in METRICS:
            if metric not in endpoint["checks"]:
                continue
            level = Level.parse(endpoint["checks"][metric])
            case = ET.Element(
                "testcase",
                classname=f"{report['scenario']}.{endpoint['name']}",
                name=metric,
                time="0",
            )
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
        ("degradation_pct", report.get("degradation_pct")),
        ("recovery_seconds", report.get("recovery_seconds")),
    ):
        ET.SubElement(properties, "property", name=name, value="" if value is None else str(value))
    suite.extend(cases)
    root = ET.Element(
        "testsuites", tests=str(len(cases)), failures=str(failures), skipped=str(skipped)
    )
    root.append(suite)
    ET.indent(root)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True) + b"\n"
