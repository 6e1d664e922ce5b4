"""Latency measured from the intended start: what a client arriving on schedule would see.

A closed-model user waits for each reply before sending again, so a slow period holds back the
requests that would have met it, and the measured times under-count it (coordinated omission).
An open-model run logs when each request should have been sent (``intended_start``) beside
when it was (``timestamp``). Its latency is ``end - intended_start``: the measured response time
plus the send lag. A request sent early (timer jitter) is no faster for it, so a negative lag
counts as none: the corrected time is never below the measured one.

Correcting the request frame as it is read keeps one path for the analysis: every percentile,
verdict, degradation and recovery then uses the corrected time, and the measured one stays
beside it as ``uncorrected_ms`` for the report to show. This module reads nothing and knows no
phases, so the reading side can use it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

INTENDED = "intended_start"
MEASURED = "response_time_ms"
#: The column that keeps the time measured from the actual send once a frame is corrected.
UNCORRECTED = "uncorrected_ms"
FROM_INTENDED = "intended start (open model: end − intended_start)"
FROM_SEND = "actual send (closed model)"
FROM_SEND_OPEN = "actual send (open model, but the request log has no intended_start: uncorrected)"
#: Decimals of a send lag in ms. Epoch seconds held as doubles resolve about a quarter of a
#: microsecond today, so a lag is known to the microsecond at best: finer digits are noise.
LAG_DECIMALS = 3


def send_lag_ms(requests: pd.DataFrame) -> np.ndarray:
    """Each request's ``timestamp - intended_start`` in ms, never negative; NaN where the request
    has no intended start (a closed run, or a row logged without one)."""
    if INTENDED not in requests:
        return np.full(len(requests), np.nan)
    sent = requests["timestamp"].to_numpy(dtype=np.float64)
    intended = requests[INTENDED].to_numpy(dtype=np.float64)
    return np.maximum(np.round((sent - intended) * 1000.0, LAG_DECIMALS), 0.0)


def correct_latency(requests: pd.DataFrame) -> pd.DataFrame:
    """``requests`` with ``response_time_ms`` measured from the intended start and the measured
    time kept as ``uncorrected_ms``; rows without an intended start keep their own time. A frame
    with no intended start at all is returned as it is."""
    lag = send_lag_ms(requests)
    known = ~np.isnan(lag)
    if not known.any():
        return requests
    measured = requests[MEASURED].to_numpy(dtype=np.float64)
    # assign() shares the other columns (copy-on-write): a million-row log is not copied.
    return requests.assign(
        **{UNCORRECTED: measured, MEASURED: measured + np.where(known, lag, 0.0)}
    )


def is_corrected(requests: pd.DataFrame) -> bool:
    return UNCORRECTED in requests
