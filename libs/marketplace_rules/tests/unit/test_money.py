"""RUB conversion and the shared currency rate table."""

from decimal import Decimal

import pytest
from pydantic import BaseModel, ValidationError

from marketplace_rules.money import CurrencyRates, NoRate, RateTable, to_decimal, to_number


class Rates(BaseModel):
    currency_rates: CurrencyRates


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


def test_conversion_uses_the_rate_and_keeps_kopecks() -> None:
    table = RateTable({"RUB": 1.0, "USD": 90.0, "EUR": 98.5})
    assert table.to_rub(150_000, "USD") == Decimal("13500000.00")
    assert table.to_rub(Decimal("10.10"), "EUR") == Decimal("994.85")
    assert table.to_rub(0.1, "RUB") == Decimal("0.10")  # the float as written, not 0.1000000000000000055...


@pytest.mark.parametrize(
    ("amount", "rub"),
    [("0.01", "0.91"), ("0.03", "2.72"), ("0.05", "4.53"), ("-0.01", "-0.91")],
)
def test_halves_round_up_away_from_zero(amount: str, rub: str) -> None:
    # 0.01 * 90.5 = 0.905: half-even would give 0.90, half-up gives 0.91.
    assert RateTable({"RUB": 1, "USD": 90.5}).to_rub(Decimal(amount), "USD") == Decimal(rub)


def test_a_missing_rate_names_the_known_ones() -> None:
    with pytest.raises(NoRate, match="no exchange rate for currency GBP; known: RUB, USD"):
        RateTable({"RUB": 1, "USD": 90}).to_rub(1, "GBP")


def test_amounts_cross_json_as_numbers_and_are_stored_as_decimals() -> None:
    assert to_decimal(60.5) == Decimal("60.5")
    assert to_decimal(0.1) == Decimal("0.1")
    assert to_number(Decimal("13500000.00")) == 13_500_000.0
    assert to_decimal(None) is None and to_number(None) is None
