"""Property tests of the report loader: whatever a run directory holds, a report or one line.

Every example runs the pure analysis in-process (``analyse_run``, no charts) and then renders
every text output (report.json, report.html, summary.md, junit.xml, the terminal table), so that
a value that gets through the loader but breaks a renderer is found too. Either that succeeds or
``ReportInputError`` is raised with a one-line message; any other exception, or a numpy warning
(it would land on the CLI's stderr), fails the test.
"""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from perf_lib.thresholds import Thresholds
from reports import ReportInputError, analyse_run, render_terminal
from reports.build import dump_json
from reports.html import render_report
from reports.junit import render_junit
from reports.markdown import render_summary
from tests.examples import examples
from tests.reports_helpers import (
    START,
    spike_phases,
    spike_rows,
    sustained_rows,
    write_run,
    write_server_history,
    write_sustained,
)

pytestmark = pytest.mark.filterwarnings("error::RuntimeWarning")
ROOT = Path(__file__).resolve().parent.parent
THRESHOLDS = Thresholds()
# Which file of which run (see ``runs``) gets the arbitrary bytes.
DAMAGED_FILES = [
    ("requests.csv", "requests"),
    ("run.json", "requests"),
    ("server_history.csv", "requests"),
    ("locust_stats.csv", "requests"),
    ("locust_exceptions.csv", "requests"),
    ("locust_stats.csv", "locust"),
    ("locust_stats_history.csv", "locust"),
    ("locust_failures.csv", "locust"),
    ("run.json", "locust"),
    ("server_history.csv", "locust"),
    ("requests.csv", "spike"),
    ("locust_stats_history.csv", "spike-locust"),
]
TEXT = st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00")  # NUL: binary
# The same examples on every run, so that the time is known and a failure reproduces.
FUZZ = settings(
    max_examples=examples(30),
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[str, Path]:
    """Valid runs: a sustained one (drift, server history and all) and a spike (recovery), each
    also without a request log, so that Locust's files are the data and not just checked."""
    root = tmp_path_factory.mktemp("fuzz")
    made = {
        kind: write_run(
            root / kind / "spike-20250101T000000Z",
            spike_rows(7, recovery_s=20),
            spike_phases(20),
            requests_log=log,
        )
        for kind, log in (("spike", True), ("spike-locust", False))
    }
    for kind, log in (("requests", True), ("locust", False)):
        run_dir = write_sustained(
            root / kind / "sustained-20250101T000000Z",
            sustained_rows([20.0, 22.0, 24.0, 26.0, 28.0, 30.0], [0, 1, 0, 2, 0, 1], 2),
            60,
            requests_log=log,
        )
        write_server_history(run_dir, [100 + i / 10 for i in range(60)], list(range(60)))
        with (run_dir / "locust_failures.csv").open("a") as out:
            out.write("GET,/health,HTTPError('503 Server Error'),4,1700000010,1700000050\n")
        with (run_dir / "locust_exceptions.csv").open("a") as out:
            out.write("1,KeyError('bars'),\"Traceback...\",local\n")
        made[kind] = run_dir
    return made


@contextmanager
def variant(base: Path, replace: dict[str, bytes]) -> Iterator[Path]:
    """A throw-away copy of ``base`` with some files' content replaced."""
    with tempfile.TemporaryDirectory() as tmp:
        run_dir = Path(tmp) / base.name
        shutil.copytree(base, run_dir)
        for name, data in replace.items():
            (run_dir / name).write_bytes(data)
        yield run_dir


def outcome(run_dir: Path) -> dict[str, Any] | str:
    """The report (every text output rendered), or the one-line message of a rejection."""
    try:
        report = analyse_run(run_dir, THRESHOLDS).report
    except ReportInputError as exc:
        message = str(exc)
        assert message and "\n" not in message and "\r" not in message
        return message
    dump_json(report)
    render_report(report, {})
    render_summary(report)
    render_junit(report, "critical")
    render_terminal(report)
    return report


def numbers(report: dict[str, Any]) -> dict[str, Any]:
    """A report without what differs between two copies of one run: where and when."""
    return {
        **{k: v for k, v in report.items() if k != "generated_at"},
        "run": {k: v for k, v in report["run"].items() if k != "dir"},
    }


def _csv(rows: list[list[str]]) -> bytes:
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    return out.getvalue().encode()


# (a) arbitrary bytes, and valid files damaged in the ways files get damaged

NASTY = st.sampled_from(
    [
        b",",
        b'"',
        b"\n",
        b"\r\n",
        b"\r",
        b"\x00",
        b"\xff\xfe",
        b"\xef\xbb\xbf",
        b"nan",
        b"-inf",
        b"1e309",
        b"-1",
        b"N/A",
        b"",
        b",,,,,,,,",
        b'"a""b"',
        b"\xc3",
        "é/ü 名前".encode(),
        b"99999999999999999999999",
    ]
)


@st.composite
def damaged(draw: st.DrawFn, original: bytes) -> bytes:
    """``original`` cut, with bytes inserted, replaced or deleted at random places."""
    data = bytearray(original)
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(data)))
        op = draw(st.sampled_from(("cut", "insert", "replace", "delete")))
        if op == "cut":
            del data[at:]
        elif op == "delete":
            del data[at : at + draw(st.integers(1, 64))]
        else:
            chunk = draw(st.one_of(NASTY, st.binary(max_size=16)))
            end = at + (draw(st.integers(1, 16)) if op == "replace" else 0)
            data[at:end] = chunk
    return bytes(data)


