"""Locust's own CSVs rebuilt into a request log, for a run that has none.

Everything after reading works on one per-request frame with ``requests.csv``'s columns, so a
run that only kept ``locust_stats.csv`` and ``locust_stats_history.csv`` is turned into such a
frame here, approximately, and then analysed like any other. What is exact and what is not:

- Counts and failures per endpoint and second are the differences of the history's cumulative
  totals (a drop is a stats reset: the count started again from zero), spread evenly over the
  second. ``locust_stats.csv`` adds whatever the history had not counted yet: Locust rewrites
  neither file at shutdown, so either can be a second stale, and the larger count wins.
- Response times are not kept by Locust, only percentiles, rounded (147 ms is stored as 150)
  and over a sliding ~10 s window. A second's requests get the quantile function of the window
  centred on that second at evenly spaced ranks: linear between the 50th, 95th and 99th
  percentiles, flat above the 99th. Below the median Locust keeps nothing; there the times ramp
  up from a floor to the median, the floor chosen so that the second's mean is Locust's exact
  one (from its cumulative average). When no floor can do that, either the window holds other
  seconds' slower load and the second's times are scaled down to its mean, or the second held a
  slow request that the window's percentiles do not show, and the missing time goes to its
  slowest request. So means are exact; percentiles are estimates that blur a change of load
  over the window, by up to ~5 s either way.
- Failure messages are locust_failures.csv's, shared among an endpoint's failed requests in
  proportion to their occurrences.

The rebuilt frame has no ``server_ms`` or ``x_cache``, so the server's side comes from
server_history.csv. The report names the source and warns. This module only reshapes data: it
reads no phases and computes no statistics, so reading never depends on the analysis.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from reports.run_format import LOCUST_AGGREGATED

#: The ``source`` of a report whose requests were rebuilt here.
SOURCE = "Locust stats (approximate: requests rebuilt from locust_stats_history.csv)"
#: Locust writes a history row per endpoint once a second, and its percentiles cover the
#: ~10 s before the row: the window centred on a second is that of the row 5 s later.
HISTORY_INTERVAL_S = 1.0
CENTRE = 5
#: Each rebuilt request costs memory and time like a logged one: beyond this many, the run's
#: request log is needed.
MAX_REBUILT_REQUESTS = 5_000_000
#: The name of every rebuilt request when neither CSV tells the endpoints apart.
ALL_REQUESTS = "all requests"
_KNOTS = np.array([0.50, 0.95, 0.99])
_KNOT_COLUMNS = ["50%", "95%", "99%"]
_KEY = ["Type", "Name"]


def users_series(history: pd.DataFrame) -> pd.DataFrame:
    """Absolute timestamp and user count, one row per history sample, sorted by time."""
    rows = history[history["Name"] == LOCUST_AGGREGATED].sort_values("Timestamp", kind="stable")
    return pd.DataFrame(
        {"timestamp": rows["Timestamp"].to_numpy(), "users": rows["User Count"].to_numpy()}
    )


def rebuild_requests(
    stats: pd.DataFrame, history: pd.DataFrame, failures: pd.DataFrame | None
) -> pd.DataFrame:
    """A time-sorted request frame (timestamp, name, response_time_ms, success, exception).

    Raises ``ValueError`` when Locust counted no request at all, or too many to rebuild.
    """
    per_endpoint = history["Name"] != LOCUST_AGGREGATED
    by_endpoint = bool(per_endpoint.any())
    rows = _increments(history[per_endpoint] if by_endpoint else history[~per_endpoint])
    stats_rows = stats[(stats["Name"] != LOCUST_AGGREGATED) == by_endpoint]
    rows = pd.concat([rows, _unseen(rows, stats_rows, float(history["Timestamp"].max()))])
    rows = rows[rows["n"] > 0].reset_index(drop=True)
    total = float(rows["n"].sum())
    if total == 0:
        raise ValueError("Locust counted no request: there is nothing to report")
    if total > MAX_REBUILT_REQUESTS:
        raise ValueError(
            f"Locust counted {total:,.0f} requests, more than the {MAX_REBUILT_REQUESTS:,} a "
            "report can rebuild without a request log: keep requests.csv for such a run"
        )
    row, ts, response_ms, failed = _expand(rows)
    order = np.argsort(ts, kind="stable")
    row, ts, response_ms, failed = row[order], ts[order], response_ms[order], failed[order]
    if by_endpoint:
        names, codes = np.unique(rows["Name"].to_numpy(dtype=object), return_inverse=True)
        code = codes[row]
    else:
        names, code = _shared_names(stats[stats["Name"] != LOCUST_AGGREGATED], len(ts))
    return pd.DataFrame(
        {
            "timestamp": ts,
            "name": pd.Categorical.from_codes(code, categories=list(names)),
            "response_time_ms": response_ms,
            "success": ~failed,
            "exception": _messages(failed, code, list(names), failures),
        }
    )


def _increments(history: pd.DataFrame) -> pd.DataFrame:
    """Per history row: the requests it added, their failures, their mean and its window."""
    rows = history.sort_values([*_KEY, "Timestamp"], kind="stable")
    key = (rows["Type"].astype(str) + "\x00" + rows["Name"].astype(str)).to_numpy(dtype=object)
    first = np.r_[True, key[1:] != key[:-1]] if len(key) else np.zeros(0, bool)
    t = rows["Timestamp"].to_numpy(dtype=float)
    count = rows["Total Request Count"].to_numpy(dtype=float)
    fails = rows["Total Failure Count"].to_numpy(dtype=float)
    total_ms = rows["Total Average Response Time"].to_numpy(dtype=float) * count

    def before(values: np.ndarray) -> np.ndarray:
        return np.r_[0.0, values[:-1]] if len(values) else values

    restart = first | (count < before(count))  # a new endpoint, or a stats reset
    n = np.maximum(np.where(restart, count, count - before(count)), 0)
    failed = np.clip(np.where(restart, fails, fails - before(fails)), 0, n)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(restart, total_ms, total_ms - before(total_ms)) / n
    knots = rows[_KNOT_COLUMNS].to_numpy(dtype=float, copy=True)
    # Locust writes 0 for every percentile while its window holds no response time yet
    knots[(knots == 0).all(axis=1) & (mean > 0)] = np.nan
    return pd.DataFrame(
        {
            "Type": rows["Type"].to_numpy(),
            "Name": rows["Name"].to_numpy(),
            "start": np.where(first, t - HISTORY_INTERVAL_S, before(t)),
            "end": t,
            "n": n,
            "failed": failed,
            "mean": mean,
            **_filled(knots, key),
        }
    )


def _filled(knots: np.ndarray, key: np.ndarray) -> dict[str, np.ndarray]:
    """Per row, the percentiles of the window centred on its second: the row ``CENTRE`` rows
    later (its window covers the seconds before and after); a missing one (Locust's N/A, or
    past the end) taken from the nearest row of the same endpoint, else from the row's other
    percentiles."""
    frame = pd.DataFrame(knots, columns=_KNOT_COLUMNS)
    if len(frame):
        frame = frame.groupby(key, sort=False).shift(-CENTRE).fillna(frame)
        groups = frame.groupby(key, sort=False)
        frame = groups.ffill().fillna(groups.bfill())
        frame = _between_knots(frame)
    return {column: frame[column].to_numpy(dtype=float) for column in _KNOT_COLUMNS}


def _between_knots(frame: pd.DataFrame) -> pd.DataFrame:
    """A percentile still missing is interpolated by rank between the row's others."""
    by_rank = frame.set_axis(_KNOTS, axis=1)
    filled = by_rank.interpolate(method="index", axis=1, limit_direction="both")
    return filled.set_axis(_KNOT_COLUMNS, axis=1)


