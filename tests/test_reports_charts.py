"""What the PNG charts draw: read back from the matplotlib figures, not from the pixels."""

from __future__ import annotations

import numpy as np
import pytest
from matplotlib.patches import StepPatch

from perf_lib.thresholds import Thresholds
from reports import analyse_run, build_report
from reports.charts import (
    endpoints_chart,
    errors_chart,
    recovery_chart,
    server_chart,
    throughput_chart,
)
from tests.reports_helpers import (
    START,
    block,
    copy_real_fixture,
    spike_phases,
    spike_rows,
    write_run,
)


@pytest.fixture(scope="module")
def real(tmp_path_factory):
    """The real Locust spike run: 12.014 s of phases, so its last second is cut short."""
    return analyse_run(copy_real_fixture(tmp_path_factory.mktemp("charts") / "real"), Thresholds())


def artist(ax, prefix):
    """The line, step patch or scatter whose label starts with ``prefix``, else None."""
    for item in [*ax.lines, *ax.patches, *ax.collections]:
        if item.get_label().startswith(prefix):
            return item
    return None


def xy(item):
    """(x, y) of a line or a step patch (a step's x is its bucket's start)."""
    if isinstance(item, StepPatch):
        data = item.get_data()
        return np.asarray(data.edges[:-1], dtype=float), np.asarray(data.values, dtype=float)
    return np.asarray(item.get_xdata(), dtype=float), np.asarray(item.get_ydata(), dtype=float)


def test_throughput_leaves_out_the_last_partial_second(real):
    figure = throughput_chart(real)
    t, rps = xy(artist(figure.axes[0], "requests/s"))
    assert rps.min() > 30  # ~48 req/s at the lowest; the cut-short last second showed ~1
    span = real.analysis.span_s
    assert t.max() + real.analysis.bucket_s <= span + 1e-9  # every drawn second is complete


def test_users_step_up_with_the_spike_not_a_second_later(real):
    figure = throughput_chart(real)
    t, users = xy(artist(figure.axes[1], "users"))
    spike = next(p for p in real.analysis.phases if p.name == "spike")
    rise = t[np.flatnonzero(users == 9)[0]]
    assert rise == pytest.approx(spike.start - real.analysis.t0, abs=0.05)
    starts, rps = xy(artist(figure.axes[0], "requests/s"))
    assert starts[np.flatnonzero(rps > 100)[0]] == pytest.approx(rise, abs=0.05)


def test_users_changes_snap_to_phase_changes_only():
    from reports.charts import _snap_changes

    stamps = np.array([0.0, 1.0, 2.0, 3.0, 4.0])
    users = np.array([0.0, 5.0, 10.0, 10.0, 0.0])
    # a ramp from a phase start at 0.4: its first step is the phase's; the next is its stamp
    assert list(_snap_changes(stamps, users, np.array([0.4, 3.7]))) == [0.0, 0.4, 2.0, 3.0, 3.7]
    assert list(_snap_changes(stamps, users, np.array([]))) == list(stamps)


def test_endpoints_chart_is_scaled_to_the_data_with_limits_marked(real):
    figure = endpoints_chart(real)
    ax = figure.axes[0]
    longest = max(e["p95_ms"] for e in real.report["endpoints"])
    assert longest < ax.get_xlim()[1] < 2 * longest  # ~52 ms bars, not a 0-575 ms axis
    marks = " ".join(text.get_text() for text in ax.texts)
    assert "off the scale" in marks and "200 ms" in marks and "500 ms" in marks


def test_endpoints_chart_draws_a_limit_close_to_the_data(tmp_path):
    run_dir = write_run(tmp_path / "run", spike_rows(7), spike_phases())
    model = analyse_run(run_dir, Thresholds())  # p95 up to ~290 ms: both limits within reach
    ax = endpoints_chart(model).axes[0]
    assert ax.get_xlim()[1] > 500
    assert "off the scale" not in " ".join(text.get_text() for text in ax.texts)


def test_recovery_chart_judges_samples_only_until_recovery_is_confirmed(tmp_path):
    normal = block(START, 30, 10, lambda s, j, n: n % 100 + 1)
    spike = block(START + 30, 30, 20, lambda s, j, n: 3 * (n % 100 + 1))
    # back to normal at once, slow again from 10 s on: the later samples are past the verdict
    recovery = block(START + 60, 60, 10, lambda s, j, n: (j + 1) * 10.0 if s < 10 else 500.0)
    run_dir = write_run(tmp_path / "run", normal + spike + recovery, spike_phases())
    model = analyse_run(run_dir, Thresholds())
    assert model.recovery.seconds == 0
    assert not all(s.ok for s in model.recovery.samples)  # there are slow samples later on
    ax = recovery_chart(model).axes[0]
    not_yet = artist(ax, "not yet")
    if not_yet is not None:
        assert len(not_yet.get_offsets()) == 0
    later = artist(ax, "after recovery")
    assert later is not None and xy(later)[0].max() == model.recovery.samples[-1].offset_s
    assert artist(ax, "recovered after 0 s") is not None


def test_no_failures_means_no_empty_errors_chart(tmp_path):
    rows = [r for r in spike_rows(0) if r[3]]
    result = build_report(write_run(tmp_path / "run", rows, spike_phases()), Thresholds())
    assert "errors.png" not in result.report["charts"]
    assert not (result.run_dir / "errors.png").exists()
    assert 'id="no-failures"' in result.html_path.read_text()
    assert errors_chart(analyse_run(result.run_dir, Thresholds())) is None


def test_errors_chart_with_failures(real):
    assert errors_chart(real) is not None


def test_server_chart_draws_the_non_server_distribution(real):
    timing = real.server.timing
    real.server.timing = timing.assign(non_server_p50_ms=2.0, non_server_p95_ms=9.0)
    try:
        ax = server_chart(real).axes[0]
    finally:
        real.server.timing = timing
    assert xy(artist(ax, "not the server's p95"))[1].max() == 9.0
    assert xy(artist(ax, "not the server's p50"))[1].max() == 2.0
