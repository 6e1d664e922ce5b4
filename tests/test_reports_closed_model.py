"""A closed run's stalls, found second by second: the users sent less while a reply stalled."""

from __future__ import annotations

import numpy as np

from reports.closed_model import held_back_seconds
from reports.phases import Phase


def closed_log(stall_every_s: int | None) -> tuple[np.ndarray, np.ndarray]:
    """40 s of 1,000 requests a second at 5 ms; with stalls, every ``stall_every_s`` seconds
    half a second sends nothing and the requests it held took up to 500 ms."""
    stamps, times = [], []
    for second in range(40):
        stalled = stall_every_s is not None and second % stall_every_s == 0 and second > 0
        count = 500 if stalled else 1000
        stamps.extend(1000.0 + second + np.arange(count) / 1000.0)
        times.extend([5.0] * count)
        if stalled:
            times[-count] = 500.0  # the request that met the stall
    return np.array(stamps), np.array(times)


def test_seconds_held_back_by_a_stall_are_found():
    found = held_back_seconds(*closed_log(stall_every_s=5), [Phase("steady", 1000.0, 1040.0)])
    assert found is not None
    # Seconds 5, 10, ... 35 lie inside [1001, 1039): seven stalls, 38 seconds judged.
    assert (found.periods, found.judged_s) == (7, 38)
    assert (found.fewest_sent, found.median_sent, found.slowest_ms) == (500, 1000.0, 500.0)


def test_a_stall_astride_two_clock_seconds_is_found_as_well():
    stamps, times = closed_log(stall_every_s=5)
    found = held_back_seconds(stamps + 0.5, times, [Phase("steady", 1000.0, 1040.0)])
    assert found is not None and found.periods == 7


def test_a_steady_run_and_a_single_slow_second_hide_nothing():
    phases = [Phase("steady", 1000.0, 1040.0)]
    assert held_back_seconds(*closed_log(stall_every_s=None), phases) is None
    assert held_back_seconds(*closed_log(stall_every_s=30), phases) is None  # one: chance
