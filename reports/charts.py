"""PNG charts of a report, drawn on matplotlib's Agg canvas directly.

Figures are created without pyplot, so no display, global backend or figure registry is
involved (nothing to close, safe next to other matplotlib users in the same process).

Series arrive already bucketed (at most ~1,800 points, see ``analysis.chart_bucket``), so each
chart costs a fraction of a second even for an hour-long run. A bucket of the request log holds
the requests *sent* during it: it is drawn over its own span (a step) or at its centre (a
point), and only when it lies wholly inside the run, since the first and last seconds of the
data are cut short by the run's start and end and would show a false drop.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, LogFormatter

from perf_lib.thresholds import Limit
from reports.capacity import rate_text
from reports.explain import recovery_limits, tolerance_text
from reports.numbers import num, seconds
from reports.palette import LEVEL_COLOURS
from reports.recovery import CONSECUTIVE
from reports.report import ReportModel
from reports.server_series import MAX_CHARTED, describe

PHASE_COLOURS = ("#e3f2fd", "#fff3e0", "#e8f5e9", "#f3e5f5", "#fffde7", "#e0f7fa")
NEUTRAL = "#90a4ae"
SIZE = (10.0, 3.6)
DPI = 100
#: A limit up to this many times the longest bar is brought into the endpoints chart's view;
#: one farther away would squash the bars, so it is marked at the edge instead.
IN_VIEW_FACTOR = 3.0
_EPS = 1e-9


@dataclass(frozen=True)
class Timeline:
    """The series of a time chart: its complete buckets and where to draw them."""

    series: pd.DataFrame
    starts: np.ndarray  # bucket starts, seconds from the run's start
    centres: np.ndarray  # where a bucket's value is drawn as a point
    edges: np.ndarray  # bucket edges (one more than buckets), where it is drawn as a step
    lo: float  # the run's span on the time axis
    hi: float

    def column(self, name: str) -> np.ndarray:
        return self.series[name].to_numpy(dtype=float)


def render_all(model: ReportModel) -> dict[str, bytes]:
    """Every chart that the data supports, by file name, in reading order."""
    charts: dict[str, Callable[[ReportModel], Figure | None]] = {
        "capacity.png": capacity_chart,
        "latency.png": latency_chart,
        "throughput.png": throughput_chart,
        "errors.png": errors_chart,
        "endpoints.png": endpoints_chart,
        "recovery.png": recovery_chart,
        "server.png": server_chart,
        "server_series.png": server_series_chart,
        "drift.png": drift_chart,
    }
    out = {}
    for name, draw in charts.items():
        figure = draw(model)
        if figure is not None:
            out[name] = _png(figure)
    return out


def timeline(model: ReportModel) -> Timeline | None:
    """The run's time series, its incomplete first and last buckets left out."""
    analysis = model.analysis
    series = analysis.series
    if series.empty:
        return None
    bucket = analysis.bucket_s
    starts = series.index.to_numpy(dtype=float)
    first, last = float(starts.min()), float(starts.max())
    lo, hi = 0.0, float(analysis.span_s)
    if first < lo:  # data before the phases: its first bucket starts before the data
        lo = first + bucket
    if last >= hi:  # data after the phases: its last bucket ends after the data
        hi = last
    keep = (starts >= lo - _EPS) & (starts + bucket <= hi + _EPS)
    if not keep.any():  # shorter than one bucket: show what there is
        keep[:] = True
    centres = starts + bucket / 2
    kept = starts[keep]
    return Timeline(
        series=series[keep],
        starts=kept,
        centres=centres[keep],
        edges=np.append(kept, kept[-1] + bucket),
        lo=lo,
        hi=hi,
    )