NASTY_CELLS = st.one_of(
    st.sampled_from(
        [
            "",
            " ",
            "nan",
            "inf",
            "-inf",
            "-1",
            "-0",
            "1e300",
            "1.7e308",
            "1e23",
            "1e-320",
            "N/A",
            "null",
            "0x10",
            "1_000",
            "TRUE",
            'a"b',
            "a,b",
            "é/ü",
        ]
    ),
    st.text(TEXT, max_size=8),
)


@st.composite
def edited_cells(draw: st.DrawFn, original: bytes) -> bytes:
    """``original`` with some cells, or whole columns, set to odd values, still well-formed CSV."""
    header, *rows = list(csv.reader(io.StringIO(original.decode())))
    for _ in range(draw(st.integers(1, 6))):
        column = draw(st.integers(0, len(header) - 1))
        value = draw(NASTY_CELLS)
        chosen = rows if draw(st.booleans()) else [draw(st.sampled_from(rows))]
        for row in chosen:
            row[column] = value
    return _csv([header, *rows])


JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text(max_size=20)
    | st.sampled_from([1e30, -1e30, 1.7e308, -1.7e308, 10**20, START, START + 60]),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)


@st.composite
def run_json_docs(draw: st.DrawFn, original: bytes) -> bytes:
    """run.json with random values in its fields and in its phases' fields."""
    document = json.loads(original)
    for key in draw(st.lists(st.sampled_from(sorted(document)), unique=True, max_size=4)):
        document[key] = draw(JSON_VALUES)
    phases = document.get("phases")
    if isinstance(phases, list) and phases and isinstance(phases[0], dict):
        for key in draw(st.lists(st.sampled_from(["name", "start", "end", "users"]), max_size=3)):
            phases[0][key] = draw(JSON_VALUES)
    return json.dumps(document).encode()


def contents(original: bytes, name: str) -> st.SearchStrategy[bytes]:
    ways = [
        st.binary(max_size=512),
        st.text(max_size=512).map(str.encode),
        damaged(original),
    ]
    if name == "run.json":
        ways.append(run_json_docs(original))
    else:
        ways.append(edited_cells(original))
    return st.one_of(ways)


@pytest.mark.parametrize(("name", "kind"), DAMAGED_FILES)
def test_any_bytes_in_a_file_give_a_report_or_one_line(runs, name, kind):
    base = runs[kind]

    @FUZZ
    @given(data=contents((base / name).read_bytes(), name))
    def check(data: bytes) -> None:
        with variant(base, {name: data}) as run_dir:
            outcome(run_dir)

    check()


# (b) random rows of a request log: numbers of every kind, names of every script

