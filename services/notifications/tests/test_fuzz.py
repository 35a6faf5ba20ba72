"""Schemathesis against the app in process: no answer contradicts contracts/openapi/notifications.json, none a 5xx."""

import asyncio

import httpx
from fastapi import FastAPI

from service_kit.fuzzing import fuzz, serving
from service_kit.testing import TokenFactory

from .conftest import Events, register_device


async def test_no_answer_contradicts_the_openapi_document(
    app: FastAPI, client: httpx.AsyncClient, tokens: TokenFactory, events: Events
) -> None:
    user, other = await events.user(), await events.user()
    await events.match(user, other)  # something in the inbox to page and mark read
    device = {"device_id": await register_device(client, tokens, user, f"fuzz-{user}")}
    headers = tokens.headers(user, "user")
    async with serving(app) as base_url:
        findings = await asyncio.to_thread(
            fuzz,
            app.openapi(),
            base_url,
            headers=lambda _: headers,
            known_paths=lambda label: device if "{device_id}" in label else None,
            max_examples=30,
        )
    assert not findings, "\n\n".join(map(str, findings))
