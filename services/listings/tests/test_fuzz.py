"""Schemathesis against the app in process: no answer contradicts contracts/openapi/listings.json, none is a 5xx."""

import asyncio

import httpx
from fastapi import FastAPI

from service_kit.fuzzing import fuzz, serving
from service_kit.testing import TokenFactory

from .conftest import SEED_FIELDS


async def test_no_answer_contradicts_the_openapi_document(
    app: FastAPI, client: httpx.AsyncClient, tokens: TokenFactory
) -> None:
    seller = tokens.headers(901, "realtor")
    created = await client.post("/properties/create", data=SEED_FIELDS, headers=seller)
    assert created.status_code == 201, created.text
    own = {"property_id": created.json()["id"]}
    async with serving(app) as base_url:
        findings = await asyncio.to_thread(
            fuzz,
            app.openapi(),
            base_url,
            headers=lambda _: seller,
            known_paths=lambda label: own if "{property_id}" in label else None,
            max_examples=30,
        )
    assert not findings, "\n\n".join(map(str, findings))
