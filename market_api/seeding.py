"""Deterministic synthetic market data: the same seed always writes the same rows.

Prices are a geometric random walk per symbol over business days ending at a fixed date, so
the data never depends on the day it was generated. Every bar is consistent:
``0 < low <= min(open, close)`` and ``max(open, close) <= high``, ``volume > 0``. Rounding to
cents keeps that order because rounding is monotonic.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import tempfile
from datetime import date
from pathlib import Path

import numpy as np

__all__ = ["COMPANIES", "FIRST_DATE", "LAST_DATE", "SEED", "SCHEMA", "seed_database"]

SEED = 20_241_231
FIRST_DATE = date(2019, 1, 1)
LAST_DATE = date(2024, 12, 31)

#: Ticker and company name; real-looking, prices are synthetic.
COMPANIES: tuple[tuple[str, str], ...] = (
    ("AAPL", "Apple Inc."), ("MSFT", "Microsoft Corporation"), ("AMZN", "Amazon.com, Inc."),
    ("GOOGL", "Alphabet Inc. Class A"), ("GOOG", "Alphabet Inc. Class C"),
    ("META", "Meta Platforms, Inc."), ("NVDA", "NVIDIA Corporation"), ("TSLA", "Tesla, Inc."),
    ("BRK.B", "Berkshire Hathaway Inc. Class B"), ("JPM", "JPMorgan Chase & Co."),
    ("JNJ", "Johnson & Johnson"), ("V", "Visa Inc."), ("PG", "Procter & Gamble Company"),
    ("UNH", "UnitedHealth Group Incorporated"), ("HD", "Home Depot, Inc."),
    ("MA", "Mastercard Incorporated"), ("BAC", "Bank of America Corporation"),
    ("XOM", "Exxon Mobil Corporation"), ("PFE", "Pfizer Inc."), ("CVX", "Chevron Corporation"),
    ("ABBV", "AbbVie Inc."), ("KO", "Coca-Cola Company"), ("PEP", "PepsiCo, Inc."),
    ("AVGO", "Broadcom Inc."), ("COST", "Costco Wholesale Corporation"),
    ("MRK", "Merck & Co., Inc."), ("TMO", "Thermo Fisher Scientific Inc."),
    ("WMT", "Walmart Inc."), ("DIS", "Walt Disney Company"), ("CSCO", "Cisco Systems, Inc."),
    ("ABT", "Abbott Laboratories"), ("ACN", "Accenture plc"), ("ADBE", "Adobe Inc."),
    ("CRM", "Salesforce, Inc."), ("MCD", "McDonald's Corporation"),
    ("VZ", "Verizon Communications Inc."), ("NKE", "NIKE, Inc."), ("CMCSA", "Comcast Corporation"),
    ("INTC", "Intel Corporation"), ("NFLX", "Netflix, Inc."), ("TXN", "Texas Instruments Inc."),
    ("LIN", "Linde plc"), ("DHR", "Danaher Corporation"), ("PM", "Philip Morris International"),
    ("NEE", "NextEra Energy, Inc."), ("WFC", "Wells Fargo & Company"),
    ("BMY", "Bristol-Myers Squibb Company"), ("RTX", "RTX Corporation"),
    ("ORCL", "Oracle Corporation"), ("UPS", "United Parcel Service, Inc."),
    ("QCOM", "QUALCOMM Incorporated"), ("HON", "Honeywell International Inc."),
    ("AMGN", "Amgen Inc."), ("T", "AT&T Inc."), ("LOW", "Lowe's Companies, Inc."),
    ("IBM", "International Business Machines Corporation"), ("SBUX", "Starbucks Corporation"),
    ("CAT", "Caterpillar Inc."), ("GS", "Goldman Sachs Group, Inc."),
    ("MS", "Morgan Stanley"), ("BA", "Boeing Company"), ("AMD", "Advanced Micro Devices, Inc."),
    ("INTU", "Intuit Inc."), ("GE", "General Electric Company"),
    ("AMAT", "Applied Materials, Inc."), ("BLK", "BlackRock, Inc."),
    ("DE", "Deere & Company"), ("ISRG", "Intuitive Surgical, Inc."),
    ("MDT", "Medtronic plc"), ("LMT", "Lockheed Martin Corporation"),
    ("SPGI", "S&P Global Inc."), ("GILD", "Gilead Sciences, Inc."),
    ("AXP", "American Express Company"), ("SYK", "Stryker Corporation"),
    ("BKNG", "Booking Holdings Inc."), ("MDLZ", "Mondelez International, Inc."),
    ("ADP", "Automatic Data Processing, Inc."), ("C", "Citigroup Inc."),
    ("MMM", "3M Company"), ("MO", "Altria Group, Inc."), ("CVS", "CVS Health Corporation"),
    ("TJX", "TJX Companies, Inc."), ("SCHW", "Charles Schwab Corporation"),
    ("CI", "Cigna Group"), ("ZTS", "Zoetis Inc."), ("PLD", "Prologis, Inc."),
    ("CB", "Chubb Limited"), ("DUK", "Duke Energy Corporation"),
    ("SO", "Southern Company"), ("MU", "Micron Technology, Inc."),
    ("PYPL", "PayPal Holdings, Inc."), ("ADI", "Analog Devices, Inc."),
    ("LRCX", "Lam Research Corporation"), ("NOW", "ServiceNow, Inc."),
    ("REGN", "Regeneron Pharmaceuticals, Inc."), ("EL", "Estee Lauder Companies Inc."),
    ("USB", "U.S. Bancorp"), ("PNC", "PNC Financial Services Group, Inc."),
    ("F", "Ford Motor Company"), ("GM", "General Motors Company"),
    ("UBER", "Uber Technologies, Inc."), ("ABNB", "Airbnb, Inc."),
    ("SHOP", "Shopify Inc."), ("SNOW", "Snowflake Inc."), ("PANW", "Palo Alto Networks, Inc."),
    ("FDX", "FedEx Corporation"), ("EMR", "Emerson Electric Co."),
    ("KHC", "Kraft Heinz Company"), ("GIS", "General Mills, Inc."),
    ("TGT", "Target Corporation"), ("DAL", "Delta Air Lines, Inc."),
    ("BRK.A", "Berkshire Hathaway Inc. Class A"),
)  # fmt: skip

SCHEMA = """
CREATE TABLE symbols (
    symbol TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    first_date TEXT NOT NULL,
    last_date TEXT NOT NULL,
    bar_count INTEGER NOT NULL  -- kept here so that counting rows never scans the bars
) WITHOUT ROWID;
CREATE TABLE bars (
    symbol TEXT NOT NULL,
    date TEXT NOT NULL,  -- ISO 8601, so text order is date order
    open REAL NOT NULL,
    high REAL NOT NULL,
    low REAL NOT NULL,
    close REAL NOT NULL,
    volume INTEGER NOT NULL,
    PRIMARY KEY (symbol, date)
) WITHOUT ROWID;
"""


def _business_days(first: date, last: date) -> np.ndarray:
    days = np.arange(np.datetime64(first), np.datetime64(last) + 1, dtype="datetime64[D]")
    return days[np.is_busday(days)]


def _bars(rng: np.random.Generator, days: int) -> tuple[np.ndarray, ...]:
    """(open, high, low, close, volume) arrays of one symbol's random walk."""
    start = np.exp(rng.uniform(np.log(15.0), np.log(600.0)))
    volatility = rng.uniform(0.008, 0.03)
    drift = rng.normal(0.0003, 0.0004)
    log_close = np.log(start) + np.cumsum(rng.normal(drift, volatility, days))
    close = np.maximum(np.exp(log_close), 1.0)
    previous = np.concatenate(([start], close[:-1]))
    open_ = np.maximum(previous * np.exp(rng.normal(0.0, volatility / 3, days)), 1.0)
    wick = np.abs(rng.normal(0.0, volatility / 2, (2, days))).clip(max=0.2)
    high = np.maximum(open_, close) * (1.0 + wick[0])
    low = np.minimum(open_, close) * (1.0 - wick[1])
    volume = np.maximum(rng.lognormal(np.log(rng.uniform(2e5, 5e7)), 0.4, days), 1.0)
    return (
        np.round(open_, 2),
        np.round(high, 2),
        np.round(low, 2),
        np.round(close, 2),
        volume.astype(np.int64),
    )