def latency_chart(model: ReportModel) -> Figure | None:
    line = timeline(model)
    if line is None:
        return None
    figure, ax = _timeline_figure(model, "Response time over the run (by send time)")
    for column, label, colour, width in (
        ("p50_ms", "p50", "#64b5f6", 1.2),
        ("p95_ms", "p95", "#1565c0", 1.8),
        ("p99_ms", "p99", "#6a1b9a", 1.2),
    ):
        ax.plot(line.centres, line.column(column), label=label, color=colour, lw=width)
    limits = model.thresholds.limits_for(None)["p95_ms"]
    _draw_limits(ax, limits, "p95 degraded from {:g} ms", "p95 critical above {:g} ms")
    values = line.series[["p50_ms", "p99_ms"]].to_numpy(dtype=float)
    positive = values[np.isfinite(values) & (values > 0)]
    if positive.size:
        ax.set_yscale("log")
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
        ax.set_ylim(max(positive.min() * 0.7, 0.01), max(positive.max(), limits.degraded) * 1.6)
    ax.set_ylabel("ms (log scale)")
    _finish(ax, line)
    return figure


def capacity_chart(model: ReportModel) -> Figure | None:
    """The capacity search's knee: each step's corrected latency against its offered rate, with
    the rate it achieved; only for a capacity run, from the figures the search recorded."""
    block = model.report.get("capacity")
    steps = sorted(block["steps"], key=lambda s: s["rate"]) if isinstance(block, dict) else []
    if not steps:
        return None
    figure, ax = _figure(
        "The capacity search's knee: corrected latency of each step against its offered rate"
    )
    rate = np.array([s["rate"] for s in steps], dtype=float)
    held = np.array([s["held"] for s in steps], dtype=bool)

    def column(key: str) -> np.ndarray:
        return np.array([np.nan if s[key] is None else s[key] for s in steps], dtype=float)

    for key, label, colour, width in (
        ("p50_ms", "p50", "#64b5f6", 1.2),
        ("p95_ms", "p95", "#1565c0", 1.8),
        ("p99_ms", "p99", "#6a1b9a", 1.2),
    ):
        ax.plot(rate, column(key), label=label, color=colour, lw=width)
    p95 = column("p95_ms")
    for mask, label, colour, marker in (
        (held, "held (p95)", LEVEL_COLOURS["healthy"], "o"),
        (~held, "failed (p95)", LEVEL_COLOURS["critical"], "x"),
    ):
        if mask.any():
            ax.scatter(
                rate[mask], p95[mask], color=colour, marker=marker, s=40, zorder=4, label=label
            )
    limits = model.thresholds.limits_for(None)["p95_ms"]
    _draw_limits(ax, limits, "p95 degraded from {:g} ms", "p95 critical above {:g} ms")
    healthy = block.get("healthy_rps") if isinstance(block, dict) else None
    if healthy is not None:
        ax.axvline(
            healthy,
            color=LEVEL_COLOURS["healthy"],
            lw=2,
            label=f"capacity {rate_text(healthy, held=True)} req/s",
        )
    values = np.array([column(k) for k in ("p50_ms", "p99_ms")], dtype=float)
    positive = values[np.isfinite(values) & (values > 0)]
    if positive.size:
        ax.set_yscale("log")
        ax.set_ylim(max(positive.min() * 0.7, 0.01), max(positive.max(), limits.degraded) * 1.6)
        ax.set_ylabel("ms from the intended start (log scale)")
    else:
        ax.set_ylabel("ms from the intended start")
    ax.set_xscale("log")
    for axis in (ax.xaxis, ax.yaxis):
        axis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    # a narrow search's rates fall between powers of ten: label the minor ticks too, plainly
    ax.xaxis.set_minor_formatter(LogFormatter(labelOnlyBase=False, minor_thresholds=(2, 0.5)))
    ax.set_xlim(rate.min() / 1.15, rate.max() * 1.15)
    ax.set_xlabel("offered rate, req/s (log scale)")
    twin = ax.twinx()
    achieved = column("achieved_rps")
    twin.plot(rate, rate, color=NEUTRAL, lw=1, ls=":", label="offered req/s")
    twin.plot(rate, achieved, color="#455a64", lw=1.3, ls="--", marker=".", label="achieved req/s")
    twin.set_ylim(0, float(np.nanmax(np.r_[rate, achieved])) * 1.15)
    twin.set_ylabel("achieved req/s")
    _finish(ax, None, twin, xlabel=None)
    return figure


