"""PNG charts of a report, drawn on matplotlib's Agg canvas directly.

Figures are created without pyplot, so no display, global backend or figure registry is
involved (nothing to close, safe next to other matplotlib users in the same process).

Series arrive already bucketed (at most ~1,800 points, see ``analysis.chart_bucket``), so each
chart costs a fraction of a second even for an hour-long run.
"""

from __future__ import annotations

import io
from collections.abc import Callable

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from perf_lib.thresholds import Limit
from reports.report import ReportModel

LEVEL_COLOURS = {"healthy": "#2e7d32", "degraded": "#ef8f00", "critical": "#c62828"}
PHASE_COLOURS = ("#e3f2fd", "#fff3e0", "#e8f5e9", "#f3e5f5", "#fffde7", "#e0f7fa")
SIZE = (10.0, 3.6)
DPI = 100


def _draw_limits(ax: Axes, limits: Limit, degraded_label: str, critical_label: str) -> None:
    """The two threshold lines of one metric, dashed in their level's colour."""
    for value, level, label in (
        (limits.healthy, "degraded", degraded_label),
        (limits.degraded, "critical", critical_label),
    ):
        ax.axhline(value, color=LEVEL_COLOURS[level], ls="--", lw=1, label=label.format(value))


def render_all(model: ReportModel) -> dict[str, bytes]:
    """Every chart that the data supports, by file name, in reading order."""
    charts: dict[str, Callable[[ReportModel], Figure | None]] = {
        "latency.png": latency_chart,
        "throughput.png": throughput_chart,
        "errors.png": errors_chart,
        "endpoints.png": endpoints_chart,
        "recovery.png": recovery_chart,
        "server.png": server_chart,
        "drift.png": drift_chart,
    }
    out = {}
    for name, draw in charts.items():
        figure = draw(model)
        if figure is not None:
            out[name] = _png(figure)
    return out


def latency_chart(model: ReportModel) -> Figure | None:
    timeline = _timeline(model, "Response time over the run (by send time)")
    if timeline is None:
        return None
    figure, ax, series, t = timeline
    for column, label, colour, width in (
        ("p50_ms", "p50", "#64b5f6", 1.2),
        ("p95_ms", "p95", "#1565c0", 1.8),
        ("p99_ms", "p99", "#6a1b9a", 1.2),
    ):
        ax.plot(t, series[column].to_numpy(dtype=float), label=label, color=colour, lw=width)
    limits = model.thresholds.limits_for(None)["p95_ms"]
    _draw_limits(ax, limits, "p95 degraded from {:g} ms", "p95 critical above {:g} ms")
    values = series[["p50_ms", "p99_ms"]].to_numpy(dtype=float)
    positive = values[np.isfinite(values) & (values > 0)]
    if positive.size:
        ax.set_yscale("log")
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
        ax.set_ylim(max(positive.min() * 0.7, 0.01), max(positive.max(), limits.degraded) * 1.6)
    ax.set_ylabel("ms (log scale)")
    _finish(ax, model)
    return figure


def throughput_chart(model: ReportModel) -> Figure | None:
    timeline = _timeline(model, "Throughput and users")
    if timeline is None:
        return None
    figure, ax, series, t = timeline
    ax.plot(t, series["rps"].to_numpy(dtype=float), color="#1565c0", lw=1.5, label="requests/s")
    ax.set_ylabel("requests/s")
    ax.set_ylim(bottom=0)
    twin = ax.twinx()
    users = _users(model)
    if users is not None:
        twin.step(users[0], users[1], where="post", color="#455a64", lw=1.5, ls="--", label="users")
        twin.set_ylim(0, max(float(np.nanmax(users[1])), 1) * 1.25)
    twin.set_ylabel("users")
    _finish(ax, model, twin)
    return figure


