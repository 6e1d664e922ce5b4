"""What the reports modules may import, and constants kept apart that must agree."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest


def _modules_after(imports: str) -> list[str]:
    code = f"import json, sys; {imports}; print(json.dumps(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


@pytest.mark.e2e
@pytest.mark.concurrent
def test_reports_does_not_import_locust_or_scenarios():
    loaded = _modules_after("import reports, reports.build, reports.compare_render, reports.cli")
    assert [m for m in loaded if m.split(".")[0] in ("locust", "scenarios", "gevent")] == []


@pytest.mark.e2e
@pytest.mark.concurrent
def test_reading_a_run_does_not_depend_on_the_analysis():
    loaded = _modules_after("import reports.rundir, reports.fallback")
    analysis = {"reports.analysis", "reports.phases", "reports.stats", "reports.recovery"}
    assert analysis.isdisjoint(loaded)