def throughput_chart(model: ReportModel) -> Figure | None:
    line = timeline(model)
    if line is None:
        return None
    figure, ax = _timeline_figure(model, "Throughput and users")
    ax.stairs(
        np.nan_to_num(line.column("rps")),
        line.edges,
        color="#1565c0",
        lw=1.5,
        baseline=None,
        label="requests/s (by send time)",
    )
    ax.set_ylabel("requests/s")
    ax.set_ylim(bottom=0, top=max(float(np.nanmax(line.column("rps"), initial=0)), 1) * 1.15)
    twin = ax.twinx()
    users = users_steps(model, line.lo, line.hi)
    if users is not None:
        twin.step(users[0], users[1], where="post", color="#455a64", lw=1.5, ls="--", label="users")
        twin.set_ylim(0, max(float(np.nanmax(users[1])), 1) * 1.25)
    twin.set_ylabel("users")
    _finish(ax, line, twin)
    return figure


def errors_chart(model: ReportModel) -> Figure | None:
    """None without a single failure: the report says "no failures" instead of an empty plot."""
    line = timeline(model)
    if line is None or not model.report["totals"].get("failures"):
        return None
    figure, ax = _timeline_figure(model, "Failures over the run")
    fails = np.nan_to_num(line.column("fail_per_s"))
    ax.stairs(
        fails, line.edges, fill=True, color=LEVEL_COLOURS["critical"], alpha=0.5, label="failures/s"
    )
    ax.set_ylabel("failures/s")
    ax.set_ylim(bottom=0, top=max(float(fails.max(initial=0)), 1) * 1.2)
    twin = ax.twinx()
    rate = _error_rate(line.series)
    twin.plot(line.centres, rate, color="#4e342e", lw=1.2, label="error rate %")
    limits = model.thresholds.limits_for(None)["error_rate_pct"]
    _draw_limits(twin, limits, "degraded from {:g} %", "critical above {:g} %")
    top = float(np.nanmax(rate, initial=0.0)) if len(rate) else 0.0
    twin.set_ylim(0, max(top, limits.degraded) * 1.25)
    twin.set_ylabel("error rate %")
    _finish(ax, line, twin)
    return figure


def endpoints_chart(model: ReportModel) -> Figure | None:
    """p95 per endpoint on the data's own scale; limits far beyond it are marked at the edge."""
    endpoints = model.report["endpoints"]
    if not endpoints:
        return None
    height = max(2.2, 0.45 * len(endpoints) + 1.4)
    figure = Figure(figsize=(SIZE[0], height), dpi=DPI, layout="constrained")
    FigureCanvasAgg(figure)
    ax = figure.add_subplot()
    ax.set_title(
        "p95 per endpoint (whole run), coloured by the endpoint's verdict", loc="left", fontsize=11
    )
    names = [e["name"] for e in endpoints][::-1]
    values = [float(e["p95_ms"] or 0.0) for e in endpoints][::-1]
    colours = [LEVEL_COLOURS.get(e["verdict"], NEUTRAL) for e in endpoints][::-1]
    bars = ax.barh(names, values, color=colours)
    for bar, value in zip(bars, values, strict=True):
        ax.annotate(
            f" {num(value)} ms",
            (bar.get_width(), bar.get_y() + bar.get_height() / 2),
            va="center",
            fontsize=9,
        )
    longest = max(max(values), 0.001)
    limits = model.thresholds.limits_for(None)["p95_ms"]
    marks = (
        (limits.healthy, "degraded", "degraded from"),
        (limits.degraded, "critical", "critical above"),
    )
    in_view = [value for value, _, _ in marks if value <= longest * IN_VIEW_FACTOR]
    right = max([longest * 1.25] + [value * 1.08 for value in in_view])
    ax.set_xlim(0, right)
    key = [("p95 limits:", "#455a64")]
    for value, level, text in marks:
        if value <= right:
            ax.axvline(value, color=LEVEL_COLOURS[level], ls="--", lw=1)
            key.append((f"{text} {value:g} ms (dashed)", LEVEL_COLOURS[level]))
        else:
            key.append((f"{text} {value:g} ms (off the scale →)", LEVEL_COLOURS[level]))
    ax.set_xlabel("p95 ms", loc="left")  # the limits' key takes the right of its line
    anchor: Any = None  # laid out right to left
    for text, colour in reversed(key):
        anchor = ax.annotate(
            text,
            (1.0, 0.5) if anchor is None else (0.0, 0.5),
            xycoords=("axes fraction", ax.xaxis.label) if anchor is None else anchor,
            xytext=(0, 0) if anchor is None else (-8, 0),
            textcoords="offset points",
            ha="right",
            va="center",
            fontsize=8,
            color=colour,
        )
        anchor.set_in_layout(False)
    ax.grid(axis="x", alpha=0.3)
    return figure


