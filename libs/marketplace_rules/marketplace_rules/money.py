"""Money: prices keep their currency and are compared in roubles through one rate table.

One rounding rule for every conversion: to the kopeck, halves up (commercial rounding).
"""

from collections.abc import Mapping
from decimal import ROUND_HALF_UP, Decimal
from typing import Annotated

from pydantic import AfterValidator, Field

from marketplace_rules.vocabulary import vocabulary

RUB = "RUB"
KOPECK = Decimal("0.01")
DEFAULT_RATES = {"RUB": 1.0, "USD": 90.0, "EUR": 98.0}


def to_decimal(number: float | None) -> Decimal | None:
    """An amount from JSON (a float) as the Decimal it is stored as, digit for digit as written."""
    return None if number is None else Decimal(str(number))


def to_number(amount: Decimal | None) -> float | None:
    """A stored Decimal amount as a JSON number."""
    return None if amount is None else float(amount)


class NoRate(ValueError):
    """The rate table has no rate for this currency."""


def _usable_rate_table(rates: dict[str, float]) -> dict[str, float]:
    missing = [code for code in vocabulary("currency").codes if code not in rates]
    if missing:
        raise ValueError(f"CURRENCY_RATES lacks a rate for {', '.join(missing)}")
    if rates.get(RUB) != 1:
        raise ValueError("CURRENCY_RATES must give RUB the rate 1")
    if any(rate <= 0 for rate in rates.values()):
        raise ValueError("CURRENCY_RATES must be positive")
    return rates


# RUB per unit of each currency (env CURRENCY_RATES, JSON): a settings field type.
CurrencyRates = Annotated[
    dict[str, float],
    AfterValidator(_usable_rate_table),
    Field(default_factory=lambda: dict(DEFAULT_RATES)),
]


class RateTable:
    """Converts amounts to roubles with the configured rates."""

    def __init__(self, rates: Mapping[str, float]) -> None:
        self._rates = {code: Decimal(str(rate)) for code, rate in rates.items()}

    def to_rub(self, amount: Decimal | float, currency: str) -> Decimal:
        rate = self._rates.get(currency)
        if rate is None:
            raise NoRate(f"no exchange rate for currency {currency}; known: {', '.join(self._rates)}")
        return (Decimal(str(amount)) * rate).quantize(KOPECK, ROUND_HALF_UP)
