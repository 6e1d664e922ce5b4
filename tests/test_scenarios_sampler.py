"""The server sampler's rows: server_history.csv's columns, as the run format defines them."""

from __future__ import annotations

import subprocess
import sys

import pytest

from reports.run_format import SERVER_COLUMNS, names
from scenarios.sampler import COLUMNS, sample_row


def test_sample_row_takes_the_summary_and_the_process():
    summary = {
        "cache": {"hit_rate_pct": 79.0, "size": 145, "hits": 2345, "misses": 623},
        "performance": {"total_queries": 750, "failed": 8, "p95_duration_ms": 4.5,
                        "error_rate_pct": 1.07},
    }  # fmt: skip
    row = sample_row(summary, {"process": {"rss_bytes": 1234}}, 10.0)
    assert names(SERVER_COLUMNS) == COLUMNS
    assert dict(zip(COLUMNS, row, strict=True)) == {
        "timestamp": "10.000",
        "cache_hit_rate_pct": 79.0,
        "cache_size": 145,
        "cache_hits": 2345,
        "cache_misses": 623,
        "queries_total": 750,
        "queries_failed": 8,
        "p95_ms": 4.5,
        "error_rate_pct": 1.07,
        "rss_bytes": 1234,
    }
    assert sample_row({}, None, 1.0) == ["1.000"] + [""] * (len(COLUMNS) - 1)


@pytest.mark.e2e
def test_the_runner_loads_no_pandas_while_the_load_runs():
    """The run format comes from a module without pandas; the report's is imported later."""
    code = (
        "import sys, scenarios.runner, scenarios.sampler, scenarios.web_ui_runner; "
        "print('pandas' in sys.modules)"
    )
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert loaded.stdout.strip() == "False", loaded.stderr
