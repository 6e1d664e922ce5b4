"""Seeding and the SQLite store: deterministic data, consistent bars, outages and recovery."""

from __future__ import annotations

import hashlib
import os
import sqlite3
import time
from contextlib import closing
from datetime import date, timedelta

import pytest

from market_api.seeding import COMPANIES, FIRST_DATE, LAST_DATE, seed_database
from market_api.store import SqliteStore, StoreUnavailable, open_sqlite_store


def content_hash(path) -> str:
    digest = hashlib.sha256()
    with closing(sqlite3.connect(path)) as connection:
        for table, order in (("symbols", "symbol"), ("bars", "symbol, date")):
            for row in connection.execute(f"SELECT * FROM {table} ORDER BY {order}"):
                digest.update(repr(row).encode())
    return digest.hexdigest()


def test_seeding_is_deterministic_and_fast(tmp_path, market_db):
    started = time.perf_counter()
    seed_database(tmp_path / "again.db")
    assert time.perf_counter() - started < 10
    assert sorted(p.name for p in tmp_path.iterdir()) == ["again.db"]  # no temporary left
    assert content_hash(tmp_path / "again.db") == content_hash(market_db)


def test_a_different_seed_gives_different_data(tmp_path, market_db):
    seed_database(tmp_path / "other.db", seed=1)
    assert content_hash(tmp_path / "other.db") != content_hash(market_db)


def test_the_data_has_the_promised_size_and_shape(market_db):
    store = SqliteStore(market_db)
    symbols = {s.symbol: s for s in store.symbols()}
    assert len(symbols) >= 100 and {"AAPL", "MSFT"} <= set(symbols)
    assert dict(COMPANIES)["AAPL"] == symbols["AAPL"].name
    counts = store.counts()
    assert counts["symbols"] == len(symbols) and counts["bars"] >= 125_000
    for info in symbols.values():
        assert info.last_date == LAST_DATE
        assert info.last_date - info.first_date >= timedelta(days=5 * 365)
    with closing(sqlite3.connect(market_db)) as connection:
        assert connection.execute("SELECT count(*) FROM bars").fetchone()[0] == counts["bars"]
        assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_every_bar_is_consistent_and_on_a_business_day(market_db):
    with closing(sqlite3.connect(market_db)) as connection:
        inconsistent = connection.execute(
            "SELECT count(*) FROM bars WHERE NOT (low > 0 AND low <= open AND low <= close"
            " AND high >= open AND high >= close AND volume > 0)"
        ).fetchone()[0]
        weekend = connection.execute(
            "SELECT count(*) FROM bars WHERE strftime('%w', date) IN ('0', '6')"
        ).fetchone()[0]
    assert (inconsistent, weekend) == (0, 0)


def test_bars_come_in_date_order_within_the_range(market_db):
    bars = SqliteStore(market_db).bars("MSFT", date(2024, 3, 1), date(2024, 3, 31))
    dates = [bar[0] for bar in bars]
    assert dates == sorted(dates) and len(dates) == 21
    assert dates[0] == "2024-03-01" and dates[-1] == "2024-03-29"
    assert SqliteStore(market_db).bars("NOPE", FIRST_DATE, LAST_DATE) == []


def test_injection_like_input_is_only_ever_a_value(market_db):
    store = SqliteStore(market_db)
    assert store.bars("AAPL'; DROP TABLE bars;--", FIRST_DATE, LAST_DATE) == []
    assert store.counts()["bars"] >= 125_000


def test_a_missing_file_is_unavailable_and_never_recreated(own_db):
    store = SqliteStore(own_db)
    store.ping()
    away = own_db.with_name("away.db")
    own_db.rename(away)
    with pytest.raises(StoreUnavailable):
        store.ping()
    with pytest.raises(StoreUnavailable):
        store.symbols()
    assert not own_db.exists()
    away.rename(own_db)
    assert len(store.symbols()) >= 100  # back without a new store


def test_a_replaced_file_is_read_afresh(own_db, tmp_path):
    store = SqliteStore(own_db)
    assert store.counts()["symbols"] >= 100
    other = tmp_path / "small.db"
    with closing(sqlite3.connect(other)) as connection:
        connection.executescript(
            "CREATE TABLE symbols (symbol TEXT PRIMARY KEY, name TEXT, first_date TEXT,"
            " last_date TEXT, bar_count INTEGER);"
            "INSERT INTO symbols VALUES ('ONE', 'One Inc.', '2024-01-02', '2024-01-02', 1);"
        )
    os.replace(other, own_db)
    assert store.counts() == {"symbols": 1, "bars": 1}


def test_a_file_that_is_not_a_database_is_unavailable(own_db):
    store = SqliteStore(own_db)
    store.ping()
    garbage = own_db.with_name("garbage")
    garbage.write_bytes(b"not a database" * 100)
    os.replace(garbage, own_db)
    with pytest.raises(StoreUnavailable):
        store.ping()


def test_open_seeds_a_missing_file_only(tmp_path, market_db):
    path = tmp_path / "sub" / "fresh.db"
    store = open_sqlite_store(path)
    assert store.counts()["symbols"] >= 100
    store.close()
    modified = path.stat().st_mtime_ns
    open_sqlite_store(path).close()
    assert path.stat().st_mtime_ns == modified
