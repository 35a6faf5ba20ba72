"""Match visibility: a realtor posts a listing through the gateway; the time until the buyer
whose request it fits sees it among the request's matches.

The probe request asks for more than any seeded budget (seed.MAX_SEEDED_BUDGET_RUB), so
each probe listing fits exactly one request at either size: the row measures finding
that one among 1k or 100k open requests of the same cities and kinds, not announcing
more matches in the bigger catalogue.
"""

import asyncio
import time
from dataclasses import dataclass

import asyncpg
import httpx

from benchmarks.population import User, create_listing
from benchmarks.system import BenchError
from marketplace_rules.places import city_key

PROBE_PRICE_RUB = 45_000_000
PROBE_BUDGET_RUB = (40_000_000, 50_000_000)
PROBE_REQUEST: dict[str, object] = {
    "city": "Москва",
    "deal_format": "хочу купить",
    "type": "квартира",
    "total_rooms": "2",
    "total_area_min": 50,
    "total_area_max": 70,
    "budget_min": PROBE_BUDGET_RUB[0],
    "budget_max": PROBE_BUDGET_RUB[1],
    "currency": "рубли",
}


@dataclass
class Probe:
    gateway: str
    realtor: User
    buyer: User
    request_id: int


async def open_probe(gateway: str, realtor: User, buyer: User, requests_database_url: str) -> Probe:
    """The buyer's probe request, checked to be keyed as the seeded ones are."""
    async with httpx.AsyncClient(base_url=gateway, timeout=30) as client:
        response = await client.post("/users/create_request", json=PROBE_REQUEST, headers=buyer.headers)
        if response.status_code != 201:
            raise BenchError(f"probe request refused: {response.status_code} {response.text}")
        request_id = int(response.json()["id"])
    connection = await asyncpg.connect(requests_database_url.replace("postgresql+asyncpg://", "postgresql://", 1))
    try:
        stored = await connection.fetchval("SELECT city_key FROM search_requests WHERE id = $1", request_id)
    finally:
        await connection.close()
    if stored != city_key(str(PROBE_REQUEST["city"])):
        raise BenchError(f"the requests service keys cities as {stored!r}; the seeder must write the same key")
    return Probe(gateway, realtor, buyer, request_id)


async def visible_after(probe: Probe, within: float = 10.0) -> float:
    """Milliseconds from posting a fitting listing until the buyer's matches show it."""
    async with httpx.AsyncClient(base_url=probe.gateway, timeout=30) as client:
        started = time.perf_counter()
        property_id = await create_listing(client, probe.realtor, PROBE_PRICE_RUB)
        path = f"/users/my_requests/{probe.request_id}/matches"
        while time.perf_counter() - started < within:
            response = await client.get(path, params={"limit": 5}, headers=probe.buyer.headers)
            if response.status_code == 200 and any(item["id"] == property_id for item in response.json()):
                return (time.perf_counter() - started) * 1000
            await asyncio.sleep(0.005)
    raise BenchError(f"listing {property_id} was not matched within {within} s")