VALID_CELLS = {
    "timestamp": st.floats(START - 5, START + 65).map(repr),
    "name": st.one_of(
        st.text(st.characters(blacklist_categories=("Cc", "Cs")), min_size=1, max_size=12),
        st.sampled_from(["NA", "null", "None", "nan", "N/A", "#N/A", "-", 'a"b', "a,b", "<b>"]),
    ).filter(lambda s: s.strip(" ")),
    "response_time_ms": st.one_of(st.floats(0, 1e6), st.sampled_from([0.0, 1e12, 1e15])).map(repr),
    "success": st.sampled_from(["1", "0", "true", "False", "TRUE", "1.0", "0.0"]),
    "status_code": st.one_of(st.integers(0, 599).map(str), st.just("")),
    "server_ms": st.one_of(st.floats(-1e3, 1e6).map(repr), st.just(""), st.just("nan")),
    "x_cache": st.sampled_from(["HIT", "MISS", "", "hit", "?"]),
    "exception": st.text(TEXT, max_size=30),
}
INVALID_CELLS = {
    "timestamp": st.sampled_from(["", "nan", "inf", "-1", "1700000000000", "soon", "1e309"]),
    "name": st.sampled_from([""]),
    "response_time_ms": st.sampled_from(
        ["", "nan", "inf", "-inf", "-0.5", "fast", "1e999", "1e16", "1.7e308"]
    ),
    "success": st.sampled_from(["", "2", "yes", "maybe", "-1"]),
    "status_code": st.sampled_from(["200.5", "OK", "inf", "1e300"]),
    "server_ms": st.sampled_from(["inf", "fast", "1e300"]),
}


@st.composite
def request_logs(draw: st.DrawFn) -> tuple[bytes, int, int, bool]:
    """A request log as CSV; its row count, how many rows failed, and whether all are valid."""
    columns = list(VALID_CELLS)
    rows, failed, valid = [], 0, True
    damage = draw(st.booleans())  # half the logs are all valid, the others have bad cells
    for _ in range(draw(st.integers(1, 25))):
        row = {}
        for column in columns:
            bad = damage and column in INVALID_CELLS and draw(st.integers(0, 19)) == 0
            row[column] = draw(INVALID_CELLS[column] if bad else VALID_CELLS[column])
            valid &= not bad
        failed += row["success"].lower() in ("0", "false", "0.0")
        rows.append(row)
    return _csv([columns, *([row[c] for c in columns] for row in rows)]), len(rows), failed, valid


@settings(FUZZ, max_examples=examples(120))
@given(log=request_logs())
def test_random_request_rows_are_counted_or_rejected(runs, log):
    data, count, failed, valid = log
    with variant(runs["requests"], {"requests.csv": data}) as run_dir:
        result = outcome(run_dir)
    event("report" if isinstance(result, dict) else "rejected")
    if valid:
        assert isinstance(result, dict), result
    if isinstance(result, dict):
        assert (result["totals"]["requests"], result["totals"]["failures"]) == (count, failed)
        assert sum(e["requests"] for e in result["endpoints"]) == count


# (c) the same files with their columns shuffled and extra columns added


@st.composite
def reshuffled(draw: st.DrawFn, original: bytes, extra: bool = True) -> bytes:
    """``original`` with its columns in another order and, with ``extra``, extra columns of any
    text."""
    header, *rows = list(csv.reader(io.StringIO(original.decode())))
    known = {name.strip() for name in header}
    extras = draw(
        st.lists(
            st.text(st.characters(blacklist_categories=("Cc", "Cs")), max_size=10).filter(
                lambda s: s.strip() not in known
            ),
            max_size=3 if extra else 0,
        )
    )
    names = header + extras
    order = draw(st.permutations(range(len(names))))
    filler = [draw(st.text(TEXT, max_size=10)) for _ in extras]
    return _csv([[full[i] for i in order] for full in [names, *(row + filler for row in rows)]])


@pytest.mark.parametrize("kind", ["requests", "locust"])
def test_column_order_and_extra_columns_change_nothing(runs, kind):
    base = runs[kind]
    canonical = numbers(outcome(base))
    present = sorted(path.name for path in base.glob("*.csv"))

    @FUZZ
    @given(data=st.data())
    def check(data: st.DataObject) -> None:
        # server_history.csv's other columns are Prometheus series: they would change the report
        replace = {
            name: data.draw(
                reshuffled((base / name).read_bytes(), extra=name != "server_history.csv"),
                label=name,
            )
            for name in data.draw(st.lists(st.sampled_from(present), min_size=1, unique=True))
        }
        with variant(base, replace) as run_dir:
            result = outcome(run_dir)
        assert isinstance(result, dict), result
        assert numbers(result) == canonical

    check()


# pinned cases: the hardest inputs the properties reach, each with its expected outcome


def with_column(original: bytes, column: str, value: str) -> bytes:
    """``original`` with every cell of ``column`` set to ``value``."""
    header, *rows = list(csv.reader(io.StringIO(original.decode())))
    at = header.index(column)
    return _csv([header, *([*row[:at], value, *row[at + 1 :]] for row in rows)])


