"""``python -m reports build RUN_DIR`` and ``python -m reports compare BASE NEW``.

Exit codes: 0 below the ``--fail-on`` level, 1 at or above it (or, for compare, a regression),
2 for bad input with exactly one line on stderr and never a traceback. Only light modules are
imported before the command line is parsed, so that a bad one is answered before pandas and
matplotlib are loaded.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import NoReturn

from reports.comparison import DEFAULT_MAX_REGRESSION_PCT
from reports.errors import ReportInputError
from reports.exit_codes import EXIT_BAD_INPUT, FAIL_ON_CHOICES

PROG = "python -m reports"
BUILD_HELP = "(re)build the report of a run directory"
BUILD_DESCRIPTION = (
    "Analyse a run directory and write report.json, report.html, the PNG charts, junit.xml "
    "and summary.md into it; print the verdict table."
)
COMPARE_HELP = "compare two runs per endpoint and phase"
COMPARE_DESCRIPTION = (
    "Compare two runs per endpoint and phase; write compare.json, compare.html and "
    "compare.md; exit 1 on a regression."
)
RUN_ARGUMENT_HELP = "a run directory or its report.json"
THRESHOLDS_HELP = (
    "thresholds TOML: limits per metric, per-endpoint overrides, recovery limits "
    "(default: ./thresholds.toml, else the built-in table)"
)


class _UsageError(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    """argparse prints usage plus a message and exits; here a bad command line is one line."""

    def error(self, message: str) -> NoReturn:
        raise _UsageError(f"{self.prog}: {message}")


def parser() -> argparse.ArgumentParser:
    top = _Parser(prog=PROG, description="Load-test reports: build a run's report, compare runs.")
    commands = top.add_subparsers(dest="command", required=True, parser_class=_Parser)
    build = commands.add_parser("build", help=BUILD_HELP, description=BUILD_DESCRIPTION)
    build.add_argument("run_dir", metavar="RUN_DIR", help="the run directory: results/<run>/")
    build.add_argument("--thresholds", metavar="FILE", help=THRESHOLDS_HELP)
    build.add_argument(
        "--fail-on",
        choices=FAIL_ON_CHOICES,
        default="critical",
        help="exit 1 when the verdict reaches this level; 'never' always exits 0 on a built "
        "report (default: %(default)s)",
    )
    compare = commands.add_parser("compare", help=COMPARE_HELP, description=COMPARE_DESCRIPTION)
    compare.add_argument("base", metavar="BASE", help="the base run: " + RUN_ARGUMENT_HELP)
    compare.add_argument("new", metavar="NEW", help="the new run: " + RUN_ARGUMENT_HELP)
    compare.add_argument(
        "--max-regression-pct",
        type=float,
        default=DEFAULT_MAX_REGRESSION_PCT,
        metavar="PCT",
        help="flag a p95 or error rate worse by more than PCT %% (default: %(default)g)",
    )
    compare.add_argument(
        "--thresholds",
        metavar="FILE",
        help=THRESHOLDS_HELP + "; used when a run is analysed afresh from its data",
    )
    compare.add_argument(
        "--out",
        metavar="DIR",
        help="where to write compare.*; created (with its parents) when missing "
        "(default: NEW's directory)",
    )
    return top


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; returns the exit code."""
    try:
        args = parser().parse_args(sys.argv[1:] if argv is None else argv)
        from reports.build import build_and_summarise, load_thresholds
        from reports.compare import compare_runs

        if args.command == "build":
            result = build_and_summarise(args.run_dir, args.thresholds, args.fail_on)
            print(result.terminal)
            return result.exit_code
        thresholds = load_thresholds(args.thresholds)
        outcome = compare_runs(args.base, args.new, args.out, args.max_regression_pct, thresholds)
        comparison = outcome.comparison
        print(
            f"{'REGRESSION' if comparison['regressed'] else 'no regression'} "
            f"(limit {comparison['max_regression_pct']:g} %)"
        )
        for line in comparison["regressions"]:
            print(f"  regression: {line}")
        for line in comparison["improvements"]:
            print(f"  improvement: {line}")
        print(f"comparison: {outcome.files[1]}")
        return outcome.exit_code
    except (_UsageError, ReportInputError) as exc:
        return _fail(str(exc))
    except KeyboardInterrupt:
        return _fail("interrupted")
    except Exception as exc:  # noqa: BLE001 - the contract: one line, never a traceback
        if os.environ.get("REPORTS_DEBUG"):
            raise
        return _fail(
            f"internal error: {type(exc).__name__}: {exc} (set REPORTS_DEBUG=1 for details)"
        )


def _fail(message: str) -> int:
    line = " ".join(message.split())
    print(line if line.startswith(PROG) else f"{PROG}: {line}", file=sys.stderr)
    return EXIT_BAD_INPUT
