"""The seeded rows are what the services themselves would have stored."""

import json
from collections import Counter
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

from benchmarks import seed
from benchmarks.matching import PROBE_BUDGET_RUB, PROBE_PRICE_RUB
from benchmarks.outbox import message_sent_envelopes
from benchmarks.population import Chat, User
from marketplace_rules.places import city_key, city_name, district_key, listing_district_key
from marketplace_rules.vocabulary import rooms_range
from service_kit.testing import validate_event

ROOT = Path(__file__).resolve().parents[2]
VOCABULARY = json.loads((ROOT / "contracts" / "vocabulary.json").read_text())
RATES = {"RUB": 1.0, "USD": 90.0, "EUR": 98.0}


def codes(field: str) -> set[str]:
    return set(VOCABULARY[field])


def test_seeded_cities_are_stored_as_the_services_store_them() -> None:
    for city in seed.CITIES:
        assert city_name(city) == city, city


def test_listings_use_canonical_codes_and_rub_at_the_rate_table() -> None:
    rows = [dict(zip(seed.LISTING_COLUMNS, row, strict=True)) for row in seed.listings(3000, [7, 8], RATES)]
    assert {row["owner_id"] for row in rows} == {7, 8}
    for row in rows:
        for field in ("deal_format", "type", "currency", "condition", "purpose"):
            assert row[field] in codes(field), (field, row[field])
        assert row["subtype"] is None or row["subtype"] in codes("subtype")
        assert row["status"] in {"active", "archived", "sold"}
        assert row["price"] > 0
        assert row["city_key"] == city_key(row["city"])
        assert row["district_key"] == listing_district_key(row["district"], row["location"])
        rate = Decimal(str(RATES[row["currency"]]))
        assert row["price_rub"] == (row["price"] * rate).quantize(Decimal("0.01"), ROUND_HALF_UP)
        assert row["living_area"] <= row["total_area"]
        assert 1 <= row["floor"] <= row["building_floors"]
        assert (row["entry_year"] is None) == (row["entry_quarter"] is None)
    cities = Counter(row["city"] for row in rows)
    assert 0.25 < cities["Москва"] / len(rows) < 0.35


def test_requests_are_open_consistent_and_below_the_probe_budget() -> None:
    rows = [dict(zip(seed.REQUEST_COLUMNS, row, strict=True)) for row in seed.buyer_requests(3000, [5], RATES)]
    for row in rows:
        assert row["status"] == "open"
        assert row["city_key"] == city_key(row["city"])
        assert row["district_key"] == district_key(row["district"])
        assert (row["rooms_min"], row["rooms_max"]) == rooms_range(row["total_rooms"])
        for field in ("deal_format", "type", "currency"):
            assert row[field] in codes(field), (field, row[field])
        for field in ("urgency", "purchase_method", "condition", "subtype"):
            assert row[field] is None or row[field] in codes(field), (field, row[field])
        rate = Decimal(str(RATES[row["currency"]]))
        assert row["budget_max_rub"] == (row["budget_max"] * rate).quantize(Decimal("0.01"), ROUND_HALF_UP)
        assert row["budget_min_rub"] <= row["budget_max_rub"] <= seed.MAX_SEEDED_BUDGET_RUB
    # So a probe listing fits the probe request alone (benchmarks/matching.py).
    assert seed.MAX_SEEDED_BUDGET_RUB < PROBE_BUDGET_RUB[0] <= PROBE_PRICE_RUB <= PROBE_BUDGET_RUB[1]


def test_relayed_events_follow_the_message_sent_contract() -> None:
    buyer, seller = User(3, "+79160000003", "t", "user"), User(4, "+79160000004", "t", "realtor")
    for envelope in message_sent_envelopes([Chat(1, buyer, seller), Chat(2, buyer, seller)], 5, first_seq=0):
        validate_event(envelope)