def run_json(base: Path, **fields: Any) -> bytes:
    return json.dumps({**json.loads((base / "run.json").read_text()), **fields}).encode()


LOG_HEADER = "timestamp,name,response_time_ms,success\n"


def test_endpoints_named_like_missing_values_are_kept(runs):
    log = "".join(f"{START + i},{name},10,1\n" for i, name in enumerate(["NA", "null", "None"]))
    with variant(runs["requests"], {"requests.csv": (LOG_HEADER + log).encode()}) as run_dir:
        report = outcome(run_dir)
    assert [e["name"] for e in report["endpoints"]] == ["NA", "None", "null"]


def test_far_off_phases_and_start_time_still_give_a_report(runs):
    base = runs["requests"]
    document = run_json(base, started=1e30, phases=[{"name": "x", "start": 0, "end": 1}])
    with variant(base, {"run.json": document}) as run_dir:
        report = outcome(run_dir)  # not 1.7e9 one-second chart buckets from 0 to the requests
    assert "outside_phases" in {w["code"] for w in report["warnings"]}


@pytest.mark.parametrize(
    "phase",
    [
        {"name": "x", "start": -1.7e308, "end": 1.7e308},  # an infinite span
        {"name": "x", "start": START, "end": START + 60, "users": 1e30},  # beyond an int64
    ],
)
def test_impossible_phases_are_a_warning(runs, phase):
    base = runs["requests"]
    with variant(base, {"run.json": run_json(base, phases=[phase])}) as run_dir:
        report = outcome(run_dir)
    assert "no_run_json" in {w["code"] for w in report["warnings"]}


def test_a_history_without_95th_percentiles_is_estimated_between_its_neighbours(runs):
    base = runs["locust"]
    history = with_column((base / "locust_stats_history.csv").read_bytes(), "95%", "N/A")
    with variant(base, {"locust_stats_history.csv": history}) as run_dir:
        report = outcome(run_dir)
    assert isinstance(report, dict) and report["drift"] is not None
    for row in [report["totals"], *report["phases"], *report["endpoints"]]:
        assert row["p50_ms"] <= row["p95_ms"] <= row["p99_ms"]


def test_a_history_without_any_percentile_keeps_its_means(runs):
    base = runs["locust"]
    history = (base / "locust_stats_history.csv").read_bytes()
    for column in ("50%", "95%", "99%"):
        history = with_column(history, column, "N/A")
    with variant(base, {"locust_stats_history.csv": history}) as run_dir:
        report = outcome(run_dir)
    assert report["totals"]["avg_ms"] == outcome(base)["totals"]["avg_ms"]


# Rejected inputs, each with the words of its one line; the CLI gets them too.
REJECTED = {
    "a row longer than the header": (
        "requests",
        "requests.csv",
        lambda base: (LOG_HEADER + f"{START},/x,10,1,surplus\n{START + 1},/x,10,1\n").encode(),
        "a row has more fields than the header",
    ),
    "a count beyond int64": (
        "locust",
        "locust_stats.csv",
        lambda base: with_column((base / "locust_stats.csv").read_bytes(), "Request Count", "1e23"),
        "'Request Count': '1e+23' on line 2 is out of range",
    ),
    "a rate that overflows sums": (
        "locust",
        "locust_stats_history.csv",
        lambda base: with_column(
            (base / "locust_stats_history.csv").read_bytes(), "Requests/s", "1.7e308"
        ),
        "is out of range",
    ),
    "binary data": ("requests", "server_history.csv", lambda base: b"\x89PNG\x00\x00", "binary"),
}


@pytest.mark.parametrize("case", list(REJECTED))
def test_rejected_inputs_are_one_line(runs, case):
    kind, name, make, expected = REJECTED[case]
    with variant(runs[kind], {name: make(runs[kind])}) as run_dir:
        message = outcome(run_dir)
    assert isinstance(message, str) and expected in message and name in message


@pytest.mark.e2e
@pytest.mark.concurrent
def test_the_cli_answers_the_nastiest_inputs_with_one_line(runs):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    for kind, name, make, expected in REJECTED.values():
        with variant(runs[kind], {name: make(runs[kind])}) as run_dir:
            result = subprocess.run(
                [sys.executable, "-m", "reports", "build", str(run_dir)],
                capture_output=True,
                text=True,
                timeout=60,
                env=env,
            )
        assert result.returncode == 2, result.stderr
        assert result.stdout == "" and "Traceback" not in result.stderr
        assert result.stderr.count("\n") == 1 and expected in result.stderr
