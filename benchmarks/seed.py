"""The catalogue and the open buyer requests, written with COPY straight into the services'
own tables (after their migrations), as the services themselves would have stored them:
canonical vocabulary codes, the services' place keys, prices and budgets in their currency
with the amount in RUB at the run's rate table, owners who are real users of the run.

One generator serves both sizes, so 1k and 100k rows have the same distribution:
cities weighted like a real market (Moscow 30%), mostly active listings, sale and rent.
"""

import random
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import asyncpg

from marketplace_rules.money import RateTable
from marketplace_rules.places import city_key, district_key, listing_district_key
from marketplace_rules.vocabulary import rooms_range

# City (weight, price per m² in RUB for sale); districts are optional parts of an address.
CITIES: dict[str, tuple[int, int]] = {
    "Москва": (30, 320_000),
    "Санкт-Петербург": (15, 210_000),
    "Казань": (6, 150_000),
    "Екатеринбург": (6, 140_000),
    "Новосибирск": (6, 125_000),
    "Нижний Новгород": (5, 130_000),
    "Краснодар": (5, 120_000),
    "Самара": (4, 105_000),
    "Ростов-на-Дону": (4, 110_000),
    "Уфа": (4, 105_000),
    "Воронеж": (3, 95_000),
    "Пермь": (3, 100_000),
    "Красноярск": (3, 110_000),
    "Челябинск": (3, 85_000),
    "Тюмень": (3, 115_000),
}
DISTRICTS = {
    "Москва": ["Тверской", "Арбат", "Хамовники", "Пресненский", "Басманный", "Марьино", "Митино", "Южное Бутово"],
    "Санкт-Петербург": ["Центральный", "Петроградский", "Василеостровский", "Приморский", "Московский"],
}
OTHER_DISTRICTS = ["Центральный", "Советский", "Ленинский", "Кировский", "Октябрьский"]
STREETS = ["Ленина", "Тверская", "Садовая", "Мира", "Гагарина", "Пушкина", "Лесная", "Набережная"]
FEATURES = ["балкон", "парковка", "лифт", "консьерж", "мебель", "кондиционер", "вид на парк"]
TYPES = {"apartment": 70, "house": 12, "townhouse": 8, "room": 5, "commercial": 5}
# The probe request of the matching row asks for more than any seeded budget (see matching.py).
MAX_SEEDED_BUDGET_RUB = 35_000_000


def _weighted(rng: random.Random, weights: Mapping[str, int]) -> str:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def _city(rng: random.Random) -> str:
    return rng.choices(list(CITIES), weights=[weight for weight, _ in CITIES.values()])[0]


def _district(rng: random.Random, city: str) -> str:
    return rng.choice(DISTRICTS.get(city, OTHER_DISTRICTS))


def _money(rub: float, currency: str, rates: Mapping[str, float]) -> tuple[Decimal, Decimal]:
    """(amount in ``currency``, amount in RUB), rounded as people price things, converted as the services do."""
    step = 1000 if currency == "RUB" else 100
    amount = Decimal(max(step, round(rub / rates[currency] / step) * step))
    return amount, RateTable(rates).to_rub(amount, currency)


def _currency(rng: random.Random) -> str:
    return rng.choices(["RUB", "USD", "EUR"], weights=[88, 8, 4])[0]


def _rooms(rng: random.Random, type_: str, subtype: str | None) -> int | None:
    if subtype == "studio":
        return 0
    if type_ == "apartment":
        return rng.choices([1, 2, 3, 4, 5], weights=[30, 35, 22, 9, 4])[0]
    if type_ in ("house", "townhouse"):
        return rng.randint(3, 7)
    return 1 if type_ == "room" else None


def _subtype(rng: random.Random, type_: str) -> str | None:
    if type_ == "apartment":
        return rng.choices(["flat", "apartments", "studio"], weights=[70, 15, 15])[0]
    return {"house": rng.choice(["cottage", "villa"]), "townhouse": "townhouse"}.get(type_)


LISTING_COLUMNS = [
    "owner_id", "status", "deal_format", "type", "subtype", "condition", "entry_year", "entry_quarter",
    "purpose", "location", "city", "city_key", "district", "district_key", "price", "currency", "price_rub",
    "title", "description",
    "floor", "total_area", "living_area", "ceiling_height", "rooms", "bedrooms", "bathrooms", "features",
    "equipment", "building_floors", "building_features", "territory_features", "nearby_places", "views",
    "services", "documents", "images", "created_at", "updated_at",
]  # fmt: skip


