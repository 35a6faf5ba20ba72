"""The one error shape of every service and of the gateway: ``{"detail": ..., "code": ...}``.

``detail`` is a message, or (every 422) FastAPI's list of ``{loc, msg, type}``;
``code`` is a stable machine-readable name a client can branch on. This module
holds the shape (models for OpenAPI), the default code of each status, the
``Refusal`` the kit raises itself and the helpers routes use to document answers.
"""

import re
from collections.abc import Callable, Mapping, Sequence
from http import HTTPStatus
from typing import Any

from fastapi import HTTPException
from pydantic import BaseModel, Field

# Codes of answers nobody gave a more specific one (the gateway's own refusals use them too).
STATUS_CODES: Mapping[int, str] = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_error",
    429: "rate_limited",
    500: "internal_error",
    502: "bad_gateway",
    503: "service_unavailable",
    504: "gateway_timeout",
}

VALIDATION_ERROR = "validation_error"


def error_code(status: int) -> str:
    """The default code of a status: the table above, else the status phrase in snake case."""
    if status in STATUS_CODES:
        return STATUS_CODES[status]
    try:
        return re.sub(r"[^a-z0-9]+", "_", HTTPStatus(status).phrase.lower()).strip("_")
    except ValueError:
        return "error"


class ErrorBody(BaseModel):
    """Every refusal but a 422."""

    detail: str = Field(description="What went wrong, for people")
    code: str = Field(description="Stable machine-readable reason, e.g. not_found, rate_limited, not_participant")


class Refusal(HTTPException):
    """An HTTPException that names its own ``code`` (the kit's 401/403, a route's 415)."""

    def __init__(self, status: int, detail: str, code: str, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(status, detail=detail, headers=dict(headers) if headers else None)
        self.code = code


def field_errors(
    loc: Callable[[Exception], Sequence[str | int]], error_type: str = "value_error"
) -> Callable[[Exception], list[dict[str, Any]]]:
    """An ErrorAnswer detail in FastAPI's 422 shape for a refusal about one field."""

    def detail(error: Exception) -> list[dict[str, Any]]:
        return [{"type": error_type, "loc": list(loc(error)), "msg": str(error)}]

    return detail


DESCRIPTIONS: Mapping[int, str] = {
    400: "Refused as sent",
    401: "No token, or an invalid, expired or revoked one (code `unauthorized` or `token_invalid`)",
    403: "The caller may not do this",
    404: "Not found",
    409: "Conflicts with the current state",
    413: "The body or a file is larger than allowed",
    415: "The body is not of a type this operation reads",
    429: "Too many requests: wait `Retry-After` seconds",
    503: "Temporarily unavailable: try again shortly",
}

RETRY_AFTER = {
    "Retry-After": {"description": "Seconds to wait before trying again", "schema": {"type": "integer", "minimum": 0}}
}


def error_responses(*documented: int | tuple[int, str]) -> dict[int | str, dict[str, Any]]:
    """``responses=`` of a route: each status (or (status, description)) with the error model.

    422 is left to FastAPI, which documents it on every operation that takes input.
    """
    responses: dict[int | str, dict[str, Any]] = {}
    for item in documented:
        status, description = item if isinstance(item, tuple) else (item, DESCRIPTIONS.get(item, error_code(item)))
        response: dict[str, Any] = {"model": ErrorBody, "description": description}
        if status == 429:
            response["headers"] = RETRY_AFTER
        responses[status] = response
    return responses
