"""Every kind of bad input is one clear line naming the file; known damage is tolerated."""

from __future__ import annotations

import gzip

import pandas as pd
import pytest

from reports import ReportInputError, analyse_run
from reports.cli import main
from tests.reports_helpers import START, copy_real_fixture, spike_phases, spike_rows, write_run


@pytest.fixture
def run_dir(tmp_path):
    return write_run(tmp_path / "run", spike_rows(7), spike_phases())


def _requests(run_dir, text: str | bytes) -> None:
    path = run_dir / "requests.csv"
    path.write_bytes(text if isinstance(text, bytes) else text.encode())


HEADER = "timestamp,request_type,name,response_time_ms,response_length,status_code,success\n"
ROW = f"{START},GET,/health,12.5,10,200,1\n"

BAD_REQUEST_LOGS = {
    "empty": ("", "requests.csv: empty file"),
    "blank": ("\n\n", "requests.csv: empty file"),
    "header only": (HEADER, "requests.csv: header only"),
    "wrong format (json)": (
        '{"timestamp": 1, "name": "/x"}\n',
        "not a request log CSV: missing column",
    ),
    "wrong separator": (
        HEADER.replace(",", ";") + ROW.replace(",", ";"),
        "missing column(s) timestamp",
    ),
    "binary": (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" * 10, "requests.csv: binary data"),
    "gzip": (gzip.compress((HEADER + ROW).encode()), "requests.csv: binary data"),
    "latin-1": (HEADER + f"{START},GET,/caf\xe9,1,1,200,1\n".replace("\xe9", "\xe9"), None),
    "missing column": (
        f"timestamp,name,success\n{START},/health,1\n",
        "missing column(s) response_time_ms",
    ),
    "bad number": (
        HEADER + ROW + f"{START},GET,/health,fast,10,200,1\n",
        "column 'response_time_ms': 'fast' on line 3 is not a number",
    ),
    "bad flag": (
        HEADER + f"{START},GET,/health,12,10,200,maybe\n",
        "column 'success': 'maybe' on line 2 is not 1 or 0",
    ),
    "empty required cell": (
        HEADER + f"{START},GET,,12,10,200,1\n",
        "column 'name' is empty on line 2",
    ),
    "fractional status": (
        HEADER + f"{START},GET,/h,12,10,200.5,1\n",
        "column 'status_code': '200.5' on line 2 is not an integer",
    ),
    "milliseconds timestamp": (
        HEADER + f"{START * 1000},GET,/h,12,10,200,1\n",
        "is not epoch seconds",
    ),
    "too many fields": (
        HEADER + ROW + f"{START},GET,/h,12,10,200,1,x,y,z,w\n",
        "malformed request log CSV",
    ),
    "infinite": (HEADER + f"{START},GET,/h,inf,10,200,1\n", "is not a finite number"),
}


@pytest.mark.parametrize("kind", list(BAD_REQUEST_LOGS))
def test_bad_request_log(run_dir, kind, capsys):
    content, expected = BAD_REQUEST_LOGS[kind]
    if kind == "latin-1":
        content = (HEADER + f"{START},GET,/caf\xe9,1,1,200,1\n").encode("latin-1")
        expected = "requests.csv: not UTF-8 text"
    _requests(run_dir, content)
    with pytest.raises(ReportInputError) as caught:
        analyse_run(run_dir)
    message = str(caught.value)
    assert expected in message
    assert "\n" not in message
    assert str(run_dir / "requests.csv") in message
    # the CLI: exit 2 and exactly that one line on stderr
    assert main(["build", str(run_dir)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and expected in err and "Traceback" not in err


def test_missing_run_dir(tmp_path, capsys):
    assert main(["build", str(tmp_path / "nope")]) == 2
    assert (
        capsys.readouterr().err
        == f"python -m reports: {tmp_path / 'nope'}: run directory not found\n"
    )


def test_directory_without_any_csv(tmp_path, capsys):
    (tmp_path / "run").mkdir()
    assert main(["build", str(tmp_path / "run")]) == 2
    assert "no requests.csv and no locust_stats.csv: not a run directory" in capsys.readouterr().err


def test_fallback_needs_history(run_dir):
    (run_dir / "requests.csv").unlink()
    (run_dir / "locust_stats_history.csv").unlink()
    with pytest.raises(ReportInputError, match="locust_stats_history.csv: file not found"):
        analyse_run(run_dir)


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("locust_stats_history.csv", "garbage\n1,2\n", "not a Locust stats history CSV"),
        ("locust_stats.csv", "", "locust_stats.csv: empty file"),
        (
            "locust_stats_history.csv",
            "Timestamp,User Count,Type,Name,Requests/s,Failures/s,50%,95%,99%,"
            "Total Request Count,Total Failure Count,Total Average Response Time\n"
            "1700000001,10,GET,/x,1,0,5,5,5,1,0,5\n",
            "no Aggregated rows",
        ),
        ("locust_failures.csv", "Method,Name\n", "missing column(s) Error, Occurrences"),
        ("server_history.csv", "cache_hits,p95_ms\n1,2\n", "missing column(s) timestamp"),
        (
            "server_history.csv",
            "timestamp,process-cpu\n1700000000,1\n",
            "column 'process-cpu' is not a Prometheus metric name",
        ),
        ("server_history.csv", "timestamp,p95_ms\n1700000000,slow\n", "'slow' on line 2"),
    ],
)
def test_bad_optional_files_are_still_errors(run_dir, name, content, expected):
    (run_dir / name).write_text(content)
    with pytest.raises(ReportInputError) as caught:
        analyse_run(run_dir)
    assert expected in str(caught.value) and name in str(caught.value)


def test_header_only_failures_and_exceptions_are_fine(run_dir):
    report = analyse_run(run_dir).report  # the helper writes both header-only, as Locust does
    assert report["totals"]["requests"] == 1500


def test_locust_na_percentiles_are_missing_values(tmp_path):
    run_dir = copy_real_fixture(tmp_path / "real")
    (run_dir / "requests.csv").unlink()
    history = pd.read_csv(run_dir / "locust_stats_history.csv", dtype=str, keep_default_na=False)
    assert (history["95%"] == "N/A").any()  # Locust's first row, before any request
    report = analyse_run(run_dir).report
    assert report["source"].startswith("Locust stats (approximate")
    assert report["totals"]["p95_ms"] is not None


def test_columns_in_any_order_and_extra_columns(run_dir):
    frame = pd.read_csv(run_dir / "requests.csv")
    frame["extra"] = "x"
    frame[list(reversed(frame.columns))].to_csv(run_dir / "requests.csv", index=False)
    assert analyse_run(run_dir).report["totals"]["requests"] == 1500


def test_success_as_words(run_dir):
    frame = pd.read_csv(run_dir / "requests.csv")
    frame["success"] = frame["success"].map({1: "True", 0: "false"})
    frame.to_csv(run_dir / "requests.csv", index=False)
    assert analyse_run(run_dir).report["totals"]["failures"] == 60


def test_thresholds_file_errors(run_dir, tmp_path, capsys):
    bad = tmp_path / "t.toml"
    bad.write_text("[default]\np95_ms = { healthy = 600, degraded = 500 }\n")
    assert main(["build", str(run_dir), "--thresholds", str(bad)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "healthy limit 600 is above the degraded limit 500" in err
    assert main(["build", str(run_dir), "--thresholds", str(tmp_path / "none.toml")]) == 2
    assert "thresholds file not found" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["build"], "the following arguments are required: RUN_DIR"),
        (["build", "x", "--fail-on", "sometimes"], "invalid choice: 'sometimes'"),
        (["build", "x", "--bogus"], "unrecognized arguments: --bogus"),
        (["explode"], "invalid choice: 'explode'"),
        ([], "the following arguments are required: command"),
        (["compare", "a"], "the following arguments are required: NEW"),
        (["compare", "a", "b", "--max-regression-pct", "lots"], "invalid float value: 'lots'"),
    ],
)
def test_bad_command_lines_are_one_line(argv, expected, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and expected.lower() in err.lower()


def test_build_report_rejects_unknown_fail_on(run_dir):
    from reports import build_report

    with pytest.raises(ReportInputError, match="unknown --fail-on level 'sometimes'"):
        build_report(run_dir, fail_on="sometimes")


def test_truncated_last_line_is_dropped_and_marks_partial(tmp_path):
    run_dir = write_run(tmp_path / "run", spike_rows(7), spike_phases())
    with (run_dir / "requests.csv").open("a") as fh:
        fh.write(f"{START + 119.5},GET,/health,12.")  # a killed writer: no newline
    report = analyse_run(run_dir).report
    assert report["totals"]["requests"] == 1500
    assert report["partial"] is True
    assert "requests.csv: the last line was cut off" in report["partial_reason"]


def test_distributed_worker_logs_are_concatenated(tmp_path):
    run_dir = write_run(tmp_path / "run", spike_rows(7), spike_phases())
    frame = pd.read_csv(run_dir / "requests.csv")
    (run_dir / "requests.csv").unlink()
    frame.iloc[::2].to_csv(run_dir / "requests-worker1.csv", index=False)
    frame.iloc[1::2].to_csv(run_dir / "requests-worker2.csv", index=False)
    frame.iloc[:0].to_csv(run_dir / "requests-worker3.csv", index=False)  # an idle worker
    report = analyse_run(run_dir).report
    assert report["totals"]["requests"] == 1500
    assert report["recovery_seconds"] == 7
    assert report["run"]["request_files"] == [
        "requests-worker1.csv",
        "requests-worker2.csv",
        "requests-worker3.csv",
    ]