def listings(
    count: int, owners: Sequence[int], rates: Mapping[str, float], seed: int = 11
) -> Iterator[tuple[Any, ...]]:
    rng = random.Random(seed)
    now = datetime.now(UTC)
    for index in range(count):
        city = _city(rng)
        deal_format = rng.choices(["sale", "rent"], weights=[75, 25])[0]
        type_ = _weighted(rng, TYPES)
        subtype = _subtype(rng, type_)
        rooms = _rooms(rng, type_, subtype)
        if type_ in ("house", "townhouse"):
            area = rng.uniform(80, 300)
        elif rooms is None:
            area = rng.uniform(30, 400)
        else:
            area = rng.uniform(18, 30) if rooms == 0 else rooms * rng.uniform(17, 24) + rng.uniform(10, 20)
        area = round(area, 1)
        per_m2 = CITIES[city][1] * rng.uniform(0.7, 1.4)
        rub = area * per_m2 if deal_format == "sale" else area * per_m2 / 220
        currency = _currency(rng)
        price, price_rub = _money(rub, currency, rates)
        condition = rng.choice(["new", "resale", "resale", "under_construction", "needs_renovation"])
        building_floors = rng.randint(2, 30) if type_ in ("apartment", "room") else rng.randint(1, 3)
        created = now - timedelta(seconds=rng.uniform(0, 365 * 86400))
        district = _district(rng, city) if rng.random() < 0.8 else None
        street = f"ул. {rng.choice(STREETS)}, {rng.randint(1, 120)}"
        yield (
            owners[index % len(owners)],
            rng.choices(["active", "archived", "sold"], weights=[90, 6, 4])[0],
            deal_format,
            type_,
            subtype,
            condition,
            rng.randint(2026, 2030) if condition == "under_construction" else None,
            rng.randint(1, 4) if condition == "under_construction" else None,
            rng.choice(["residence", "investment", "rental_income"]),
            f"{street}, {city}",
            city,
            city_key(city),
            district,
            listing_district_key(district, f"{street}, {city}"),
            price,
            currency,
            price_rub,
            f"{'Студия' if rooms == 0 else f'{rooms}-комн.' if rooms else 'Объект'}, {area} м², {city}",
            "Продаётся без посредников." if deal_format == "sale" else "Сдаётся на длительный срок.",
            rng.randint(1, building_floors),
            area,
            round(area * rng.uniform(0.5, 0.8), 1),
            round(rng.uniform(2.5, 3.3), 2),
            rooms,
            max(0, rooms - 1) if rooms else None,
            rng.randint(1, 2),
            rng.sample(FEATURES, rng.randint(0, 3)),
            [],
            building_floors,
            [],
            [],
            [],
            [],
            [],
            [],
            [],
            created,
            created,
        )


REQUEST_COLUMNS = [
    "owner_id", "status", "city", "city_key", "district", "district_key", "deal_format", "type", "subtype",
    "condition", "total_rooms", "rooms_min", "rooms_max", "total_area_min", "total_area_max", "budget_min",
    "budget_max", "currency", "budget_min_rub", "budget_max_rub", "purchase_purpose", "urgency",
    "purchase_method", "mortgage_approved", "wishes", "created_at", "updated_at",
]  # fmt: skip

_ROOM_LABELS = ["studio", "1", "2", "3", "4+"]


def buyer_requests(
    count: int, owners: Sequence[int], rates: Mapping[str, float], seed: int = 12
) -> Iterator[tuple[Any, ...]]:
    """Open requests; every budget stays at or under MAX_SEEDED_BUDGET_RUB."""
    rng = random.Random(seed)
    now = datetime.now(UTC)
    for index in range(count):
        city = _city(rng)
        district = _district(rng, city) if rng.random() < 0.25 else None
        deal_format = rng.choices(["sale", "rent"], weights=[75, 25])[0]
        type_ = _weighted(rng, TYPES)
        label = rng.choice([*_ROOM_LABELS, None]) if type_ == "apartment" else None
        rooms_min, rooms_max = rooms_range(label)
        top = rng.uniform(3_000_000, MAX_SEEDED_BUDGET_RUB) if deal_format == "sale" else rng.uniform(20_000, 300_000)
        currency = rng.choices(["RUB", "USD", "EUR"], weights=[90, 7, 3])[0]
        budget_max, budget_max_rub = _money(top, currency, rates)
        while budget_max_rub > MAX_SEEDED_BUDGET_RUB:
            budget_max, budget_max_rub = _money(float(budget_max_rub) * 0.99, currency, rates)
        budget_min, budget_min_rub = _money(top * rng.uniform(0.5, 0.9), currency, rates)
        area_min = Decimal(rng.randint(20, 80)) if rng.random() < 0.7 else None
        area_max = area_min + rng.randint(10, 60) if area_min is not None else None
        created = now - timedelta(seconds=rng.uniform(0, 180 * 86400))
        yield (
            owners[index % len(owners)],
            "open",
            city,
            city_key(city),
            district,
            district_key(district),
            deal_format,
            type_,
            _subtype(rng, type_) if rng.random() < 0.3 else None,
            rng.choice([None, "new", "resale"]),
            label,
            rooms_min,
            rooms_max,
            area_min,
            area_max,
            budget_min,
            budget_max,
            currency,
            budget_min_rub,
            budget_max_rub,
            rng.choice([None, "residence", "investment"]),
            rng.choice([None, "urgent", "within_month", "not_urgent"]),
            rng.choice([None, "mortgage", "cash", "installments"]),
            rng.choice([None, True, False]),
            rng.choice([None, "рядом с метро", "тихий двор", "хорошая инфраструктура"]),
            created,
            created,
        )


async def copy_rows(database_url: str, table: str, columns: list[str], rows: Iterator[tuple[Any, ...]]) -> None:
    """COPY in chunks, then VACUUM ANALYZE, as a database that autovacuum had looked after."""
    connection = await asyncpg.connect(database_url.replace("postgresql+asyncpg://", "postgresql://", 1))
    try:
        chunk: list[tuple[Any, ...]] = []
        for row in rows:
            chunk.append(row)
            if len(chunk) == 10_000:
                await connection.copy_records_to_table(table, records=chunk, columns=columns)
                chunk = []
        if chunk:
            await connection.copy_records_to_table(table, records=chunk, columns=columns)
        await connection.execute(f"VACUUM (ANALYZE) {table}")
    finally:
        await connection.close()
