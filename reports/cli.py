"""``python -m reports build RUN_DIR`` and ``python -m reports compare BASE NEW``.

Exit codes (DESIGN.md): 0 below the ``--fail-on`` level, 1 at or above it (or, for compare, a
regression), 2 for bad input with exactly one line on stderr and never a traceback.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import NoReturn

from reports.errors import ReportInputError

# Kept here rather than imported from the analysis modules, so that a bad command line is
# answered before pandas and matplotlib are loaded.
FAIL_ON_CHOICES = ("degraded", "critical", "never")
DEFAULT_MAX_REGRESSION_PCT = 10.0
EXIT_BAD_INPUT = 2

PROG = "python -m reports"


class _UsageError(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    """argparse prints usage plus a message and exits; here a bad command line is one line."""

    def error(self, message: str) -> NoReturn:
        raise _UsageError(f"{self.prog}: {message}")


def parser() -> argparse.ArgumentParser:
    top = _Parser(prog=PROG, description="Load-test reports: build a run's report, compare runs.")
    commands = top.add_subparsers(dest="command", required=True, parser_class=_Parser)
    build = commands.add_parser("build", help="(re)build the report of a run directory")
    build.add_argument("run_dir", metavar="RUN_DIR")
    build.add_argument(
        "--thresholds",
        metavar="FILE",
        help="thresholds TOML (default: ./thresholds.toml, else built-in)",
    )
    build.add_argument(
        "--fail-on",
        choices=FAIL_ON_CHOICES,
        default="critical",
        help="exit 1 when the verdict reaches this level (default: critical)",
    )
    compare = commands.add_parser("compare", help="compare two runs per endpoint and phase")
    compare.add_argument("base", metavar="BASE")
    compare.add_argument("new", metavar="NEW")
    compare.add_argument(
        "--max-regression-pct",
        type=float,
        default=DEFAULT_MAX_REGRESSION_PCT,
        metavar="PCT",
        help="flag a p95 or error rate worse by more (default 10)",
    )
    compare.add_argument("--thresholds", metavar="FILE")
    compare.add_argument("--out", metavar="DIR", help="where to write compare.* (default: NEW)")
    return top


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; returns the exit code."""
    try:
        args = parser().parse_args(sys.argv[1:] if argv is None else argv)
        from reports.build import build_report, resolve_thresholds
        from reports.compare import compare_runs
        from reports.terminal import render_terminal

        thresholds = resolve_thresholds(args.thresholds)
        if args.command == "build":
            result = build_report(args.run_dir, thresholds, args.fail_on)
            print(render_terminal(result.report, str(result.html_path)))
            return result.exit_code
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
