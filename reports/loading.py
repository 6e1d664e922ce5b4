"""Reading one CSV file with pandas, and checking it before anything trusts it.

A run directory is written by other processes that can be killed at any moment, so every
file is checked for its columns and their types, and the usual damage is told apart from
garbage: a killed writer leaves a last line without its newline, which is dropped (and the
report marked partial), while an empty, header-only, binary or wrongly shaped file is a
``ReportInputError`` whose one line names the file and the problem.
"""

from __future__ import annotations

import io
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from reports.errors import ReportInputError
from reports.run_format import Column

_SNIFF_BYTES = 64 * 1024
# Cells that mean "no value" in a number column (Locust writes N/A before its first request). In a
# text column only an empty cell does, so that an endpoint called "NA" or "null" keeps its name.
_MISSING_NUMBER = ["", "N/A", "NA", "n/a", "nan", "NaN", "-nan", "null", "NULL", "None", "#N/A"]
# No figure of a run comes near: a millisecond count of 30,000 years, a petabyte of RSS. A larger
# number is damage, and would overflow the sums and squares of the statistics (or an int64 count).
_MAX_NUMBER = 1e15
_FLAG_WORDS = {"1": True, "0": False, "true": True, "false": False, "1.0": True, "0.0": False}


@dataclass(frozen=True)
class CsvTable:
    """A checked file: ``truncated`` tells that its cut-off last line was dropped."""

    path: Path
    frame: pd.DataFrame
    truncated: bool


def read_checked_csv(
    path: Path, columns: Sequence[Column], *, what: str, allow_no_rows: bool = False
) -> CsvTable:
    """Read ``path`` keeping the known ``columns`` (read by name, in any order), typed.

    ``what`` names the kind of file in messages ("request log", "Locust stats"...).
    """
    data, truncated = _checked_text(path, what)
    raw = _header(path, data, what)
    header = _clean_names(raw)
    missing = [c.name for c in columns if c.required and c.name not in header]
    if missing:
        found = ", ".join(header[:8]) + (", ..." if len(header) > 8 else "")
        raise ReportInputError(
            f"{path}: not a {what} CSV: missing column(s) {', '.join(missing)} (found: {found})"
        )
    wanted = {c.name: c for c in columns}
    chosen: dict[str, Column] = {}  # the file's name of each known column -> the column
    for raw_name, name in zip(raw, header, strict=True):
        if name in wanted:
            chosen[raw_name] = wanted.pop(name)  # the first of duplicate columns wins
    frame = _parse(path, data, chosen, what)
    if frame.empty and not allow_no_rows:
        raise ReportInputError(f"{path}: header only, no data rows in this {what} CSV")
    for column in chosen.values():
        frame[column.name] = _typed(path, frame[column.name], column)
    return CsvTable(path, frame, truncated)


def read_header(path: Path, *, what: str) -> list[str]:
    """The column names of ``path``, checked as ``read_checked_csv`` checks the file: for a
    file whose columns are told by its header."""
    data, _ = _checked_text(path, what)
    return _clean_names(_header(path, data, what))


def _checked_text(path: Path, what: str) -> tuple[bytes, bool]:
    """The file's bytes once they look like CSV text, without a cut-off last line (and whether
    there was one)."""
    data = _read_bytes(path)
    if not data.strip():
        raise ReportInputError(f"{path}: empty file (expected a {what} CSV with a header row)")
    if b"\x00" in data[:_SNIFF_BYTES]:
        raise ReportInputError(f"{path}: binary data, not a {what} CSV")
    if not _is_utf8(data[:_SNIFF_BYTES]):
        raise ReportInputError(f"{path}: not UTF-8 text, not a {what} CSV")
    return _drop_cut_last_line(data)


def _clean_names(raw: list[str]) -> list[str]:
    return [name.strip().lstrip("\ufeff") for name in raw]


def _read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise ReportInputError(f"{path}: file not found") from None
    except IsADirectoryError:
        raise ReportInputError(f"{path}: is a directory, not a CSV file") from None
    except OSError as exc:
        raise ReportInputError(f"{path}: cannot read ({exc.strerror})") from None


def _is_utf8(head: bytes) -> bool:
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        # A multi-byte character cut by the sniffing window is not a sign of another encoding.
        return exc.start >= len(head) - 4
    return True


def _drop_cut_last_line(data: bytes) -> tuple[bytes, bool]:
    """Every writer here ends rows with a newline: a last line without one was cut off."""
    if data.endswith((b"\n", b"\r")):
        return data, False
    cut = data.rfind(b"\n")
    if cut == -1:  # a lone header line without its newline: keep it, there is no row to lose
        return data, False
    return data[: cut + 1], True


