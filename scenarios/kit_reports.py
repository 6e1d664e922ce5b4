"""Where the web UI serves the run directories its tests wrote, and which files it may serve.

Only the directories this Locust process created, and only plain file names in them: a
request can name neither another directory nor a path of its own.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

PREFIX = "/kit-reports"
#: Redirects to the last built report.
LAST_REPORT = f"{PREFIX}/last"
REPORT_HTML = "report.html"


def report_url(run_dir: Path) -> str:
    return f"{PREFIX}/{run_dir.name}/{REPORT_HTML}"


def served_file(run_dirs: Mapping[str, Path], name: str, file: str) -> Path | None:
    """The file ``file`` of the run directory called ``name``; None unless both are known
    and plain (no separators, no dot files, no links) and the file exists."""
    run_dir = run_dirs.get(name)
    if run_dir is None or not file or file != Path(file).name or file.startswith("."):
        return None
    path = run_dir / file
    return path if path.is_file() and not path.is_symlink() else None
