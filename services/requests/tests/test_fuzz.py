"""Schemathesis against the app in process: no answer contradicts contracts/openapi/requests.json, none is a 5xx."""

import asyncio

import httpx
from fastapi import FastAPI

from service_kit.fuzzing import fuzz, serving
from service_kit.testing import TokenFactory

from .conftest import SEED_REQUEST, new_id


async def test_no_answer_contradicts_the_openapi_document(
    app: FastAPI, client: httpx.AsyncClient, tokens: TokenFactory
) -> None:
    headers = tokens.headers(new_id(), "user")
    created = await client.post("/users/create_request", json=SEED_REQUEST, headers=headers)
    assert created.status_code == 201, created.text
    own = {"request_id": created.json()["id"]}
    async with serving(app) as base_url:
        findings = await asyncio.to_thread(
            fuzz,
            app.openapi(),
            base_url,
            headers=lambda _: headers,
            known_paths=lambda label: own if "{request_id}" in label else None,
            max_examples=30,
        )
    assert not findings, "\n\n".join(map(str, findings))