def recovery_chart(model: ReportModel) -> Figure | None:
    recovery = model.recovery
    if recovery is None or not recovery.samples:
        return None
    block: dict[str, Any] = model.report.get("recovery") or {}
    window = block.get("window_s", 3)
    figure, ax = _figure(
        f"Recovery after the spike: p95 of each {window} s window against the back-to-normal limit"
    )
    samples = recovery.samples
    judged = len(samples)
    if recovery.seconds is not None:  # the run of healthy samples that confirmed recovery ends it
        first = next((i for i, s in enumerate(samples) if s.offset_s == recovery.seconds), None)
        if first is not None:
            judged = min(first + CONSECUTIVE, len(samples))
    t = np.array([s.offset_s for s in samples], dtype=float)
    p95 = np.array([s.p95_ms for s in samples], dtype=float)
    ok = np.array([s.ok for s in samples], dtype=bool)
    ax.plot(t[:judged], p95[:judged], color="#1565c0", lw=1.2, label="window p95")
    if ok[:judged].any():
        ax.scatter(
            t[:judged][ok[:judged]],
            p95[:judged][ok[:judged]],
            color=LEVEL_COLOURS["healthy"],
            s=14,
            zorder=3,
            label="back to normal",
        )
    if (~ok[:judged]).any():
        ax.scatter(
            t[:judged][~ok[:judged]],
            p95[:judged][~ok[:judged]],
            color=LEVEL_COLOURS["critical"],
            s=14,
            zorder=3,
            label="not yet",
        )
    if judged < len(samples):
        later = slice(judged - 1, None)  # joined to the last judged sample
        ax.plot(
            t[later],
            p95[later],
            color=NEUTRAL,
            lw=1,
            ls=":",
            marker="o",
            ms=2.5,
            label="after recovery (not judged)",
        )
    baseline = num(recovery.baseline_p95_ms)
    ax.axhline(
        recovery.limit_p95_ms,
        color="#455a64",
        ls="--",
        lw=1,
        label=f"limit {num(recovery.limit_p95_ms)} ms (baseline {baseline} ms "
        f"{tolerance_text(block)})",
    )
    healthy_s = recovery_limits(block)["healthy_s"]
    verdict = recovery.level.label
    if recovery.seconds is not None:
        ax.axvline(
            recovery.seconds,
            color=LEVEL_COLOURS[verdict],
            lw=2,
            label=f"recovered after {seconds(recovery.seconds)}: {verdict} "
            f"(healthy within {seconds(healthy_s)})",
        )
    else:
        ax.annotate(
            f"not recovered within the {num(recovery.searched_s)} s searched: {verdict}",
            (0.01, 0.96),
            xycoords="axes fraction",
            ha="left",
            va="top",
            color=LEVEL_COLOURS[verdict],
            fontsize=10,
        )
    ax.set_xlabel("seconds after the end of the spike")
    ax.set_ylabel("ms")
    ax.set_ylim(0, max(float(np.nanmax(p95)), recovery.limit_p95_ms) * 1.45)
    ax.grid(alpha=0.3)
    ax.legend(loc="upper right", fontsize=8)
    return figure


