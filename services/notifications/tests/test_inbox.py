"""The inbox through the API: cursor paging, filters, unread counts, marking read; each user sees only theirs."""

import httpx
import pytest
from fastapi import FastAPI

from service_kit.testing import TokenFactory

from .conftest import Events, inbox_of, new_id


async def test_pages_go_newest_first_by_cursor(client: httpx.AsyncClient, tokens: TokenFactory, events: Events) -> None:
    buyer, seller = await events.user(), await events.user()
    for _ in range(5):
        await events.match(buyer, seller)
    headers = tokens.headers(buyer, "user")
    first = (await client.get("/notifications", params={"limit": 2}, headers=headers)).json()
    assert [item["seq"] for item in first["items"]] == [5, 4]
    assert (first["unread_count"], first["next_before"]) == (5, 4)
    assert first["items"][0].keys() >= {"id", "kind", "title", "body", "data", "alert", "push_status", "created_at"}
    await events.match(buyer, seller)  # a new one does not shift the pages already being read
    second = (await client.get("/notifications", params={"limit": 2, "before": 4}, headers=headers)).json()
    assert [item["seq"] for item in second["items"]] == [3, 2]
    last = (await client.get("/notifications/", params={"limit": 2, "before": 2}, headers=headers)).json()
    assert ([item["seq"] for item in last["items"]], last["next_before"]) == ([1], None)
    others = (await client.get("/notifications", headers=tokens.headers(new_id(), "user"))).json()
    assert others == {"items": [], "next_before": None, "unread_count": 0}


async def test_filters_by_kind_and_unread(client: httpx.AsyncClient, tokens: TokenFactory, events: Events) -> None:
    buyer, seller = await events.user(), await events.user()
    await events.match(buyer, seller)
    await events.chat(seller, buyer, opened_by=seller)
    await events.reveal(buyer, seller)
    headers = tokens.headers(buyer, "user")
    kinds = (await client.get("/notifications", params={"kind": ["match", "contact"]}, headers=headers)).json()
    assert [item["kind"] for item in kinds["items"]] == ["contact", "match"]
    assert kinds["unread_count"] == 3, "the count is of all kinds"
    await client.post("/notifications/read", json={"ids": [kinds["items"][0]["id"]]}, headers=headers)
    unread = (await client.get("/notifications", params={"unread_only": "true"}, headers=headers)).json()
    assert [item["kind"] for item in unread["items"]] == ["response", "match"]
    assert (await client.get("/notifications", params={"kind": "likes"}, headers=headers)).status_code == 422


async def test_marking_read_by_ids_or_up_to_a_sequence(
    client: httpx.AsyncClient, tokens: TokenFactory, app: FastAPI, events: Events
) -> None:
    buyer, seller = await events.user(), await events.user()
    for _ in range(4):
        await events.match(buyer, seller)
    headers = tokens.headers(buyer, "user")
    ids = [entry.id for entry in await inbox_of(app, buyer)]
    read = await client.post("/notifications/read", json={"ids": ids[:1]}, headers=headers)
    assert read.json() == {"marked": 1, "unread_count": 3}
    assert (await client.post("/notifications/read", json={"ids": ids[:1]}, headers=headers)).json()["marked"] == 0
    assert (await client.post("/notifications/read", json={"up_to_seq": 3}, headers=headers)).json() == {
        "marked": 2,
        "unread_count": 1,
    }
    # Someone else's notification is not found, and nothing of the request is marked.
    theirs = (await inbox_of(app, seller))[0].id
    refused = await client.post("/notifications/read", json={"ids": [ids[3], theirs]}, headers=headers)
    assert refused.status_code == 404
    assert (await client.get("/notifications/badge", headers=headers)).json()["notifications"] == 1
    assert [entry.read_at is not None for entry in await inbox_of(app, buyer)] == [True, True, True, False]


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"ids": [1], "up_to_seq": 2},
        {"ids": []},
        {"ids": [0]},
        {"ids": list(range(1, 102))},
        {"up_to_seq": -1},
        {"x": 1},
    ],
)
async def test_bad_read_requests_are_a_422(
    client: httpx.AsyncClient, tokens: TokenFactory, body: dict[str, object]
) -> None:
    response = await client.post("/notifications/read", json=body, headers=tokens.headers(new_id(), "user"))
    assert response.status_code == 422, body


async def test_the_inbox_needs_a_token_and_caps_pages(client: httpx.AsyncClient, tokens: TokenFactory) -> None:
    for path in ("/notifications", "/notifications/badge"):
        assert (await client.get(path)).status_code == 401
    assert (await client.post("/notifications/read", json={"up_to_seq": 1})).status_code == 401
    headers = tokens.headers(new_id(), "user")
    assert (await client.get("/notifications", params={"limit": 1000}, headers=headers)).status_code == 200
    for params in ({"limit": 0}, {"before": 0}, {"before": "x"}):
        assert (await client.get("/notifications", params=params, headers=headers)).status_code == 422, params