def errors_chart(model: ReportModel) -> Figure | None:
    timeline = _timeline(model, "Failures over the run")
    if timeline is None:
        return None
    figure, ax, series, t = timeline
    edges = np.append(t, t[-1] + model.analysis.bucket_s) if len(t) else t
    ax.stairs(
        np.nan_to_num(series["fail_per_s"].to_numpy(dtype=float)),
        edges,
        fill=True,
        color=LEVEL_COLOURS["critical"],
        alpha=0.5,
        label="failures/s",
    )
    ax.set_ylabel("failures/s")
    ax.set_ylim(bottom=0, top=max(float(np.nanmax(series["fail_per_s"], initial=0)), 1) * 1.2)
    twin = ax.twinx()
    rate = _error_rate(series)
    twin.plot(t, rate, color="#4e342e", lw=1.2, label="error rate %")
    limits = model.thresholds.limits_for(None)["error_rate_pct"]
    _draw_limits(twin, limits, "degraded from {:g} %", "critical above {:g} %")
    top = float(np.nanmax(rate, initial=0.0))
    twin.set_ylim(0, max(top, limits.degraded) * 1.25)
    twin.set_ylabel("error rate %")
    _finish(ax, model, twin)
    return figure


def endpoints_chart(model: ReportModel) -> Figure | None:
    endpoints = model.report["endpoints"]
    if not endpoints:
        return None
    height = max(2.2, 0.45 * len(endpoints) + 1.2)
    figure = Figure(figsize=(SIZE[0], height), dpi=DPI, layout="constrained")
    FigureCanvasAgg(figure)
    ax = figure.add_subplot()
    ax.set_title(
        "p95 per endpoint (whole run), coloured by the endpoint's verdict", loc="left", fontsize=11
    )
    names = [e["name"] for e in endpoints][::-1]
    values = [e["p95_ms"] or 0.0 for e in endpoints][::-1]
    colours = [LEVEL_COLOURS[e["verdict"]] for e in endpoints][::-1]
    bars = ax.barh(names, values, color=colours)
    for bar, value in zip(bars, values, strict=True):
        ax.annotate(
            f" {value:,.1f} ms",
            (bar.get_width(), bar.get_y() + bar.get_height() / 2),
            va="center",
            fontsize=9,
        )
    limits = model.thresholds.limits_for(None)["p95_ms"]
    ax.axvline(limits.healthy, color=LEVEL_COLOURS["degraded"], ls="--", lw=1)
    ax.axvline(limits.degraded, color=LEVEL_COLOURS["critical"], ls="--", lw=1)
    ax.set_xlim(0, max(max(values), limits.degraded) * 1.15)
    ax.set_xlabel("p95 ms (dashed: default degraded and critical limits)")
    ax.grid(axis="x", alpha=0.3)
    return figure


def recovery_chart(model: ReportModel) -> Figure | None:
    recovery = model.recovery
    if recovery is None or not recovery.samples:
        return None
    figure, ax = _figure(
        "Recovery after the spike: p95 of each 3 s window vs the normal p95 + 10 %"
    )
    samples = recovery.samples
    t = np.array([s.offset_s for s in samples], dtype=float)
    p95 = np.array([s.p95_ms for s in samples])
    ok = np.array([s.ok for s in samples])
    ax.plot(t, p95, color="#1565c0", lw=1.2, label="window p95")
    ax.scatter(
        t[ok], p95[ok], color=LEVEL_COLOURS["healthy"], s=14, zorder=3, label="back to normal"
    )
    ax.scatter(t[~ok], p95[~ok], color=LEVEL_COLOURS["critical"], s=14, zorder=3, label="not yet")
    ax.axhline(
        recovery.limit_p95_ms,
        color="#455a64",
        ls="--",
        lw=1,
        label=f"limit {recovery.limit_p95_ms:,.1f} ms",
    )
    if recovery.seconds is not None:
        ax.axvline(
            recovery.seconds,
            color=LEVEL_COLOURS[recovery.level.label],
            lw=2,
            label=f"recovered after {recovery.seconds} s",
        )
    ax.set_xlabel("seconds after the end of the spike")
    ax.set_ylabel("ms")
    ax.set_ylim(0, max(float(np.nanmax(p95)), recovery.limit_p95_ms) * 1.45)
    ax.grid(alpha=0.3)
    ax.legend(loc="upper right", fontsize=8)
    return figure


