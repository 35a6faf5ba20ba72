"""Enumerated fields, rooms and roles."""

from typing import Annotated

import pytest
from pydantic import BaseModel, ValidationError

from marketplace_rules.vocabulary import (
    ROLE_LABELS,
    Role,
    parse_role,
    parse_rooms,
    rooms_of,
    rooms_range,
    vocabulary,
)


def test_phrases_map_to_one_code_and_unknown_values_list_the_allowed() -> None:
    deal = vocabulary("deal_format")
    assert deal.parse(" Хочу купить ") == deal.parse("sale") == "sale"
    with pytest.raises(ValueError, match="allowed: sale, rent"):
        deal.parse("swap")


class Between(BaseModel):
    """What services send each other: canonical codes only."""

    deal_format: Annotated[str, vocabulary("deal_format").code()]
    subtype: Annotated[str, vocabulary("subtype").code()] | None = None


def test_codes_between_services_are_exact() -> None:
    assert Between(deal_format="rent").deal_format == "rent"
    for phrase in ("аренда", "Rent", " rent"):
        with pytest.raises(ValidationError):
            Between(deal_format=phrase)
    schema = Between.model_json_schema()["properties"]
    assert schema["deal_format"]["enum"] == ["sale", "rent"]


@pytest.mark.parametrize(
    ("raw", "label"),
    [("студия", "studio"), ("Studio", "studio"), ("0", "studio"), (0, "studio"), ("2", "2"), (3, "3"),
     (" 4+ ", "4+"), ("50", "50"), (None, None)],
)  # fmt: skip
def test_rooms_labels(raw: object, label: str | None) -> None:
    assert parse_rooms(raw) == label


@pytest.mark.parametrize("raw", ["много", "-1", "51", "2.5", "+", True, 2.0, [2]])
def test_rooms_nobody_can_have_are_refused(raw: object) -> None:
    with pytest.raises(ValueError, match="total_rooms"):
        parse_rooms(raw)


def test_a_studio_is_zero_rooms_on_both_sides() -> None:
    assert rooms_range("studio") == (0, 0)
    assert rooms_range("2") == (2, 2)
    assert rooms_range("4+") == (4, None)
    assert rooms_range(None) == (None, None)
    # The seed's studio says rooms=1: as a listing it is still 0 rooms.
    assert rooms_of("studio", 1) == 0
    assert rooms_of("flat", 1) == 1
    assert rooms_of(None, None) is None


def test_roles_by_code_or_russian_label() -> None:
    assert parse_role("Риелтор") == parse_role(" REALTOR ") == Role.REALTOR
    assert ROLE_LABELS[parse_role("agency")] == "Агентство"
    with pytest.raises(ValueError, match=r"allowed: user \(Пользователь\), realtor"):
        parse_role("admin")
    # Not a string at all: left to the Role type, which refuses it (a 422, never a crash).
    assert parse_role({"x": 1}) == {"x": 1}
