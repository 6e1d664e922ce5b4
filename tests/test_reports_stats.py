"""Exact grouped statistics: every figure is numpy's own percentile of the group's values."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from reports.stats import group_stats, grouped_quantiles
from tests.examples import examples


@settings(max_examples=examples(60), deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 4), st.floats(0, 1e5, allow_nan=False, allow_infinity=False)),
        min_size=1,
        max_size=200,
    )
)
def test_grouped_quantiles_match_numpy(pairs):
    codes = np.array([c for c, _ in pairs])
    values = np.array([v for _, v in pairs])
    result = grouped_quantiles(codes, values, 6, (0.5, 0.95, 0.99))
    for group in range(6):
        chosen = values[codes == group]
        if len(chosen) == 0:
            assert np.isnan(result[group]).all()
        else:
            np.testing.assert_allclose(
                result[group], np.percentile(chosen, [50, 95, 99]), rtol=1e-12, atol=1e-9
            )


def test_group_stats_counts_and_means():
    frame = group_stats(
        np.array([0, 0, 1, 1, 1]),
        np.array([1.0, 3.0, 10, 20, 30]),
        np.array([False, True, False, False, False]),
        3,
    )
    assert frame["requests"].tolist() == [2, 3, 0]
    assert frame["failures"].tolist() == [1, 0, 0]
    assert frame["error_rate_pct"].tolist()[:2] == [50.0, 0.0]
    assert frame["avg_ms"].tolist()[:2] == [2.0, 20.0]
    assert np.isnan(frame.loc[2, "p95_ms"])
