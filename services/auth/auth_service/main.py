"""App factory of the auth service: ``uvicorn auth_service.main:create_app --factory``."""

from typing import cast

from fastapi import FastAPI, status

from auth_service.api.routes import keys, users
from auth_service.container import AuthContainer
from auth_service.domain.accounts import BAD_CREDENTIALS, BadCredentials, NotYourAccount, UserGone
from auth_service.domain.phones import InvalidPhone
from auth_service.domain.sms import SmsDeliveryFailed
from auth_service.domain.throttle import Throttled
from auth_service.settings import AuthSettings, get_settings
from service_kit.app import ErrorAnswer
from service_kit.errors import VALIDATION_ERROR, field_errors

ERRORS: dict[type[Exception], ErrorAnswer] = {
    BadCredentials: ErrorAnswer(status.HTTP_400_BAD_REQUEST, "invalid_code", BAD_CREDENTIALS),
    # Every phone a client sends is the body's `phone`.
    InvalidPhone: ErrorAnswer(
        status.HTTP_422_UNPROCESSABLE_CONTENT, VALIDATION_ERROR, field_errors(lambda _: ("body", "phone"))
    ),
    Throttled: ErrorAnswer(
        status.HTTP_429_TOO_MANY_REQUESTS,
        "rate_limited",
        headers=lambda error: {"Retry-After": str(cast(Throttled, error).retry_after)},
    ),
    NotYourAccount: ErrorAnswer(
        status.HTTP_403_FORBIDDEN, "not_your_account", "You can only change your own account: phone is not yours"
    ),
    UserGone: ErrorAnswer(status.HTTP_401_UNAUTHORIZED, "token_invalid", "User no longer exists"),
    SmsDeliveryFailed: ErrorAnswer(
        status.HTTP_503_SERVICE_UNAVAILABLE, "sms_unavailable", "Could not send the SMS now; try again shortly"
    ),
}


def create_app(settings: AuthSettings | None = None) -> FastAPI:
    container = AuthContainer.build(settings or get_settings())
    return container.runtime.build_app(
        container,
        description="Users, activation codes and access tokens (seed endpoints 1-8).",
        routers=[users.router, keys.router, container.media.router()],
        errors=ERRORS,
        lifespan=container.runtime.lifespan(
            on_start=container.load_revocations, background=[container.keep_redis_revocations_seeded]
        ),
    )
