"""Response schemas, for the OpenAPI document only.

Handlers return ready JSON bytes (``Response``), which FastAPI passes through without
validating them against these models: the documentation costs nothing per request.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, Field


class Bar(BaseModel):
    date: dt.date
    open: float
    high: float
    low: float
    close: float
    volume: int


class HistoricalResponse(BaseModel):
    symbol: str
    start: dt.date = Field(description="First day of the range served (after defaults)")
    end: dt.date = Field(description="Last day of the range served (after defaults)")
    count: int
    bars: list[Bar] = Field(description="In date order")


class Symbol(BaseModel):
    symbol: str
    name: str
    first_date: dt.date
    last_date: dt.date


class SymbolsResponse(BaseModel):
    count: int
    symbols: list[Symbol]


class HealthResponse(BaseModel):
    status: Literal["ok", "degraded"]
    database: Literal["ok", "unavailable"]
    uptime_seconds: float


class RowCounts(BaseModel):
    symbols: int
    bars: int


class DatabaseStatus(BaseModel):
    kind: str
    status: Literal["ok", "unavailable"]
    rows: RowCounts | None = Field(description="null while the database is unavailable")


class CacheStatus(BaseModel):
    enabled: bool
    max_size: int
    ttl_seconds: float
    size: int


class FaultStatus(BaseModel):
    db_latency_ms: float
    error_rate: float
    window_s: tuple[float, float] | None = Field(
        description="[START, END]: faults apply only from START to END seconds after "
        "start-up; null = for the whole run"
    )
    stall_ms: float = Field(description="How long each stall holds every non-observer route")
    stall_every_s: float = Field(description="Seconds between stalls (0 = no stall)")
    capacity_rps: float | None = Field(
        description="Requests per second served one at a time, in arrival order; null = no limit"
    )


class ProcessStatus(BaseModel):
    pid: int
    rss_bytes: int = Field(description="Resident set size now, for soak tests")


class StatusResponse(BaseModel):
    status: Literal["ok", "degraded"]
    version: str
    uptime_seconds: float
    database: DatabaseStatus
    symbol_count: int | None
    cache: CacheStatus
    faults: FaultStatus
    observability: bool
    process: ProcessStatus


class RouteMetrics(BaseModel):
    count: int
    errors: int = Field(description="5xx answers")
    client_errors: int = Field(description="4xx answers")
    avg_ms: float


class MetricsResponse(BaseModel):
    requests_total: int
    errors_total: int
    client_errors_total: int
    routes: dict[str, RouteMetrics] = Field(
        description="By route template; paths that match no route count as <unmatched>"
    )
    uptime_seconds: float
