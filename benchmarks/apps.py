"""The baselines' own ASGI apps, served by uvicorn with the flags of the Procfile.

- ``fastapi_hello`` / ``starlette_hello``: the smallest JSON answer either framework gives.
- ``bare_relay``: a chat relay with nothing else: a socket's frames go to Redis
  pub/sub and come out on every process's sockets of the same chat. No database,
  no authentication, no gateway; the ceiling the chat service is compared with.
"""

import asyncio
import contextlib
import os
from collections import defaultdict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from redis.asyncio import BlockingConnectionPool, Redis
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

HELLO = {"message": "hello"}


def fastapi_hello() -> FastAPI:
    app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)

    @app.get("/hello")
    async def hello() -> dict[str, str]:
        return HELLO

    return app


def starlette_hello() -> Starlette:
    async def hello(request: Request) -> JSONResponse:
        return JSONResponse(HELLO)

    return Starlette(routes=[Route("/hello", hello)])


def bare_relay() -> Starlette:
    """``WS /ws/{chat_id}``; BENCH_RELAY_REDIS_URL and BENCH_RELAY_CHANNEL (a prefix) from the environment."""
    redis_url = os.environ["BENCH_RELAY_REDIS_URL"]
    prefix = os.environ["BENCH_RELAY_CHANNEL"]
    sockets: dict[str, set[WebSocket]] = defaultdict(set)

    async def fan_in(redis: Redis) -> None:
        pubsub = redis.pubsub()
        await pubsub.psubscribe(f"{prefix}:*")
        async for message in pubsub.listen():
            if message["type"] != "pmessage":
                continue
            chat_id = message["channel"].decode().rpartition(":")[2]
            frame = message["data"].decode()
            for socket in list(sockets.get(chat_id, ())):
                with contextlib.suppress(Exception):
                    await socket.send_text(frame)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        # Publishers wait for a free connection rather than fail when all are busy.
        app.state.redis = Redis(connection_pool=BlockingConnectionPool.from_url(redis_url, max_connections=32))
        listener = asyncio.create_task(fan_in(Redis.from_url(redis_url)))
        yield
        listener.cancel()
        await app.state.redis.aclose()

    async def relay(socket: WebSocket) -> None:
        chat_id = socket.path_params["chat_id"]
        redis: Redis = socket.app.state.redis
        await socket.accept()
        sockets[chat_id].add(socket)
        try:
            while True:
                await redis.publish(f"{prefix}:{chat_id}", await socket.receive_text())
        except WebSocketDisconnect:
            pass
        finally:
            sockets[chat_id].discard(socket)
            if not sockets[chat_id]:
                del sockets[chat_id]

    async def health(request: Request) -> JSONResponse:
        return JSONResponse({"status": "ok"})

    return Starlette(routes=[Route("/health", health), WebSocketRoute("/ws/{chat_id}", relay)], lifespan=lifespan)