def _header(path: Path, data: bytes, what: str) -> list[str]:
    """The column names as pandas reads them (a repeated name gets a ``.1`` suffix)."""
    return [str(name) for name in _read_csv(path, data, what, nrows=0).columns]


def _parse(path: Path, data: bytes, chosen: dict[str, Column], what: str) -> pd.DataFrame:
    """The ``chosen`` columns (keyed by their name in the file), named as expected."""
    frame = _read_csv(
        path,
        data,
        what,
        dtype={raw: str for raw, column in chosen.items() if column.kind == "str"},
        keep_default_na=False,
        na_values={
            raw: [""] if column.kind == "str" else _MISSING_NUMBER for raw, column in chosen.items()
        },
    )
    frame = frame[list(chosen)]
    frame.columns = [column.name for column in chosen.values()]
    return frame


def _read_csv(path: Path, data: bytes, what: str, **options: Any) -> pd.DataFrame:
    """pandas' reader; its errors, and its warning about a row longer than the header (whose
    extra cells it would drop), become one-line ``ReportInputError``s."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", pd.errors.ParserWarning)
            return pd.read_csv(
                io.BytesIO(data),
                index_col=False,
                encoding="utf-8",
                encoding_errors="strict",
                skipinitialspace=True,
                low_memory=False,
                **options,
            )
    except UnicodeDecodeError:
        raise ReportInputError(f"{path}: not UTF-8 text, not a {what} CSV") from None
    except pd.errors.EmptyDataError:
        raise ReportInputError(f"{path}: empty file (expected a {what} CSV)") from None
    except pd.errors.ParserWarning:
        raise ReportInputError(
            f"{path}: malformed {what} CSV (a row has more fields than the header)"
        ) from None
    except (pd.errors.ParserError, ValueError) as exc:
        detail = str(exc).strip().splitlines()[-1] if str(exc).strip() else type(exc).__name__
        raise ReportInputError(f"{path}: malformed {what} CSV ({detail})") from None


def _typed(path: Path, series: pd.Series, column: Column) -> pd.Series:
    if column.kind == "str":
        missing = series.isna()
        text = series.fillna("").astype(str)
        if not column.empty_ok:
            _no_empty(path, column, missing.to_numpy() | (text == "").to_numpy())
        return text
    if column.kind == "flag":
        return _flags(path, series, column)
    numbers = series if pd.api.types.is_numeric_dtype(series) else _numbers(path, series, column)
    numbers = numbers.astype("float64")
    values = numbers.to_numpy()
    present = ~np.isnan(values)
    if not column.empty_ok:
        _no_empty(path, column, ~present)
    bad = present & ~np.isfinite(values)
    if bad.any():
        _fail_at(path, column, series, bad, "is not a finite number")
    huge = present & (np.abs(np.nan_to_num(values)) > _MAX_NUMBER)
    if huge.any():
        _fail_at(path, column, series, huge, f"is out of range (above {_MAX_NUMBER:.0e})")
    if column.kind == "int":
        fraction = present & (np.nan_to_num(values) % 1 != 0)
        if fraction.any():
            _fail_at(path, column, series, fraction, "is not an integer")
    return numbers


def _numbers(path: Path, series: pd.Series, column: Column) -> pd.Series:
    text = series.astype(object)
    numbers = pd.to_numeric(text, errors="coerce")
    bad = (numbers.isna() & text.notna()).to_numpy()
    if bad.any():
        _fail_at(path, column, series, bad, "is not a number")
    return numbers


def _flags(path: Path, series: pd.Series, column: Column) -> pd.Series:
    missing = series.isna().to_numpy()
    if not column.empty_ok:
        _no_empty(path, column, missing)
    if pd.api.types.is_bool_dtype(series):
        return series.astype(bool)
    if pd.api.types.is_numeric_dtype(series):
        mapped = (
            series.map({1: True, 0: False})
            if series.dtype.kind != "f"
            else series.map({1.0: True, 0.0: False})
        )
    else:
        mapped = series.astype(str).str.strip().str.lower().map(_FLAG_WORDS)
    bad = mapped.isna().to_numpy() & ~missing
    if bad.any():
        _fail_at(path, column, series, bad, "is not 1 or 0")
    return mapped.fillna(True).astype(bool)


def _no_empty(path: Path, column: Column, empty: np.ndarray) -> None:
    mask = np.asarray(empty, dtype=bool)
    if mask.any():
        line = int(np.argmax(mask)) + 2
        raise ReportInputError(f"{path}: column {column.name!r} is empty on line {line}")


def _fail_at(path: Path, column: Column, series: pd.Series, mask: np.ndarray, why: str) -> None:
    row = int(np.argmax(mask))
    value = str(series.iloc[row])[:40]
    raise ReportInputError(f"{path}: column {column.name!r}: {value!r} on line {row + 2} {why}")