def server_chart(model: ReportModel) -> Figure | None:
    server = model.server
    line = timeline(model)
    if line is None or (server.timing is None and server.history is None):
        return None
    figure, ax = _timeline_figure(model, "Server side against client side")
    ax.plot(line.centres, line.column("p95_ms"), color="#1565c0", lw=1.5, label="client p95")
    timing, history = server.timing, server.history
    if timing is not None:
        # Same buckets as the client series: the complete ones, drawn at their centres.
        aligned = timing.reindex(line.starts)
        for column, label, colour, style in (
            ("server_p95_ms", "server p95 (Server-Timing)", LEVEL_COLOURS["healthy"], "-"),
            ("non_server_p95_ms", "not the server's p95", "#ad1457", "-"),
            ("non_server_p50_ms", "not the server's p50", "#ad1457", "--"),
        ):
            if column in aligned:
                ax.plot(
                    line.centres,
                    aligned[column].to_numpy(dtype=float),
                    color=colour,
                    lw=1.3,
                    ls=style,
                    label=label,
                )
    if history is not None and "p95_ms" in history:
        shown = history[(history.index >= line.lo) & (history.index <= line.hi)]
        ax.plot(
            shown.index.to_numpy(dtype=float),
            shown["p95_ms"].to_numpy(dtype=float),
            color="#8d6e63",
            lw=1.2,
            ls=":",
            label="server DB-query p95 (sampled)",
        )
    ax.set_ylabel("ms")
    ax.set_ylim(bottom=0)
    twin = ax.twinx()
    rate = None
    if timing is not None and "cache_hit_rate_pct" in timing:
        rate = pd.Series(
            timing["cache_hit_rate_pct"].reindex(line.starts).to_numpy(dtype=float),
            index=line.centres,
        )
    elif history is not None and "cache_hit_rate_pct" in history:
        rate = history["cache_hit_rate_pct"]
        rate = rate[(rate.index >= line.lo) & (rate.index <= line.hi)]
    if rate is not None:
        twin.plot(
            rate.index.to_numpy(dtype=float),
            rate.to_numpy(dtype=float),
            color="#ef8f00",
            lw=1,
            alpha=0.8,
            label="cache hit rate %",
        )
    twin.set_ylim(0, 105)
    twin.set_ylabel("cache hit rate %")
    _finish(ax, line, twin)
    return figure