def server_chart(model: ReportModel) -> Figure | None:
    server = model.server
    if server is None or (server.timing is None and server.history is None):
        return None
    figure, ax = _figure("Server side against client side (p95)")
    _shade_phases(ax, model)
    series = model.analysis.series
    ax.plot(
        series.index.to_numpy(dtype=float),
        series["p95_ms"].to_numpy(dtype=float),
        color="#1565c0",
        lw=1.5,
        label="client p95",
    )
    timing, history = server.timing, server.history
    if timing is not None and "server_p95_ms" in timing:
        ax.plot(
            timing.index.to_numpy(dtype=float),
            timing["server_p95_ms"].to_numpy(dtype=float),
            color="#2e7d32",
            lw=1.5,
            label="server p95 (Server-Timing)",
        )
    if history is not None and "p95_ms" in history:
        ax.plot(
            history.index.to_numpy(dtype=float),
            history["p95_ms"].to_numpy(dtype=float),
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
        rate = timing["cache_hit_rate_pct"]
    elif history is not None and "cache_hit_rate_pct" in history:
        rate = history["cache_hit_rate_pct"]
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
    _finish(ax, model, twin)
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
        label=f"fit {drift.summary['p95_slope_ms_per_min']:+,.1f} ms/min",
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
    _finish(ax, model, twin)
    return figure


def _timeline(
    model: ReportModel, title: str
) -> tuple[Figure, Axes, pd.DataFrame, np.ndarray] | None:
    """A chart over the run's time series, phases shaded: figure, axes, series, times."""
    series = model.analysis.series
    if series.empty:
        return None
    figure, ax = _figure(title)
    _shade_phases(ax, model)
    return figure, ax, series, series.index.to_numpy(dtype=float)


def _figure(title: str, height: float = SIZE[1]) -> tuple[Figure, Axes]:
    figure = Figure(figsize=(SIZE[0], height), dpi=DPI, layout="constrained")
    FigureCanvasAgg(figure)
    ax = figure.add_subplot()
    ax.set_title(title, loc="left", fontsize=11)
    return figure, ax


def _shade_phases(ax: Axes, model: ReportModel) -> None:
    t0 = model.analysis.t0
    for i, phase in enumerate(model.analysis.phases):
        start, end = phase.start - t0, phase.end - t0
        ax.axvspan(start, end, color=PHASE_COLOURS[i % len(PHASE_COLOURS)], zorder=0, lw=0)
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


def _finish(ax: Axes, model: ReportModel, twin: Axes | None = None) -> None:
    ax.set_xlabel("seconds since the start of the run")
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


def _users(model: ReportModel) -> tuple[np.ndarray, np.ndarray] | None:
    analysis = model.analysis
    if analysis.users is not None and not analysis.users.empty:
        return (
            analysis.users["timestamp"].to_numpy(dtype=float) - analysis.t0,
            analysis.users["users"].to_numpy(dtype=float),
        )
    phases = [p for p in analysis.phases if p.users is not None]
    if not phases:
        return None
    t = [p.start - analysis.t0 for p in phases] + [phases[-1].end - analysis.t0]
    users = [float(p.users or 0) for p in phases] + [float(phases[-1].users or 0)]
    return np.array(t), np.array(users)


def _error_rate(series: pd.DataFrame) -> np.ndarray:
    rps = series["rps"].to_numpy(dtype=float)
    fails = series["fail_per_s"].to_numpy(dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(rps > 0, fails / rps * 100, np.nan)


def _png(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=DPI)
    return buffer.getvalue()
