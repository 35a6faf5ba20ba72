"""A web page on another origin uses the API through the gateway, in a real browser.

Headless Chromium from Debian's packages (/usr/bin/chromium, installed by
`make test`), driven by Playwright for Python, which never downloads a browser
of its own here. The page (web_client.html) is served from another local port
than the gateway, so every fetch with a token or a JSON body is preflighted.
The seller is driven from Python through the gateway.
"""

import re
import threading
import time
import uuid
from collections.abc import Iterator
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import BrowserContext, Page, sync_playwright

from .conftest import Client
from .stack import Stack, free_port
from .test_chat import open_socket, receive, token_of, user_id
from .test_requests import SEED_REQUEST

CHROMIUM = Path("/usr/bin/chromium")
# Flags for a sandbox without a network or a screen (env README): no background traffic, no GPU.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PAGE = Path(__file__).with_name("web_client.html")


class QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def page_origin() -> Iterator[str]:
    """web_client.html served from a port of its own: another origin than the gateway."""
    handler = partial(QuietHandler, directory=str(PAGE.parent))
    server = ThreadingHTTPServer(("127.0.0.1", free_port()), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        thread.join(timeout=5)


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[BrowserContext]:
    if not CHROMIUM.is_file():
        pytest.fail("/usr/bin/chromium is missing: `make test` installs it (apt-get install chromium chromium-driver)")
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path / "profile"),  # a new, empty user data dir
            executable_path=str(CHROMIUM),
            args=CHROMIUM_ARGS,
            headless=True,
        )
        try:
            yield context
        finally:
            context.close()


def metric_counts(stack: Stack, name: str) -> dict[str, float]:
    """Prometheus samples of one metric from the gateway's admin port, by label set."""
    text = httpx.get(stack.service_url("GATEWAY_ADMIN_PORT", "/metrics"), timeout=5).text
    return {labels: float(value) for labels, value in re.findall(rf"^{name}\{{(.*)\}} (\S+)$", text, re.M)}


def publish_listing(gateway: httpx.Client, seller: dict[str, str]) -> int:
    form = {"deal_format": "sale", "type": "квартира", "location": "Москва, ул. Тверская, 1", "price": "12000000"}
    listing = gateway.post("/properties/create", data=form | {"currency": "RUB", "title": "Двушка"}, headers=seller)
    assert listing.status_code == 201, listing.text
    property_id: int = listing.json()["id"]
    return property_id