def server_series_chart(model: ReportModel) -> Figure | None:
    """One small panel per Prometheus series (the first ``MAX_CHARTED``), in its unit."""
    series = model.server.series
    line = timeline(model)
    if series is None or line is None or series.columns.empty:
        return None
    names = list(series.columns[:MAX_CHARTED])
    cols = 1 if len(names) == 1 else 2
    rows = -(-len(names) // cols)
    figure = Figure(figsize=(SIZE[0], 0.6 + 1.9 * rows), dpi=DPI, layout="constrained")
    FigureCanvasAgg(figure)
    figure.suptitle(
        "Server metrics (Prometheus): counters per second, gauges as sampled",
        x=0.01,
        ha="left",
        fontsize=11,
    )
    axes = figure.subplots(rows, cols, squeeze=False).ravel()
    for i, (ax, name) in enumerate(zip(axes, names, strict=False)):
        _shade_phases(ax, model, labels=i < cols)
        metric = describe(name)
        shown = series[name].dropna()
        shown = shown[(shown.index >= line.lo) & (shown.index <= line.hi)]
        ax.plot(
            shown.index.to_numpy(dtype=float),
            shown.to_numpy(dtype=float),
            color="#1565c0",
            # a counter's rate holds over the second up to the sample it is drawn at
            drawstyle="steps-pre" if metric.kind == "counter" else "default",
        )
        ax.set_title(f"{name} ({metric.unit})", loc="left", fontsize=9)
        if shown.empty:
            ax.annotate("no samples in the run", (0.5, 0.5), xycoords="axes fraction", ha="center")
        elif shown.min() >= 0:
            ax.set_ylim(bottom=0, top=max(float(shown.max()) * 1.15, 1e-9))
        ax.set_xlim(line.lo, line.hi)
        ax.tick_params(labelsize=8)
        ax.grid(alpha=0.3)
        if i >= len(names) - cols:  # the lowest panel of its column
            ax.set_xlabel("seconds since the start of the run", fontsize=8)
    for ax in axes[len(names) :]:
        ax.set_visible(False)
    return figure


def drift_chart(model: ReportModel) -> Figure | None:
    drift = model.drift
    if drift is None:
        return None
    figure, ax = _figure("Drift: p95 per window with its fitted line, and the service's RSS", 3.0)
    windows = drift.windows
    centres = windows.index.to_numpy(dtype=float) + drift.summary["window_s"] / 2
    ax.plot(
        centres,
        windows["p95_ms"].to_numpy(dtype=float),
        color="#1565c0",
        lw=1.2,
        marker="o",
        ms=3,
        label=f"p95 per {drift.summary['window_s']:g} s window",
    )
    ax.plot(
        centres,
        windows["p95_fit_ms"].to_numpy(dtype=float),
        color="#1565c0",
        ls="--",
        lw=1,
        label=f"fit {num(drift.summary['p95_slope_ms_per_min'], sign=True)} ms/min",
    )
    ax.set_ylabel("ms")
    ax.set_ylim(bottom=0)
    twin = None
    if drift.rss_mb is not None:
        twin = ax.twinx()
        twin.plot(
            drift.rss_mb.index.to_numpy(dtype=float),
            drift.rss_mb.to_numpy(dtype=float),
            color="#6a1b9a",
            lw=1.2,
            label="service RSS MB",
        )
        first = float(drift.rss_mb.index[0])
        twin.axvspan(first, first + drift.summary["rss_warmup_s"], color="#eceff1", zorder=0, lw=0)
        twin.set_ylim(0, max(float(drift.rss_mb.max()), 1.0) * 1.25)
        twin.set_ylabel("RSS MB")
    _finish(ax, None, twin)
    return figure


def users_steps(model: ReportModel, lo: float, hi: float) -> tuple[np.ndarray, np.ndarray] | None:
    """The user count as steps (times from the run's start, counts), within ``[lo, hi]``.

    Locust stamps each history row with the second it was written in (``int(time.time())``)
    and reads the user count at that moment, anywhere within the second after the stamp. A
    change of the count between two rows therefore happened after the earlier row's stamp and
    before a second past the later one's. When a phase starts (or the last one ends) in that
    interval, the change is drawn there: that is when the load shape set the new count.
    Otherwise it is drawn at the stamp of the row that first shows it.
    """
    analysis = model.analysis
    if analysis.users is not None and not analysis.users.empty:
        t = analysis.users["timestamp"].to_numpy(dtype=float) - analysis.t0
        users = analysis.users["users"].to_numpy(dtype=float)
        changes = [p.start - analysis.t0 for p in analysis.phases]
        if analysis.phases:
            changes.append(analysis.phases[-1].end - analysis.t0)
        x = _snap_changes(t, users, np.array(changes, dtype=float))
    else:
        phases = [p for p in analysis.phases if p.users is not None]
        if not phases:
            return None
        x = np.array([p.start - analysis.t0 for p in phases] + [phases[-1].end - analysis.t0])
        users = np.array([float(p.users or 0) for p in phases] + [float(phases[-1].users or 0)])
    return _clip_steps(x, users, lo, hi)


def _snap_changes(t: np.ndarray, users: np.ndarray, changes: np.ndarray) -> np.ndarray:
    """Where each history row's count begins: its stamp, or the phase change that explains it."""
    x = t.copy()
    unused = np.ones(len(changes), dtype=bool)
    for i in range(1, len(t)):
        if users[i] == users[i - 1]:
            continue
        fits = unused & (changes > t[i - 1]) & (changes < t[i] + 1.0)
        if fits.any():
            j = int(np.flatnonzero(fits)[0])
            unused[j] = False
            x[i] = max(changes[j], x[i - 1])
    return x


def _clip_steps(
    x: np.ndarray, y: np.ndarray, lo: float, hi: float
) -> tuple[np.ndarray, np.ndarray] | None:
    """Steps (each value from its x on) cut to ``[lo, hi]``, the last one drawn up to ``hi``."""
    if len(x) == 0:
        return None
    before = np.flatnonzero(x <= lo + _EPS)
    inside = (x > lo + _EPS) & (x < hi - _EPS)
    xs, ys = list(x[inside]), list(y[inside])
    if len(before):
        xs, ys = [lo, *xs], [float(y[before[-1]]), *ys]
    if not xs:
        return None
    xs.append(max(hi, xs[-1]))
    ys.append(ys[-1])
    return np.array(xs, dtype=float), np.array(ys, dtype=float)


def _draw_limits(ax: Axes, limits: Limit, degraded_label: str, critical_label: str) -> None:
    """The two threshold lines of one metric, dashed in their level's colour."""
    for value, level, label in (
        (limits.healthy, "degraded", degraded_label),
        (limits.degraded, "critical", critical_label),
    ):
        ax.axhline(value, color=LEVEL_COLOURS[level], ls="--", lw=1, label=label.format(value))


def _timeline_figure(model: ReportModel, title: str) -> tuple[Figure, Axes]:
    figure, ax = _figure(title)
    _shade_phases(ax, model)
    return figure, ax


def _figure(title: str, height: float = SIZE[1]) -> tuple[Figure, Axes]:
    figure = Figure(figsize=(SIZE[0], height), dpi=DPI, layout="constrained")
    FigureCanvasAgg(figure)
    ax = figure.add_subplot()
    ax.set_title(title, loc="left", fontsize=11)
    return figure, ax


def _shade_phases(ax: Axes, model: ReportModel, labels: bool = True) -> None:
    t0 = model.analysis.t0
    for i, phase in enumerate(model.analysis.phases):
        start, end = phase.start - t0, phase.end - t0
        ax.axvspan(start, end, color=PHASE_COLOURS[i % len(PHASE_COLOURS)], zorder=0, lw=0)
        if not labels:
            continue
        ax.annotate(
            phase.name,
            ((start + end) / 2, 1.0),
            xycoords=("data", "axes fraction"),
            ha="center",
            va="top",
            fontsize=8,
            color="#37474f",
            xytext=(0, -3),
            textcoords="offset points",
        )


def _finish(
    ax: Axes,
    line: Timeline | None,
    twin: Axes | None = None,
    xlabel: str | None = "seconds since the start of the run",
) -> None:
    """The x label (None: keep the chart's own), the time span and the legend below the axes."""
    if xlabel is not None:
        ax.set_xlabel(xlabel)
    if line is not None:
        ax.set_xlim(line.lo, line.hi)
    ax.grid(alpha=0.3)
    handles, labels = ax.get_legend_handles_labels()
    if twin is not None:
        more = twin.get_legend_handles_labels()
        handles, labels = handles + more[0], labels + more[1]
    if handles:
        ax.legend(
            handles,
            labels,
            loc="upper left",
            fontsize=8,
            ncols=min(len(labels), 5),
            framealpha=0.85,
            bbox_to_anchor=(0, -0.18),
        )


def _error_rate(series: pd.DataFrame) -> np.ndarray:
    rps = series["rps"].to_numpy(dtype=float)
    fails = series["fail_per_s"].to_numpy(dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(rps > 0, fails / rps * 100, np.nan)


def _png(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=DPI)
    return buffer.getvalue()
