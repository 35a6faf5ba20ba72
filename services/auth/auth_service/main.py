"""App factory of the auth service: ``uvicorn auth_service.main:create_app --factory``."""

from typing import cast

from fastapi import FastAPI, Request, status
from fastapi.responses import JSONResponse

from auth_service.api.routes import keys, users
from auth_service.container import AuthContainer
from auth_service.domain.accounts import BAD_CREDENTIALS, BadCredentials, NotYourAccount, UserGone
from auth_service.domain.phones import InvalidPhone
from auth_service.domain.sms import SmsDeliveryFailed
from auth_service.domain.throttle import Throttled
from auth_service.settings import AuthSettings, get_settings
from service_kit.app import create_service_app
from service_kit.logging import configure_logging


def _detail(status_code: int, detail: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"detail": detail}, status_code=status_code, headers=headers)


def _register_errors(app: FastAPI) -> None:
    async def bad_credentials(_: Request, __: Exception) -> JSONResponse:
        return _detail(status.HTTP_400_BAD_REQUEST, BAD_CREDENTIALS)

    async def invalid_phone(_: Request, error: Exception) -> JSONResponse:
        return _detail(status.HTTP_422_UNPROCESSABLE_CONTENT, str(error))

    async def throttled(_: Request, error: Exception) -> JSONResponse:
        retry_after = cast(Throttled, error).retry_after
        return _detail(status.HTTP_429_TOO_MANY_REQUESTS, str(error), {"Retry-After": str(retry_after)})

    async def not_your_account(_: Request, __: Exception) -> JSONResponse:
        return _detail(status.HTTP_403_FORBIDDEN, "You can only change your own account: phone is not yours")

    async def user_gone(_: Request, __: Exception) -> JSONResponse:
        return _detail(status.HTTP_401_UNAUTHORIZED, "User no longer exists")

    async def sms_failed(_: Request, __: Exception) -> JSONResponse:
        return _detail(status.HTTP_503_SERVICE_UNAVAILABLE, "Could not send the SMS now; try again shortly")

    app.add_exception_handler(BadCredentials, bad_credentials)
    app.add_exception_handler(InvalidPhone, invalid_phone)
    app.add_exception_handler(Throttled, throttled)
    app.add_exception_handler(NotYourAccount, not_your_account)
    app.add_exception_handler(UserGone, user_gone)
    app.add_exception_handler(SmsDeliveryFailed, sms_failed)


def create_app(settings: AuthSettings | None = None) -> FastAPI:
    settings = settings or get_settings()
    configure_logging("auth", settings.log_level, settings.log_json)
    container = AuthContainer.build(settings)
    app = create_service_app(
        service="auth",
        title="Marketplace auth service",
        version="1.0.0",
        lifespan=container.runtime.lifespan(
            on_start=container.load_revocations, background=[container.keep_redis_revocations_seeded]
        ),
        readiness=lambda _: container.runtime.readiness(),
        description="Users, activation codes and access tokens (seed endpoints 1-8).",
    )
    app.state.container = container
    app.state.token_verifier = container.runtime.verifier
    _register_errors(app)
    app.include_router(users.router)
    app.include_router(keys.router)
    app.include_router(container.media.router())
    return app
