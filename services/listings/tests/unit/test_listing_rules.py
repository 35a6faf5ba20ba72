"""Cross-field listing rules (README, "Marketplace rules"), checked on the listing as it would be stored."""

from datetime import UTC, datetime

import pytest

from listings_service.domain.listings import InvalidListing, check_rules, split_list
from listings_service.models import Property


def listing(**fields: object) -> Property:
    return Property(**fields)


def test_a_consistent_listing_passes() -> None:
    check_rules(listing(entry_year=2025, floor=3, building_floors=9, living_area=40.0, total_area=60.0))


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"floor": 10, "building_floors": 9}, "floor"),
        ({"living_area": 61.0, "total_area": 60.0}, "living_area"),
        ({"entry_year": 1699}, "entry_year"),
        ({"entry_year": datetime.now(UTC).year + 21}, "entry_year"),
    ],
)
def test_broken_rules_name_the_field(fields: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidListing) as refused:
        check_rules(listing(**fields))
    assert refused.value.field == field


def test_rules_with_a_missing_side_do_not_apply() -> None:
    check_rules(listing(floor=40, living_area=500.0))


def test_comma_lists_are_trimmed_and_bounded() -> None:
    assert split_list("features", " kitchen, ,balcony ,") == ["kitchen", "balcony"]
    with pytest.raises(InvalidListing, match="at most 100 items"):
        split_list("features", ",".join(["x"] * 101))
    with pytest.raises(InvalidListing, match="at most 200 characters"):
        split_list("features", "x" * 201)
