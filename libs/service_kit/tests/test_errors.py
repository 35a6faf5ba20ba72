"""One error shape: every refusal is JSON with `detail` and a stable `code`, and OpenAPI says so."""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

import httpx
import pytest
from fastapi import Depends, FastAPI
from pydantic import BaseModel

from service_kit.app import ErrorAnswer, create_service_app
from service_kit.errors import VALIDATION_ERROR, error_responses, field_errors
from service_kit.fuzzing import fuzz, serving
from service_kit.security import (
    KeySet,
    Principal,
    RevocationList,
    TokenVerifier,
    optional_principal,
    require_principal,
    require_roles,
)
from service_kit.testing import TokenFactory
from service_kit.uploads import UploadRejected


class OutOfStock(Exception):
    pass


class BadQuantity(ValueError):
    pass


class Order(BaseModel):
    quantity: int


@asynccontextmanager
async def no_lifespan(_: FastAPI) -> AsyncIterator[None]:
    yield


def make_app(tokens: TokenFactory) -> FastAPI:
    errors = {
        OutOfStock: ErrorAnswer(409, "out_of_stock", "Sold out"),
        BadQuantity: ErrorAnswer(422, VALIDATION_ERROR, field_errors(lambda _: ("body", "quantity"))),
    }
    verifier = TokenVerifier(KeySet(tokens.jwks), RevocationList())
    app = create_service_app(
        service="kit-errors",
        title="t",
        version="0",
        lifespan=no_lifespan,
        readiness=lambda _: {},
        errors=errors,
        state={"token_verifier": verifier},
    )

    @app.get("/mine")
    async def mine(principal: Annotated[Principal, Depends(require_principal)]) -> dict[str, int]:
        return {"id": principal.user_id}

    @app.get("/agents", responses=error_responses(403))
    async def agents(principal: Annotated[Principal, require_roles("realtor")]) -> dict[str, int]:
        return {"id": principal.user_id}

    @app.get("/card")
    async def card(viewer: Annotated[Principal | None, Depends(optional_principal)]) -> dict[str, int | None]:
        return {"id": viewer.user_id if viewer else None}

    @app.post("/orders", responses=error_responses(409))
    async def order(body: Order) -> dict[str, int]:
        if body.quantity > 10:
            raise OutOfStock
        if body.quantity < 0:
            raise BadQuantity("quantity: must not be negative")
        if body.quantity == 7:
            raise UploadRejected("images[2]", "not an image")
        return {"quantity": body.quantity}

    return app


@pytest.fixture
async def client(tokens: TokenFactory) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=make_app(tokens))
    async with httpx.AsyncClient(transport=transport, base_url="http://kit") as http:
        yield http


async def test_the_kits_refusals_carry_a_code(client: httpx.AsyncClient, tokens: TokenFactory) -> None:
    anonymous = await client.get("/mine")
    assert (anonymous.status_code, anonymous.json()["code"]) == (401, "unauthorized")
    assert anonymous.headers["www-authenticate"] == "Bearer"
    forged = await client.get("/mine", headers={"Authorization": "Bearer not.a.token"})
    assert (forged.status_code, forged.json()["code"]) == (401, "token_invalid")
    assert (await client.get("/card", headers={"Authorization": "Bearer x"})).json()["code"] == "token_invalid"
    assert (await client.get("/card")).json() == {"id": None}
    buyer = await client.get("/agents", headers=tokens.headers(5, "user"))
    assert buyer.status_code == 403
    assert buyer.json() == {"detail": "Only roles realtor may do this", "code": "role_forbidden"}
    nowhere = await client.get("/nowhere")
    assert (nowhere.status_code, nowhere.json()) == (404, {"detail": "Not Found", "code": "not_found"})
    wrong_method = await client.delete("/mine")
    assert (wrong_method.status_code, wrong_method.json()["code"]) == (405, "method_not_allowed")


async def test_domain_refusals_answer_as_the_table_says(client: httpx.AsyncClient) -> None:
    sold_out = await client.post("/orders", json={"quantity": 11})
    assert (sold_out.status_code, sold_out.json()) == (409, {"detail": "Sold out", "code": "out_of_stock"})
    # Every 422 is FastAPI's list of {loc, msg, type}, whoever refused.
    for body, loc in [
        ({"quantity": "many"}, ["body", "quantity"]),
        ({"quantity": -1}, ["body", "quantity"]),
        ({"quantity": 7}, ["body", "images", 2]),
    ]:
        refused = await client.post("/orders", json=body)
        assert refused.status_code == 422, body
        assert refused.json()["code"] == "validation_error"
        (problem,) = refused.json()["detail"]
        assert problem["loc"] == loc and problem["msg"] and problem["type"], body


async def test_openapi_declares_the_bearer_scheme_and_the_error_answers(tokens: TokenFactory) -> None:
    document = make_app(tokens).openapi()
    paths = document["paths"]
    assert document["components"]["securitySchemes"] == {
        "bearerAuth": {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "JWT",
            "description": "An access token from POST /users/token: `Authorization: Bearer <token>`",
        }
    }
    assert "bearerAuthOptional" not in str(document)
    error = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}}
    assert paths["/mine"]["get"]["security"] == [{"bearerAuth": []}]
    assert paths["/mine"]["get"]["responses"]["401"]["content"] == error
    assert set(paths["/agents"]["get"]["responses"]) == {"200", "401", "403"}
    # A token is optional: anonymous is one of the alternatives.
    assert paths["/card"]["get"]["security"] == [{"bearerAuth": []}, {}]
    orders = paths["/orders"]["post"]
    assert "security" not in orders and "401" not in orders["responses"]
    assert orders["responses"]["409"]["content"] == error
    assert orders["responses"]["400"]["content"] == error  # a body that cannot be parsed at all
    validation = document["components"]["schemas"]["HTTPValidationError"]
    assert validation["required"] == ["detail", "code"]
    assert validation["properties"]["code"]["const"] == "validation_error"
    limited = error_responses(429)[429]
    assert limited["headers"]["Retry-After"]["schema"]["type"] == "integer"


async def test_the_fuzzer_finds_what_contradicts_the_document(tokens: TokenFactory) -> None:
    """The same fuzzing the services pass (test_fuzz.py) fails on an app that breaks its document."""
    app = make_app(tokens)

    @app.get("/teapot")
    async def teapot(size: int = 0) -> dict[str, Any]:
        if size > 3:
            raise RuntimeError("a bug")  # a 500
        return {"size": "large"}  # not the documented body

    document = app.openapi()
    document["paths"]["/teapot"]["get"]["responses"]["200"] = {
        "description": "ok",
        "content": {
            "application/json": {
                "schema": {"type": "object", "properties": {"size": {"type": "integer"}}, "required": ["size"]}
            }
        },
    }
    headers = tokens.headers(5, "realtor")
    async with serving(app) as base_url:
        findings = await asyncio.to_thread(fuzz, document, base_url, headers=lambda _: headers, max_examples=20)
    problems = {finding.operation: finding.problem for finding in findings}
    assert set(problems) == {"GET /teapot"}, problems
    # One of the two is reported (the first found), whichever the generated examples reach first.
    assert "Server error" in problems["GET /teapot"] or "Response violates schema" in problems["GET /teapot"]
