"""The database behind the service: a narrow ``Store`` interface and its SQLite implementation.

The service only needs four questions answered, so another database (PostgreSQL behind a
``DATABASE_URL``) fits behind the same ``Store`` protocol. Every method is blocking; the
service calls them from worker threads.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Protocol
from urllib.parse import quote

from market_api.seeding import seed_database

__all__ = ["Bar", "SqliteStore", "Store", "StoreUnavailable", "SymbolInfo", "open_sqlite_store"]

#: One daily bar: (ISO date, open, high, low, close, volume), ready for JSON as it is.
Bar = tuple[str, float, float, float, float, int]


class StoreUnavailable(Exception):
    """The database cannot answer right now (missing, unreadable or not a database)."""


@dataclass(frozen=True, slots=True)
class SymbolInfo:
    symbol: str
    name: str
    first_date: date
    last_date: date


class Store(Protocol):
    """What the service asks of its database. Each method may raise ``StoreUnavailable``."""

    kind: str

    def symbols(self) -> list[SymbolInfo]:
        """Every symbol with its name and the dates of its first and last bar, by symbol."""
        ...

    def bars(self, symbol: str, start: date, end: date) -> list[Bar]:
        """The bars of ``symbol`` from ``start`` to ``end`` inclusive, in date order."""
        ...

    def counts(self) -> dict[str, int]:
        """Row counts: ``{"symbols": n, "bars": n}``."""
        ...

    def ping(self) -> None:
        """Returns when the database answers a query; raises ``StoreUnavailable`` otherwise."""
        ...

    def close(self) -> None: ...


class SqliteStore:
    """Read-only access to the seeded SQLite file, one connection per thread.

    An open SQLite connection keeps reading a file that was deleted or renamed, so each query
    first checks that the path still names the file the thread's connection was opened on
    (device and inode), and reconnects when it changed. The URI's ``mode=rw`` makes a missing
    file an error instead of a new empty database; the file then answers again as soon as it
    is back, without a restart.
    """

    kind = "sqlite"

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path).resolve()
        self._uri = f"file:{quote(str(self.path))}?mode=rw"
        self._local = threading.local()
        self._open: set[sqlite3.Connection] = set()
        self._open_lock = threading.Lock()

    def _connection(self) -> sqlite3.Connection:
        try:
            stat = os.stat(self.path)
        except OSError:
            self._drop()
            raise StoreUnavailable("database file is missing") from None
        identity = (stat.st_dev, stat.st_ino)
        local = self._local
        connection = getattr(local, "connection", None)
        if connection is not None:
            if local.identity == identity:
                return connection
            self._drop()
        try:
            # check_same_thread=False only so that close() can run on another thread.
            connection = sqlite3.connect(
                self._uri, uri=True, isolation_level=None, check_same_thread=False
            )
            connection.execute("PRAGMA query_only=ON")
        except sqlite3.Error:
            raise StoreUnavailable("database file cannot be opened") from None
        local.connection, local.identity = connection, identity
        with self._open_lock:
            self._open.add(connection)
        return connection

    def _drop(self) -> None:
        """Close this thread's connection, if any, so that the next query reconnects."""
        connection = getattr(self._local, "connection", None)
        if connection is None:
            return
        self._local.connection = None
        with self._open_lock:
            self._open.discard(connection)
        connection.close()

    def _query(self, sql: str, params: tuple[object, ...] = ()) -> list[tuple]:
        connection = self._connection()
        try:
            return connection.execute(sql, params).fetchall()
        except (sqlite3.ProgrammingError, sqlite3.InterfaceError):
            raise  # a bug in this module, not an unavailable database
        except sqlite3.DatabaseError:
            self._drop()
            raise StoreUnavailable("database cannot be read") from None

    def symbols(self) -> list[SymbolInfo]:
        rows = self._query(
            "SELECT symbol, name, first_date, last_date FROM symbols ORDER BY symbol"
        )
        return [
            SymbolInfo(symbol, name, date.fromisoformat(first), date.fromisoformat(last))
            for symbol, name, first, last in rows
        ]

    def bars(self, symbol: str, start: date, end: date) -> list[Bar]:
        return self._query(
            "SELECT date, open, high, low, close, volume FROM bars"
            " WHERE symbol = ? AND date BETWEEN ? AND ? ORDER BY date",
            (symbol, start.isoformat(), end.isoformat()),
        )

    def counts(self) -> dict[str, int]:
        # The per-symbol bar_count is written with the bars: count(*) would scan them all.
        ((symbols, bars),) = self._query(
            "SELECT count(*), coalesce(sum(bar_count), 0) FROM symbols"
        )
        return {"symbols": symbols, "bars": bars}

    def ping(self) -> None:
        self._query("SELECT 1 FROM symbols LIMIT 1")  # touches the schema, unlike SELECT 1

    def close(self) -> None:
        """Close every thread's connection (at shutdown, when no query is running)."""
        with self._open_lock:
            connections, self._open = self._open, set()
        for connection in connections:
            connection.close()


def open_sqlite_store(path: str | Path) -> SqliteStore:
    """The store for ``path``, seeding the database first when the file does not exist.

    Seeding happens here, at start-up only: at runtime a missing file is an outage to report,
    not a reason to create an empty database.
    """
    path = Path(path)
    if not path.exists():
        seed_database(path)
    return SqliteStore(path)
