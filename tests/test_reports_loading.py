"""Reading one CSV: known damage (a cut-off last line) is dropped, the columns are typed."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from reports import loading, run_format
from reports.loading import read_checked_csv
from reports.run_format import Column
from reports.rundir import names_by_method

COLUMNS = (Column("a", "float"), Column("b", "str", required=False, empty_ok=True))


@pytest.mark.parametrize(
    ("content", "rows", "truncated"),
    [
        (b"a,b\n1,x\n2,y\n", 2, False),
        (b"a,b\r\n1,x\r\n2,y\r\n", 2, False),
        (b"a,b\n1,x\n2,y\n3.1", 2, True),  # cut in the middle of a number
        (b'a,b\n1,x\n2,"unterminated', 1, True),
        (b"\xef\xbb\xbfa,b\n1,x\n", 1, False),  # a byte-order mark
    ],
)
def test_truncated_last_line(tmp_path, content, rows, truncated):
    path = tmp_path / "f.csv"
    path.write_bytes(content)
    table = read_checked_csv(path, COLUMNS, what="test")
    assert (len(table.frame), table.truncated) == (rows, truncated)
    assert table.frame["a"].dtype == np.float64


def test_columns_are_the_run_formats():
    from reports import rundir

    assert loading.Column is run_format.Column
    assert rundir.REQUEST_COLUMNS is run_format.REQUEST_COLUMNS
    assert rundir.SERVER_COLUMNS is run_format.SERVER_COLUMNS
    assert rundir.LOCUST_CPU_WARNING is run_format.LOCUST_CPU_WARNING


def test_a_name_sent_with_two_methods_is_split_by_method_and_others_stay():
    frame = pd.DataFrame(
        {
            "name": ["/orders", "/orders", "/orders", "/health", "/x"],
            "request_type": ["GET", "POST", "GET", "GET", ""],
        }
    )
    assert list(names_by_method(frame)) == [
        "GET /orders",
        "POST /orders",
        "GET /orders",
        "/health",
        "/x",
    ]
    assert list(names_by_method(frame.drop(columns="request_type"))) == list(frame["name"])
