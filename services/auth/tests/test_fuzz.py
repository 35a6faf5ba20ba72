"""Schemathesis against the app in process: no answer contradicts contracts/openapi/auth.json, none is a 5xx."""

import asyncio

from fastapi import FastAPI

from service_kit.fuzzing import fuzz, serving

from .conftest import Users


async def test_no_answer_contradicts_the_openapi_document(app: FastAPI, users: Users, phone: str) -> None:
    headers = await users.login(phone)
    async with serving(app) as base_url:
        findings = await asyncio.to_thread(fuzz, app.openapi(), base_url, headers=lambda _: headers, max_examples=30)
    assert not findings, "\n\n".join(map(str, findings))
