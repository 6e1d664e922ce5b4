"""Reading one CSV file with pandas, and checking it before anything trusts it.

A run directory is written by other processes that can be killed at any moment, so every
file is checked for its columns and their types, and the usual damage is told apart from
garbage: a killed writer leaves a last line without its newline, which is dropped (and the
report marked partial), while an empty, header-only, binary or wrongly shaped file is a
``ReportInputError`` whose one line names the file and the problem.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

from reports.errors import ReportInputError

Kind = Literal["float", "int", "str", "flag"]

_SNIFF_BYTES = 64 * 1024
_FLAG_WORDS = {"1": True, "0": False, "true": True, "false": False, "1.0": True, "0.0": False}


@dataclass(frozen=True)
class Column:
    """One expected column: its type, whether it must exist and whether cells may be empty."""

    name: str
    kind: Kind
    required: bool = True
    empty_ok: bool = False


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
    data = _read_bytes(path)
    if not data.strip():
        raise ReportInputError(f"{path}: empty file (expected a {what} CSV with a header row)")
    if b"\x00" in data[:_SNIFF_BYTES]:
        raise ReportInputError(f"{path}: binary data, not a {what} CSV")
    if not _is_utf8(data[:_SNIFF_BYTES]):
        raise ReportInputError(f"{path}: not UTF-8 text, not a {what} CSV")
    data, truncated = _drop_cut_last_line(data)
    header = _header(path, data, what)
    missing = [c.name for c in columns if c.required and c.name not in header]
    if missing:
        found = ", ".join(header[:8]) + (", ..." if len(header) > 8 else "")
        raise ReportInputError(
            f"{path}: not a {what} CSV: missing column(s) {', '.join(missing)} (found: {found})"
        )
    present = [c for c in columns if c.name in header]
    text = [c.name for c in present if c.kind == "str"]
    frame = _parse(path, data, [c.name for c in present], text, what)
    if frame.empty and not allow_no_rows:
        raise ReportInputError(f"{path}: header only, no data rows in this {what} CSV")
    for column in present:
        frame[column.name] = _typed(path, frame[column.name], column)
    return CsvTable(path, frame, truncated)


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
    first = data.split(b"\n", 1)[0].decode("utf-8", errors="replace").lstrip("\ufeff")
    try:
        names = next(csv.reader([first]))
    except (csv.Error, StopIteration):
        raise ReportInputError(f"{path}: unreadable header line, not a {what} CSV") from None
    return [name.strip() for name in names]


def _parse(path: Path, data: bytes, usecols: list[str], text: list[str], what: str) -> pd.DataFrame:
    try:
        frame = pd.read_csv(
            io.BytesIO(data),
            dtype=dict.fromkeys(text, str),
            index_col=False,
            encoding="utf-8",
            encoding_errors="strict",
            skipinitialspace=True,
            low_memory=False,
        )
    except UnicodeDecodeError:
        raise ReportInputError(f"{path}: not UTF-8 text, not a {what} CSV") from None
    except pd.errors.EmptyDataError:
        raise ReportInputError(f"{path}: empty file (expected a {what} CSV)") from None
    except (pd.errors.ParserError, ValueError) as exc:
        detail = str(exc).strip().splitlines()[-1] if str(exc).strip() else type(exc).__name__
        raise ReportInputError(f"{path}: malformed {what} CSV ({detail})") from None
    frame.columns = [str(name).strip().lstrip("\ufeff") for name in frame.columns]
    return frame.loc[:, ~frame.columns.duplicated()][usecols]


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
