"""Enumerated fields and the shared currency rate table."""

import pytest
from pydantic import BaseModel, ValidationError

from service_kit.vocabulary import CurrencyRates, vocabulary


class Rates(BaseModel):
    currency_rates: CurrencyRates


def test_phrases_map_to_one_code_and_unknown_values_list_the_allowed() -> None:
    deal = vocabulary("deal_format")
    assert deal.parse(" Хочу купить ") == deal.parse("sale") == "sale"
    with pytest.raises(ValueError, match="allowed: sale, rent"):
        deal.parse("swap")


def test_the_default_rate_table_is_usable() -> None:
    assert Rates().currency_rates["RUB"] == 1


@pytest.mark.parametrize(
    ("rates", "complaint"),
    [
        ({"RUB": 1, "USD": 90}, "lacks a rate for EUR"),
        ({"RUB": 2, "USD": 90, "EUR": 98}, "RUB the rate 1"),
        ({"RUB": 1, "USD": 0, "EUR": 98}, "positive"),
    ],
)
def test_unusable_rate_tables_are_refused(rates: dict[str, float], complaint: str) -> None:
    with pytest.raises(ValidationError, match=complaint):
        Rates(currency_rates=rates)
