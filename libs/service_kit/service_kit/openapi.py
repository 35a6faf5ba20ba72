"""What the kit adds to every service's OpenAPI document after FastAPI built it.

- The error shape: every documented 4xx/5xx without a body of its own gets
  ``ErrorBody``, and FastAPI's 422 model gains the ``code`` every answer carries.
- A body that cannot be parsed at all is FastAPI's 400: documented on every operation that takes one.
- The bearer scheme: each operation behind the kit's principal dependencies
  declares it (so the docs show "Authorize") and documents its 401; an operation
  where a token is optional (``optional_principal``) says so with an empty
  alternative, as OpenAPI spells "anonymous is fine too".
"""

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI

from service_kit.errors import DESCRIPTIONS, VALIDATION_ERROR, ErrorBody

BEARER = "bearerAuth"
# A second name for the same scheme marks the operations where a token is optional; it is folded into BEARER.
OPTIONAL_BEARER = "bearerAuthOptional"
ERROR_REF = {"$ref": f"#/components/schemas/{ErrorBody.__name__}"}
UNPARSABLE_BODY = "The body cannot be parsed: not UTF-8 JSON, or a broken form (code `bad_request`)"
_METHODS = {"get", "put", "post", "delete", "patch", "head", "options", "trace"}


def document_errors(app: FastAPI) -> None:
    """Wraps ``app.openapi`` so the document FastAPI builds (once) is completed as described above."""
    build: Callable[[], dict[str, Any]] = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = complete(build())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def complete(document: dict[str, Any]) -> dict[str, Any]:
    components = document.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    schemas.setdefault(ErrorBody.__name__, ErrorBody.model_json_schema())
    validation = schemas.get("HTTPValidationError")
    if validation is not None:
        validation["properties"]["code"] = {"const": VALIDATION_ERROR, "title": "Code", "type": "string"}
        validation["required"] = ["detail", "code"]
    schemes = components.get("securitySchemes", {})
    optional = schemes.pop(OPTIONAL_BEARER, None)
    if optional is not None:
        schemes.setdefault(BEARER, optional)
    for item in document.get("paths", {}).values():
        for method, operation in item.items():
            if method in _METHODS:
                _complete_operation(operation)
    return document


def _complete_operation(operation: dict[str, Any]) -> None:
    names = {name for requirement in operation.get("security", []) for name in requirement}
    responses = operation.setdefault("responses", {})
    if OPTIONAL_BEARER in names:
        operation["security"] = [{BEARER: []}, {}]
    if names & {BEARER, OPTIONAL_BEARER}:
        responses.setdefault("401", {"description": DESCRIPTIONS[401]})
    if "requestBody" in operation:
        responses.setdefault("400", {"description": UNPARSABLE_BODY})
    for status, response in responses.items():
        if status.isdigit() and int(status) >= 400 and status != "422" and "content" not in response:
            response["content"] = {"application/json": {"schema": ERROR_REF}}
