"""The rules of /api/v1/historical that need no database: parameters and the row limit."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from market_api.errors import InvalidInput
from market_api.history import MAX_BARS, business_days, parse_request

dates = st.dates(min_value=date(1, 1, 1), max_value=date(9999, 12, 30))


@given(dates, dates)
def test_business_days_count_mondays_to_fridays_inclusive(first, second):
    start, end = min(first, second), max(first, second)
    expected = np.busday_count(np.datetime64(start), np.datetime64(end + timedelta(days=1)))
    assert business_days(start, end) == expected
    assert business_days(end + timedelta(days=1), start) == 0


def test_parameters_are_kept_as_given_for_the_cache_key():
    wanted = parse_request({"symbol": "BRK.B", "start": "2024-01-02"})
    assert (wanted.symbol, wanted.start, wanted.end) == ("BRK.B", date(2024, 1, 2), None)
    assert (wanted.start_text, wanted.end_text) == ("2024-01-02", None)


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({}, "symbol is required"),
        ({"symbol": "AAPL\n"}, "symbol is malformed"),
        ({"symbol": "AAPL", "end": "2024-02-30"}, "end is not a valid calendar date"),
        ({"symbol": "AAPL", "start": "2024-03-01", "end": "2024-02-01"}, "start is after end"),
        (
            {"symbol": "AAPL", "start": "1990-01-01", "end": "2024-01-01"},
            f"the range spans more than {MAX_BARS} business days",
        ),
    ],
)
def test_invalid_parameters_are_named_not_quoted(params, message):
    with pytest.raises(InvalidInput) as raised:
        parse_request(params)
    assert raised.value.detail == message