def test_a_web_page_on_another_origin_signs_up_asks_and_chats(
    stack: Stack,
    gateway: httpx.Client,
    app_client: Client,
    browser: BrowserContext,
    page_origin: str,
    phone: str,
) -> None:
    page: Page = browser.new_page()
    page.goto(f"{page_origin}/web_client.html?api={stack.gateway}")
    assert page.evaluate("location.origin") != stack.gateway

    # Sign up, sign in, read one's account: every call from the page, preflighted.
    signed_up = page.evaluate("phone => signUp(phone)", phone)
    assert signed_up["registered"]["status"] == 201 and signed_up["activated"]["status"] == 200
    assert signed_up["issued"]["status"] == 200 and signed_up["issued"]["body"]["token_type"] == "bearer"
    me = signed_up["me"]
    assert me["status"] == 200
    assert (me["body"]["phone"], me["body"]["role_code"], me["body"]["role"]) == (phone, "user", "Пользователь")
    assert me["requestId"] == me["sentRequestId"]  # an exposed header the page may read
    token = signed_up["token"]

    # The seed's buyer request, in Russian, from the page.
    created = page.evaluate(
        "([token, request]) => call('POST', '/users/create_request', {token, json: request})", [token, SEED_REQUEST]
    )
    assert created["status"] == 201, created
    assert (created["body"]["deal_format"], created["body"]["type"], created["body"]["city"]) == (
        "sale",
        "apartment",
        "Москва",
    )

    # Refusals are readable by the page too: JSON with a code, CORS headers included.
    anonymous = page.evaluate("call('GET', '/users/me')")
    assert (anonymous["status"], anonymous["body"]["code"]) == (401, "unauthorized")
    nowhere = page.evaluate("call('GET', '/nowhere')")
    assert (nowhere["status"], nowhere["body"]) == (404, {"detail": "Not Found", "code": "not_found"})

    # A listing of the test's seller; the page opens a chat about it.
    seller = app_client.login(f"+7915{phone[5:]}", "realtor")
    seller_id, property_id = user_id(gateway, seller), publish_listing(gateway, seller)
    deadline = time.monotonic() + 15
    while True:  # property.created may still be on its way to chat
        chat = page.evaluate(
            "([token, buyer, seller, property]) => call('POST', '/chat/create_chat', "
            "{token, json: {buyer_id: buyer, seller_id: seller, property_id: property}})",
            [token, me["body"]["id"], seller_id, property_id],
        )
        if chat["status"] != 404 or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert chat["status"] == 201, chat
    chat_id = chat["body"]["id"]

    # A message over the socket through the gateway: the page sends plain text, the seller answers.
    seller_socket, _ = open_socket(stack.gateway, chat_id, token_of(seller))
    with seller_socket:
        page.evaluate("([chat, token]) => connect(chat, token)", [chat_id, token])
        page.wait_for_function("() => window.seen.frames.some(f => f.type === 'hello')", timeout=10_000)
        question = "Здравствуйте! Квартира ещё продаётся?"
        page.evaluate("text => say(text)", question)
        frame = receive(seller_socket)
        while frame["type"] != "message":
            frame = receive(seller_socket)
        assert (frame["content"], frame["sender_id"]) == (question, me["body"]["id"])
        answer = "Да, приходите в субботу"
        seller_socket.send(f'{{"type": "message", "content": "{answer}", "client_id": "{uuid.uuid4()}"}}')
        page.wait_for_function(
            "text => window.seen.frames.some(f => f.type === 'message' && f.content === text)",
            arg=answer,
            timeout=10_000,
        )
    messages = [f for f in page.evaluate("window.seen.frames") if f["type"] == "message"]
    assert [(m["content"], m["sender_id"]) for m in messages] == [(question, me["body"]["id"]), (answer, seller_id)]
    assert page.evaluate("window.seen.closed") is None

    # The history as the original server's pages read it: an array; its paging headers are exposed to the page.
    history = page.evaluate(
        "([chat, token]) => call('GET', `/chat/chat_messages/${chat}?limit=1`, {token})", [chat_id, token]
    )
    assert [(m["content"], m["sender_id"]) for m in history["body"]] == [(answer, seller_id)]
    assert (history["lastSeq"], history["readSeq"]) == ("2", "0")
    assert history["link"] == f'</chat/chat_messages/{chat_id}?before=2&limit=1>; rel="prev"'

    # The browser did preflight, and the gateway answered every preflight itself.
    routers = metric_counts(stack, "traefik_router_requests_total")
    preflights = sum(v for labels, v in routers.items() if 'method="OPTIONS"' in labels and 'code="200"' in labels)
    assert preflights >= 5, routers
    services = metric_counts(stack, "traefik_service_requests_total")
    assert not [labels for labels in services if 'method="OPTIONS"' in labels], services


def test_a_preflight_never_reaches_the_verifier_or_a_service(stack: Stack, gateway: httpx.Client) -> None:
    before = metric_counts(stack, "traefik_service_requests_total")
    for path in ("/users/me", "/users/create_request", "/chat/create_chat", "/properties", "/nowhere"):
        answer = gateway.options(
            path,
            headers={
                "Origin": "http://127.0.0.1:1",
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "authorization,content-type",
            },
        )
        assert answer.status_code == 200 and answer.headers["access-control-allow-origin"] == "*"
    assert metric_counts(stack, "traefik_service_requests_total") == before
