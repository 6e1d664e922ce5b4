"""One JSON error shape for every failure: ``{"error": code, "detail": message}``.

No error body or log line ever contains a submitted value: a validation error names the
parameter and what is wrong with it, never what was sent.
"""

from __future__ import annotations

import logging
import traceback
from http import HTTPStatus

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

from market_api.faults import InjectedFault
from market_api.store import StoreUnavailable
from perf_lib.fastapi_router import json_response

__all__ = [
    "ApiError",
    "ClientError",
    "ErrorBody",
    "InvalidInput",
    "NotFound",
    "install_error_handlers",
]

logger = logging.getLogger("market_api.errors")

#: Seconds a client should wait before retrying a 503.
RETRY_AFTER = "1"

_CODES = {
    404: "not_found",
    405: "method_not_allowed",
    422: "validation_error",
    500: "internal_error",
    503: "unavailable",
}


class ErrorBody(BaseModel):
    """Every error response."""

    error: str
    detail: str


class ApiError(Exception):
    """An error with its HTTP status; the message is the ``detail`` (never a submitted value)."""

    status_code = 500

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class ClientError(ApiError):
    """A 4xx: the request is wrong, the service and its database are fine."""


class NotFound(ClientError):
    status_code = 404


class InvalidInput(ClientError):
    status_code = 422


def _error_response(
    status_code: int, detail: str, headers: dict[str, str] | None = None
) -> Response:
    code = _CODES.get(status_code) or HTTPStatus(status_code).phrase.lower().replace(" ", "_")
    return json_response({"error": code, "detail": detail}, status_code, headers)


def _validation_detail(exc: RequestValidationError) -> str:
    problems = []
    for error in exc.errors():
        names = [str(part) for part in error.get("loc", ()) if isinstance(part, str)]
        name = names[-1] if names else "request"
        problems.append(
            f"{name} is required" if error.get("type") == "missing" else f"{name} is malformed"
        )
    return "; ".join(dict.fromkeys(problems)) or "invalid request"


async def _api_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    return _error_response(exc.status_code, exc.detail)


async def _validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    return _error_response(422, _validation_detail(exc))


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    detail = "no such route" if exc.status_code == 404 else HTTPStatus(exc.status_code).phrase
    return _error_response(exc.status_code, detail, exc.headers)


async def _unavailable(request: Request, exc: Exception) -> Response:
    detail = "injected database fault" if isinstance(exc, InjectedFault) else str(exc)
    return _error_response(503, detail, {"Retry-After": RETRY_AFTER})


async def _internal_error(request: Request, exc: Exception) -> Response:
    # Frames only: the exception's message could quote a value taken from the request.
    logger.error(
        "unhandled %s\n%s", type(exc).__name__, "".join(traceback.format_tb(exc.__traceback__))
    )
    return _error_response(500, "internal server error")


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(ApiError, _api_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(StoreUnavailable, _unavailable)
    app.add_exception_handler(InjectedFault, _unavailable)
    app.add_exception_handler(Exception, _internal_error)