def _unseen(rows: pd.DataFrame, stats: pd.DataFrame, last: float) -> pd.DataFrame:
    """What locust_stats.csv counted beyond the history, one row per endpoint after its end."""
    stats = stats.drop_duplicates(_KEY, keep="last").set_index(_KEY)
    seen = rows.assign(total_ms=rows["n"] * rows["mean"]).groupby(_KEY)[["n", "failed", "total_ms"]]
    seen = seen.sum().reindex(stats.index, fill_value=0.0)
    n = np.maximum(stats["Request Count"].to_numpy(dtype=float) - seen["n"].to_numpy(), 0)
    failed = np.clip(stats["Failure Count"].to_numpy(dtype=float) - seen["failed"].to_numpy(), 0, n)
    with np.errstate(invalid="ignore", divide="ignore"):
        total_ms = stats["Average Response Time"].to_numpy(dtype=float) * stats[
            "Request Count"
        ].to_numpy(dtype=float)
        mean = (total_ms - seen["total_ms"].to_numpy()) / n
    knots = _between_knots(pd.DataFrame(stats[_KNOT_COLUMNS].to_numpy(dtype=float)))
    return pd.DataFrame(
        {
            "Type": stats.index.get_level_values(0),
            "Name": stats.index.get_level_values(1),
            "start": last,
            "end": last + HISTORY_INTERVAL_S,
            "n": n,
            "failed": failed,
            "mean": mean,
            **{c: knots[c].to_numpy() for c in _KNOT_COLUMNS},
        }
    )


