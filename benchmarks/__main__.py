"""``make bench``: run the benchmark suites, print one table, write results/bench.json.

``python -m benchmarks [SUITE ...]`` runs only the named suites (perf_lib, service, reports,
scenarios, open_model). Exit status 1 when a row misses its target, so CI could gate on it.
"""

from __future__ import annotations

import importlib
import platform
import sys
import time
from pathlib import Path

import orjson

from perf_lib.cli import OneLineParser

SUITES = ("perf_lib", "service", "reports", "scenarios", "open_model")
OUTPUT = Path("results/bench.json")


def print_table(rows: list[dict]) -> None:
    width = max(len(r["name"]) for r in rows)
    print(f"{'benchmark':<{width}}  {'measured':>14}  {'target':>10}  ok")
    for r in rows:
        measured = f"{r['value']:,.3f} {r['unit']}"
        status = {True: "yes", False: "NO", None: "-"}[r["ok"]]
        print(f"{r['name']:<{width}}  {measured:>14}  {r['target']:>10}  {status}")


def main(argv: list[str] | None = None) -> int:
    parser = OneLineParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("suites", nargs="*", metavar="SUITE", help=f"any of {', '.join(SUITES)}")
    args = parser.parse_args(argv)
    unknown = set(args.suites) - set(SUITES)
    if unknown:
        parser.error(f"unknown suite(s): {', '.join(sorted(unknown))}")
    rows: list[dict] = []
    for suite in args.suites or SUITES:
        module = importlib.import_module(f"benchmarks.bench_{suite}")
        started = time.perf_counter()
        suite_rows = [{"suite": suite, **r} for r in module.run()]
        print(f"# {suite}: {time.perf_counter() - started:.1f} s", file=sys.stderr)
        print_table(suite_rows)
        print()
        rows.extend(suite_rows)
    OUTPUT.parent.mkdir(parents=True, exist_ok=True)
    document = {"machine": platform.platform(), "python": platform.python_version(), "rows": rows}
    OUTPUT.write_bytes(orjson.dumps(document, option=orjson.OPT_INDENT_2))
    print(f"written {OUTPUT}")
    return 1 if any(r["ok"] is False for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
