"""Schemathesis against the app in process: no answer contradicts contracts/openapi/chat.json, none is a 5xx."""

import asyncio

import httpx
from fastapi import FastAPI

from service_kit.fuzzing import fuzz, serving
from service_kit.testing import TokenFactory

from .conftest import World


async def test_no_answer_contradicts_the_openapi_document(
    app: FastAPI, client: httpx.AsyncClient, tokens: TokenFactory, world: World
) -> None:
    buyer = await world.user("Покупатель", "Фаззер")
    seller = await world.user("Продавец", "Фаззер")
    listing = await world.listing(seller)
    headers = tokens.headers(buyer, "user")
    body = {"buyer_id": buyer, "seller_id": seller, "property_id": listing}
    opened = await client.post("/chat/create_chat", json=body, headers=headers)
    assert opened.status_code == 201, opened.text
    chat = {"chat_id": opened.json()["id"]}
    async with serving(app) as base_url:
        findings = await asyncio.to_thread(
            fuzz,
            app.openapi(),
            base_url,
            headers=lambda _: headers,
            known_paths=lambda label: chat if "{chat_id}" in label else None,
            max_examples=30,
        )
    assert not findings, "\n\n".join(map(str, findings))
