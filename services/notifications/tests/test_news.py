"""Operators' announcements from the command line, to the users who allow news."""

import asyncio
import json
import os
import sys
from typing import Any

import httpx
from fastapi import FastAPI
from pydantic import SecretStr

from notifications_service.settings import NotificationsSettings
from service_kit.testing import TokenFactory

from .conftest import Events, inbox_of, pushes_settled, register_device
from .fake_push import FakePush


def environment_of(settings: NotificationsSettings) -> dict[str, str]:
    """The settings as the environment variables the CLI reads."""
    env: dict[str, str] = {}
    for name in type(settings).model_fields:
        value: Any = getattr(settings, name)
        if value is None:
            continue
        if isinstance(value, SecretStr):
            value = value.get_secret_value()
        elif isinstance(value, list):
            value = json.dumps([str(item) for item in value])
        elif isinstance(value, bool):
            value = "true" if value else "false"
        env[name.upper()] = str(value)
    return env


async def announce(settings: NotificationsSettings, *arguments: str) -> tuple[int, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "notifications_service.announce",
        *arguments,
        env=os.environ | environment_of(settings),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await process.communicate()
    assert process.returncode is not None
    return process.returncode, output.decode()


async def test_an_announcement_reaches_only_those_who_allow_news(
    client: httpx.AsyncClient,
    tokens: TokenFactory,
    app: FastAPI,
    events: Events,
    push: FakePush,
    settings: NotificationsSettings,
) -> None:
    reader, quiet, realtor = (
        await events.user(news=True),
        await events.user(),  # news is off by default
        await events.user(news=True),
    )
    await events.send("user.updated", {**_realtor(realtor)}, "auth")
    await register_device(client, tokens, reader, f"reader-{reader}")

    code, output = await announce(
        settings, "--title", "Новое в приложении", "--body", "Теперь есть уведомления", "--batch", "1"
    )
    assert code == 0, output
    assert "done" in output
    [news] = await inbox_of(app, reader)
    assert (news.kind, news.title, news.body, news.alert) == (
        "news",
        "Новое в приложении",
        "Теперь есть уведомления",
        True,
    )
    assert await inbox_of(app, quiet) == []
    assert [entry.kind for entry in await inbox_of(app, realtor)] == ["news"]
    await pushes_settled(push, f"reader-{reader}", 1, within=10)

    # Only some roles; and resuming a finished announcement repeats nothing.
    code, output = await announce(settings, "--title", "Для риелторов", "--body", "Новые тарифы", "--role", "realtor")
    assert code == 0, output
    assert [entry.title for entry in await inbox_of(app, realtor)] == ["Новое в приложении", "Для риелторов"]
    assert len(await inbox_of(app, reader)) == 1
    announcement_id = output.split("announcement ")[1].split()[0]
    code, output = await announce(settings, "--resume", announcement_id)
    assert (code, len(await inbox_of(app, realtor))) == (0, 2)


async def test_bad_announcements_are_refused(settings: NotificationsSettings) -> None:
    code, output = await announce(settings, "--title", "", "--body", "x")
    assert (code, "refused" in output) == (2, True)
    code, output = await announce(settings, "--body", "no title")
    assert code == 2 and "--title and --body are required" in output
    code, output = await announce(settings, "--resume", "999999999")
    assert (code, "no announcement" in output) == (2, True)


def _realtor(user_id: int) -> dict[str, Any]:
    return {
        "user_id": user_id,
        "phone": f"+7916{user_id % 10**7:07d}",
        "first_name": "Риелтор",
        "last_name": "Петров",
        "role": "realtor",
        "is_active": True,
        "notifications_news": True,
    }
