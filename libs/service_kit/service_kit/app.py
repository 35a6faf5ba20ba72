"""The common shape of a service's FastAPI app: middleware, the error table, health, metrics."""

import json
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Any, cast

from fastapi import APIRouter, FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.exceptions import HTTPException

from service_kit.errors import VALIDATION_ERROR, error_code, field_errors
from service_kit.middleware import ServiceMiddleware
from service_kit.openapi import document_errors
from service_kit.uploads import UploadRejected, UploadTooLarge

logger = logging.getLogger(__name__)

ReadinessCheck = Callable[[], Awaitable[None]]


class _AsciiJSONResponse(JSONResponse):
    """Escapes non-ASCII, so an echoed lone surrogate from the client cannot break encoding."""

    def render(self, content: Any) -> bytes:
        return json.dumps(content, ensure_ascii=True, separators=(",", ":")).encode()


@dataclass(frozen=True)
class ErrorAnswer:
    """How the API answers one kind of refusal raised by domain code.

    ``code`` is the stable machine-readable name of the refusal (service_kit.errors);
    ``detail`` is the message: None shows the exception's own text, a string is
    fixed, a function computes it (every 422 is FastAPI's list of field errors:
    service_kit.errors.field_errors).
    """

    status: int
    code: str
    detail: str | Callable[[Exception], Any] | None = None
    headers: Callable[[Exception], Mapping[str, str]] | None = None

    def response(self, error: Exception) -> JSONResponse:
        if self.detail is None:
            detail: Any = str(error)
        elif isinstance(self.detail, str):
            detail = self.detail
        else:
            detail = self.detail(error)
        headers = dict(self.headers(error)) if self.headers is not None else None
        return error_response(self.status, detail, self.code, headers)


def error_response(status: int, detail: Any, code: str, headers: Mapping[str, str] | None = None) -> JSONResponse:
    return _AsciiJSONResponse(
        {"detail": jsonable_encoder(detail), "code": code}, status_code=status, headers=dict(headers or {}) or None
    )


def _error_table(errors: Mapping[type[Exception], ErrorAnswer]) -> Callable[[Request, Exception], Awaitable[Any]]:
    async def answer(_: Request, error: Exception) -> JSONResponse:
        # The closest registered class wins, as Starlette picks the handler.
        kind = next(kind for kind in type(error).__mro__ if kind in errors)
        return errors[kind].response(error)

    return answer


def _upload_loc(error: Exception) -> list[str | int]:
    return ["body", *cast(UploadRejected, error).loc]


# Refusals of the kit itself, answered alike by every service.
KIT_ERRORS: Mapping[type[Exception], ErrorAnswer] = {
    UploadRejected: ErrorAnswer(422, VALIDATION_ERROR, field_errors(_upload_loc)),
    UploadTooLarge: ErrorAnswer(413, "payload_too_large"),
}


async def validation_error(_: Request, error: Exception) -> JSONResponse:
    """FastAPI's 422 shape (``detail`` lists each field), safe for any input it echoes."""
    errors = error.errors() if isinstance(error, RequestValidationError) else []
    return error_response(422, errors, VALIDATION_ERROR)


async def http_error(_: Request, error: Exception) -> JSONResponse:
    """Starlette's and FastAPI's HTTPExceptions (the kit's 401/403, unknown routes) in the one shape."""
    assert isinstance(error, HTTPException)
    code = getattr(error, "code", None) or error_code(error.status_code)
    return error_response(error.status_code, error.detail, code, error.headers)


def create_service_app(
    *,
    service: str,
    title: str,
    version: str,
    lifespan: Callable[[FastAPI], AbstractAsyncContextManager[None]],
    readiness: Callable[[FastAPI], Mapping[str, ReadinessCheck]],
    routers: Sequence[APIRouter] = (),
    errors: Mapping[type[Exception], ErrorAnswer] | None = None,
    state: Mapping[str, Any] | None = None,
    **fastapi_options: Any,
) -> FastAPI:
    """Builds the app; docs are served under ``/docs/<service>`` so the gateway can route them.

    ``errors`` maps the service's domain refusals to answers; ``state`` goes to ``app.state``
    (the kit's dependencies read ``container``, ``database`` and ``token_verifier`` there).
    """
    app = FastAPI(
        title=title,
        version=version,
        lifespan=lifespan,
        docs_url=f"/docs/{service}",
        redoc_url=None,
        openapi_url=f"/openapi/{service}.json",
        **fastapi_options,
    )
    app.router.redirect_slashes = False
    app.add_middleware(ServiceMiddleware, service=service)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(HTTPException, http_error)
    table = {**KIT_ERRORS, **(errors or {})}
    answer = _error_table(table)
    for kind in table:
        app.add_exception_handler(kind, answer)
    for name, value in (state or {}).items():
        setattr(app.state, name, value)
    for router in routers:
        app.include_router(router)
    document_errors(app)

    @app.get("/health", include_in_schema=False)
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/ready", include_in_schema=False)
    async def ready() -> JSONResponse:
        results: dict[str, str] = {}
        for name, check in readiness(app).items():
            try:
                await check()
                results[name] = "ok"
            except Exception as error:
                results[name] = f"down: {type(error).__name__}"
        healthy = all(value == "ok" for value in results.values())
        return JSONResponse({"status": "ok" if healthy else "unavailable", "checks": results}, 200 if healthy else 503)

    @app.get("/metrics", include_in_schema=False)
    async def metrics() -> PlainTextResponse:
        return PlainTextResponse(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    return app
