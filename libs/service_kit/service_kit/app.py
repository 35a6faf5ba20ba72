"""The common shape of a service's FastAPI app: middleware, the error table, health, metrics."""

import json
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from service_kit.middleware import ServiceMiddleware
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

    ``detail`` is the message: None shows the exception's own text, a string is
    fixed, a function computes it (FastAPI's list of field errors, say).
    """

    status: int
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
        return _AsciiJSONResponse({"detail": jsonable_encoder(detail)}, status_code=self.status, headers=headers)


def _error_table(errors: Mapping[type[Exception], ErrorAnswer]) -> Callable[[Request, Exception], Awaitable[Any]]:
    async def answer(_: Request, error: Exception) -> JSONResponse:
        # The closest registered class wins, as Starlette picks the handler.
        kind = next(kind for kind in type(error).__mro__ if kind in errors)
        return errors[kind].response(error)

    return answer


# Refusals of the kit itself, answered alike by every service.
KIT_ERRORS: Mapping[type[Exception], ErrorAnswer] = {
    UploadRejected: ErrorAnswer(422),
    UploadTooLarge: ErrorAnswer(413),
}


async def validation_error(_: Request, error: Exception) -> JSONResponse:
    """FastAPI's 422 shape (``detail`` lists each field), safe for any input it echoes."""
    errors = error.errors() if isinstance(error, RequestValidationError) else []
    return _AsciiJSONResponse({"detail": jsonable_encoder(errors)}, status_code=422)


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
    table = {**KIT_ERRORS, **(errors or {})}
    answer = _error_table(table)
    for kind in table:
        app.add_exception_handler(kind, answer)
    for name, value in (state or {}).items():
        setattr(app.state, name, value)
    for router in routers:
        app.include_router(router)

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
