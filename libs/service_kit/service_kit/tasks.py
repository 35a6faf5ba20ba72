"""Stopping background tasks for sure."""

import asyncio
from collections.abc import Iterable
from typing import Any


async def cancel_and_wait(tasks: Iterable[asyncio.Task[Any]], within_seconds: float = 5.0) -> None:
    """Cancels until every task has ended (or ``within_seconds`` passed).

    Client libraries sometimes swallow a cancellation (redis-py's timed
    ``get_message`` does), so one ``cancel()`` is not always enough.
    """
    pending = {task for task in tasks if not task.done()}
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within_seconds
    while pending and loop.time() < deadline:
        for task in pending:
            task.cancel()
        _, pending = await asyncio.wait(pending, timeout=0.2)