def _write(connection: sqlite3.Connection, seed: int) -> None:
    rng = np.random.default_rng(seed)
    dates = _business_days(FIRST_DATE, LAST_DATE).astype(str).tolist()
    for symbol, name in COMPANIES:
        columns = [column.tolist() for column in _bars(rng, len(dates))]
        connection.executemany(
            "INSERT INTO bars VALUES (?, ?, ?, ?, ?, ?, ?)",
            zip([symbol] * len(dates), dates, *columns, strict=True),
        )
        connection.execute(
            "INSERT INTO symbols VALUES (?, ?, ?, ?, ?)",
            (symbol, name, dates[0], dates[-1], len(dates)),
        )


def seed_database(path: str | Path, seed: int = SEED) -> None:
    """Create the database at ``path`` atomically: written beside it, then renamed into place.

    A reader never sees a half-written file, and two processes seeding at once both end with
    the same complete file.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        connection = sqlite3.connect(tmp_name, isolation_level=None)
        try:
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute("PRAGMA synchronous=OFF")  # fsync once, below, not per page
            connection.executescript(SCHEMA)
            connection.execute("BEGIN")
            _write(connection, seed)
            connection.execute("COMMIT")
            connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            connection.close()  # the last connection folds the WAL back into the file
        with open(tmp_name, "rb") as fh:
            os.fsync(fh.fileno())
        os.chmod(tmp_name, 0o644)  # mkstemp's 0600 would hide the data from other users
        os.replace(tmp_name, path)
    finally:
        for leftover in (tmp_name, f"{tmp_name}-wal", f"{tmp_name}-shm"):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(leftover)
