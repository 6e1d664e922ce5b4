"""A user's locustfile, checked before a run: it loads, it has users, it brings no shape.

Loading a locustfile imports Locust (which patches the process with gevent) and the user's
code, so the check runs in a child process (``python -m scenarios.locustfile_check PATH``)
with Locust's own loader; the runner gets the user class names or one line saying what is
wrong, before it starts anything.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

CHECK_TIMEOUT_S = 60.0


class LocustfileError(ValueError):
    """The locustfile cannot be run under the kit; the message is one line."""


def user_classes(path: Path, timeout_s: float = CHECK_TIMEOUT_S) -> list[str]:
    """The names of the user classes ``path`` defines; LocustfileError for anything else."""
    if not path.is_file():
        raise LocustfileError(f"--locustfile {path}: file not found")
    try:
        done = subprocess.run(
            [sys.executable, "-m", "scenarios.locustfile_check", str(path.resolve())],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=timeout_s,
        )
    except subprocess.TimeoutExpired:
        raise LocustfileError(
            f"--locustfile {path}: loading it took over {timeout_s:.0f} s"
        ) from None
    if done.returncode != 0:
        lines = done.stderr.strip().splitlines()
        raise LocustfileError(f"--locustfile {path}: {lines[-1] if lines else 'cannot be loaded'}")
    return json.loads(done.stdout)["users"]


def _check(path: str) -> dict[str, list[str]]:
    """In the child: Locust's loader on ``path``; SystemExit with one line when unusable."""
    from locust.util.load_locustfile import load_locustfile

    try:
        users, shapes = load_locustfile(path)
    except Exception as exc:  # the user's code: anything can go wrong in it
        raise SystemExit(f"cannot be loaded: {type(exc).__name__}: {exc}".splitlines()[0]) from None
    if shapes:
        names = ", ".join(type(shape).__name__ for shape in shapes)
        raise SystemExit(
            f"defines its own load shape ({names}); the kit's run brings the shape (spike, "
            "sustained or --stages): remove the shape, or run the file with plain locust"
        )
    if not users:
        raise SystemExit("defines no user class (an HttpUser or FastHttpUser subclass)")
    return {"users": sorted(users)}


if __name__ == "__main__":
    print(json.dumps(_check(sys.argv[1])))
