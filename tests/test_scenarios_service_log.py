"""The embedded service of a run logs its start-up and errors, not one line per request."""

from __future__ import annotations

import pytest

from tests.e2e_helpers import requests_log, run_scenario, service_env

pytestmark = [pytest.mark.e2e, pytest.mark.concurrent]


def test_a_run_leaves_a_service_log_without_a_line_per_request(seeded_db, tmp_path):
    result = run_scenario(["baseline"], tmp_path, service_env(seeded_db))
    assert result.returncode == 0, result.stderr
    assert len(requests_log(result.run_dir)) == 1000
    log = (result.run_dir / "service.log").read_text()
    assert "Application startup complete" in log
    assert len(log.splitlines()) < 50, log[:2000]  # 1000 requests, not 1000 lines
    assert "/api/v1/symbols" not in log
