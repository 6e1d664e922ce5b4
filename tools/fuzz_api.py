"""``make fuzz``: a long schemathesis run (every phase, stateful included) against a real service.

``make test`` runs a short, seeded version of the same (tests/test_fuzz_api.py).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

from scenarios.processes import start_service


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--max-examples", type=int, default=20_000)
    parser.add_argument("--max-time", type=int, default=600, help="seconds of fuzzing")
    parser.add_argument("--seed", type=int, default=None, help="fixed seed (default: random)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        service, url = start_service(Path(tmp) / "service.log")
        try:
            command = [
                str(Path(sys.executable).with_name("schemathesis")), "run", f"{url}/openapi.json",
                "--checks", "not_a_server_error",
                "--max-examples", str(args.max_examples),
                "--max-time", str(args.max_time),
                "--workers", "2",
                "--generation-database", "none",
            ] + (["--seed", str(args.seed)] if args.seed is not None else [])  # fmt: skip
            return subprocess.call(command)
        finally:
            service.stop()


if __name__ == "__main__":
    sys.exit(main())
