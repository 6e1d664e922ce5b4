"""The peer of the cached-historical benchmark: the same endpoint, cached by fastapi-cache2.

A minimal FastAPI app written the way fastapi-cache2's documentation shows: an ``@cache``
decorated endpoint over the same SQLite file, with the ``InMemoryBackend``. It answers the
same query with the same JSON shape as ``market_api``.

    python -m benchmarks.peer_fastapi_cache2 --port 8001 --db data/market.db
"""

from __future__ import annotations

import argparse
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import date
from typing import Any

import uvicorn
from fastapi import FastAPI, HTTPException
from fastapi_cache import FastAPICache
from fastapi_cache.backends.inmemory import InMemoryBackend
from fastapi_cache.decorator import cache

_FIELDS = ("date", "open", "high", "low", "close", "volume")


def create_peer_app(db_path: str) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        FastAPICache.init(InMemoryBackend(), prefix="peer")
        yield

    app = FastAPI(lifespan=lifespan)

    @app.get("/api/v1/historical")
    @cache(expire=300)
    def historical(symbol: str, start: date, end: date) -> dict[str, Any]:
        with sqlite3.connect(f"file:{db_path}?mode=ro", uri=True) as connection:
            rows = connection.execute(
                "SELECT date, open, high, low, close, volume FROM bars"
                " WHERE symbol = ? AND date BETWEEN ? AND ? ORDER BY date",
                (symbol, start.isoformat(), end.isoformat()),
            ).fetchall()
        if not rows:
            raise HTTPException(status_code=404, detail="no bars")
        bars = [dict(zip(_FIELDS, row, strict=True)) for row in rows]
        return {"symbol": symbol, "start": start, "end": end, "count": len(bars), "bars": bars}

    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8001)
    parser.add_argument("--db", default="data/market.db")
    args = parser.parse_args()
    uvicorn.run(
        create_peer_app(args.db),
        host=args.host,
        port=args.port,
        loop="uvloop",
        http="httptools",
        access_log=False,
        log_level="warning",
    )


if __name__ == "__main__":
    main()
