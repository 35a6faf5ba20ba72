"""The common shape of a service's FastAPI app: middleware, errors, health, metrics."""

import json
import logging
from collections.abc import Awaitable, Callable, Mapping
from contextlib import AbstractAsyncContextManager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from service_kit.middleware import (
    MetricsMiddleware,
    RequestIdMiddleware,
    TrailingSlashMiddleware,
    UnhandledErrorMiddleware,
)
from service_kit.uploads import UploadRejected, UploadTooLarge

logger = logging.getLogger(__name__)

ReadinessCheck = Callable[[], Awaitable[None]]


class _AsciiJSONResponse(JSONResponse):
    """Escapes non-ASCII, so an echoed lone surrogate from the client cannot break encoding."""

    def render(self, content: Any) -> bytes:
        return json.dumps(content, ensure_ascii=True, separators=(",", ":")).encode()


async def upload_rejected(_: Request, error: Exception) -> JSONResponse:
    status = 413 if isinstance(error, UploadTooLarge) else 422
    return JSONResponse({"detail": str(error)}, status_code=status)


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
    **fastapi_options: Any,
) -> FastAPI:
    """Builds the app; docs are served under ``/docs/<service>`` so the gateway can route them."""
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
    app.add_middleware(UnhandledErrorMiddleware)
    app.add_middleware(MetricsMiddleware, service=service)
    app.add_middleware(TrailingSlashMiddleware)
    app.add_middleware(RequestIdMiddleware)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(UploadRejected, upload_rejected)

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
