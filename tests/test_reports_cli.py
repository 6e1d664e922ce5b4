"""The real command line, in a subprocess: exit codes, one-line errors, never a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.reports_helpers import constant_run, spike_phases, spike_rows, write_run

ROOT = Path(__file__).resolve().parent.parent


def cli(*args, cwd=ROOT):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}  # importable from any working directory
    return subprocess.run(
        [sys.executable, "-m", "reports", *map(str, args)],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def assert_one_line_error(result, expected):
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1 and result.stderr.endswith("\n")
    assert expected in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.e2e
@pytest.mark.concurrent
def test_build_prints_table_and_path_and_exits_per_verdict(tmp_path):
    run_dir = constant_run(tmp_path / "run", {"/x": (250.0, 200, 0)})  # degraded
    ok = cli("build", run_dir, cwd=tmp_path)  # no thresholds.toml there: built-in table
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout.splitlines()[0].startswith("sustained: DEGRADED")
    assert ok.stdout.rstrip().endswith(f"report: {run_dir / 'report.html'}")
    assert ok.stderr == ""
    failing = cli("build", run_dir, "--fail-on", "degraded", cwd=tmp_path)
    assert failing.returncode == 1
    assert (run_dir / "report.html").exists() and (run_dir / "junit.xml").exists()


@pytest.mark.e2e
@pytest.mark.concurrent
def test_build_critical_run_exits_1(tmp_path):
    run_dir = write_run(tmp_path / "run", spike_rows(7), spike_phases())
    result = cli("build", run_dir)
    assert result.returncode == 1
    assert "spike: CRITICAL" in result.stdout
    assert cli("build", run_dir, "--fail-on", "never").returncode == 0


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["build", "/nonexistent/run"], "/nonexistent/run: run directory not found"),
        (["build", "x", "--bogus"], "unrecognized arguments: --bogus"),
        (["build"], "the following arguments are required: RUN_DIR"),
        (["build", "x", "--fail-on", "maybe"], "invalid choice: 'maybe'"),
    ],
)
@pytest.mark.e2e
@pytest.mark.concurrent
def test_bad_input_is_one_line(args, expected):
    assert_one_line_error(cli(*args), expected)


@pytest.mark.e2e
@pytest.mark.concurrent
def test_malformed_csv_is_one_line(tmp_path):
    run_dir = write_run(tmp_path / "run", spike_rows(7), spike_phases())
    (run_dir / "requests.csv").write_bytes(b"\x00\x01\x02garbage")
    assert_one_line_error(cli("build", run_dir), "requests.csv: binary data")


@pytest.mark.e2e
@pytest.mark.concurrent
def test_compare_exit_codes(tmp_path):
    base = constant_run(tmp_path / "base", {"/x": (100.0, 200, 0)})
    slower = constant_run(tmp_path / "new", {"/x": (130.0, 200, 0)})
    result = cli("compare", base, slower)
    assert result.returncode == 1, result.stderr
    assert result.stdout.startswith("REGRESSION (limit 10 %)")
    assert (slower / "compare.html").exists()
    assert cli("compare", base, slower, "--max-regression-pct", "50").returncode == 0
    assert_one_line_error(cli("compare", base, tmp_path / "missing"), "run directory not found")


@pytest.mark.e2e
@pytest.mark.concurrent
def test_every_option_has_help():
    import argparse

    from reports.cli import parser

    top = parser()
    commands = next(a for a in top._actions if isinstance(a, argparse._SubParsersAction))
    assert set(commands.choices) >= {"build", "compare"}
    for name, sub in commands.choices.items():
        for action in sub._actions:
            if isinstance(action, argparse._HelpAction):
                continue
            assert action.help and action.help != argparse.SUPPRESS, (name, action.dest)
    assert "--out" in cli("compare", "--help").stdout


@pytest.mark.e2e
@pytest.mark.concurrent
def test_compare_out_creates_the_directory(tmp_path):
    base = constant_run(tmp_path / "base", {"/x": (100.0, 200, 0)})
    new = constant_run(tmp_path / "new", {"/x": (100.0, 200, 0)})
    target = tmp_path / "a" / "b"
    result = cli("compare", base, new, "--out", target)
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in target.iterdir()) == [
        "compare.html",
        "compare.json",
        "compare.md",
    ]


def test_exit_codes_follow_the_fail_on_level():
    from reports import exit_codes

    assert exit_codes.exit_code("critical", "critical") == 1
    assert exit_codes.exit_code("degraded", "critical") == 0
    assert exit_codes.exit_code("critical", "never") == 0
    assert exit_codes.parse_fail_on("never") is None