def _expand(rows: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """One request per counted request: its row, send time, response time and failure."""
    n = rows["n"].to_numpy(dtype=np.int64)
    row = np.repeat(np.arange(len(n)), n)
    j = np.arange(len(row)) - np.repeat(np.cumsum(n) - n, n)
    rank = (j + 0.5) / n[row]
    start, end = rows["start"].to_numpy(dtype=float), rows["end"].to_numpy(dtype=float)
    ts = start[row] + rank * np.maximum(end - start, 0.0)[row]
    knots = _knot_values(rows)
    response_ms = _quantile(knots, row, rank, _floor(knots, rows, row, rank))
    response_ms = _to_mean(response_ms, row, rows)
    fails = rows["failed"].to_numpy(dtype=np.int64)[row]
    failed = (j + 1) * fails // n[row] > j * fails // n[row]  # evenly spread over the row
    return row, ts, response_ms, failed


def _to_mean(values: np.ndarray, row: np.ndarray, rows: pd.DataFrame) -> np.ndarray:
    """Each row's values brought to the row's exact mean where the floor alone could not.

    A mean above what the window's shape allows is a slow request the window's percentiles do
    not show: the missing time goes to the row's slowest request. A mean below it is a window
    that holds other seconds' slower load: the row is scaled down.
    """
    n = rows["n"].to_numpy(dtype=float)
    target = rows["mean"].to_numpy(dtype=float) * n
    actual = np.bincount(row, weights=values, minlength=len(n))
    known = np.isfinite(target) & (target >= 0)
    missing = np.where(known, target - actual, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        factor = np.where(known & (missing < 0) & (actual > 0), target / actual, 1.0)
    values = values * factor[row]
    slowest = np.cumsum(n.astype(np.int64)) - 1
    values[slowest] += np.maximum(missing, 0.0)
    return values


def _knot_values(rows: pd.DataFrame) -> np.ndarray:
    """The rows' percentiles, non-decreasing and >= 0; a row without any gets its mean (or 0)."""
    knots = rows[_KNOT_COLUMNS].to_numpy(dtype=float)
    mean = rows["mean"].to_numpy(dtype=float)
    fill = np.where(np.isfinite(mean) & (mean >= 0), mean, 0.0)
    knots = np.where(np.isnan(knots), fill[:, None], knots)
    return np.maximum.accumulate(np.clip(knots, 0.0, None), axis=1)


def _quantile(
    knots: np.ndarray, row: np.ndarray, rank: np.ndarray, floor: np.ndarray
) -> np.ndarray:
    """Piecewise-linear quantile function per row: ``floor`` at rank 0, the knots above."""
    segment = np.searchsorted(_KNOTS, rank, side="right") - 1
    low = np.clip(segment, 0, len(_KNOTS) - 1)
    high = np.minimum(low + 1, len(_KNOTS) - 1)
    span = np.where(high > low, _KNOTS[high] - _KNOTS[low], 1.0)
    share = np.where(high > low, (rank - _KNOTS[low]) / span, 0.0)
    values = knots[row, low] + (knots[row, high] - knots[row, low]) * share
    below = segment < 0
    median = knots[row[below], 0]
    values[below] = floor[row[below]] + (median - floor[row[below]]) * rank[below] / _KNOTS[0]
    return values


def _floor(knots: np.ndarray, rows: pd.DataFrame, row: np.ndarray, rank: np.ndarray) -> np.ndarray:
    """Per row, the time at rank 0 that makes the row's mean Locust's, within [0, median]."""
    count = len(rows)
    median = knots[:, 0]
    below = rank < _KNOTS[0]
    above_sum = np.bincount(
        row[~below], weights=_quantile(knots, row[~below], rank[~below], median), minlength=count
    )
    n_below = np.bincount(row[below], minlength=count).astype(float)
    rank_below = np.bincount(row[below], weights=rank[below], minlength=count)
    # the ramp's sum is floor * (n_below - 2 * rank_below) + median * 2 * rank_below
    target = rows["mean"].to_numpy(dtype=float) * rows["n"].to_numpy(dtype=float) - above_sum
    weight = n_below - rank_below / _KNOTS[0]
    with np.errstate(invalid="ignore", divide="ignore"):
        floor = (target - median * rank_below / _KNOTS[0]) / weight
    return np.where(np.isfinite(floor) & (weight > 0), np.clip(floor, 0.0, median), median)


def _shared_names(stats: pd.DataFrame, count: int) -> tuple[list[str], np.ndarray]:
    """Endpoint names for ``count`` time-sorted requests counted only in aggregate: each
    endpoint's share of locust_stats.csv, interleaved evenly over the run."""
    totals = stats.groupby("Name", sort=True)["Request Count"].sum()
    totals = totals[totals > 0]
    if totals.empty:
        return [ALL_REQUESTS], np.zeros(count, np.int64)
    quota = np.floor(totals.to_numpy(dtype=float) * count / float(totals.sum()) + 0.5)
    quota = np.maximum(quota, 0).astype(np.int64)
    if quota.sum() == 0:
        quota[int(np.argmax(totals.to_numpy()))] = 1
    code = np.repeat(np.arange(len(quota)), quota)
    place = (np.arange(len(code)) - np.repeat(np.cumsum(quota) - quota, quota) + 0.5) / quota[code]
    sequence = code[np.argsort(place, kind="stable")]
    return [str(n) for n in totals.index], sequence[np.arange(count) * len(sequence) // count]


def _messages(
    failed: np.ndarray, code: np.ndarray, names: list[str], failures: pd.DataFrame | None
) -> np.ndarray:
    """locust_failures.csv's errors, given to each endpoint's failed requests in time order in
    proportion to their occurrences; an empty string where Locust listed none."""
    messages = np.full(len(failed), "", dtype=object)
    if failures is None or failures.empty or not failed.any():
        return messages
    listed = failures[failures["Occurrences"] > 0].sort_values(
        "Occurrences", ascending=False, kind="stable"
    )
    at = np.flatnonzero(failed)
    at = at[np.argsort(code[at], kind="stable")]
    per_code = np.bincount(code[at], minlength=len(names))
    starts = np.cumsum(per_code) - per_code
    for name, errors in listed.groupby("Name", sort=False):
        if name not in names:
            continue
        c = names.index(name)
        mine = at[starts[c] : starts[c] + per_code[c]]
        if not len(mine):
            continue
        weights = np.cumsum(errors["Occurrences"].to_numpy(dtype=float))
        share = np.arange(len(mine)) * weights[-1] / len(mine)
        chosen = np.searchsorted(weights, share, side="right")
        messages[mine] = errors["Error"].to_numpy(dtype=object)[chosen]
    return messages
