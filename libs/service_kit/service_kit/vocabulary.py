"""Enumerated fields: many client phrases, one canonical code (contracts/vocabulary.json).

The table is contract data shared by the services; this module only looks it up.
"""

import json
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, Field

VOCABULARY_PATH = Path(__file__).resolve().parents[3] / "contracts" / "vocabulary.json"


class Vocabulary:
    def __init__(self, field: str, codes: Mapping[str, list[str]]) -> None:
        self.field = field
        self.codes = list(codes)
        self._by_phrase = {phrase.strip().lower(): code for code, phrases in codes.items() for phrase in phrases}
        self._by_phrase.update({code.lower(): code for code in codes})

    def parse(self, raw: Any) -> str:
        if not isinstance(raw, str):
            raise ValueError(f"{self.field} must be text; allowed: {self.allowed()}")
        try:
            return self._by_phrase[raw.strip().lower()]
        except KeyError:
            raise ValueError(f"unknown {self.field} {raw!r}; allowed: {self.allowed()}") from None

    def allowed(self) -> str:
        return ", ".join(self.codes)

    def validator(self) -> BeforeValidator:
        """For ``Annotated[str, vocabulary.validator()]`` fields of request models."""
        return BeforeValidator(lambda raw: raw if raw is None else self.parse(raw))


@cache
def vocabulary(field: str, path: Path = VOCABULARY_PATH) -> Vocabulary:
    table: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return Vocabulary(field, table[field])


def _usable_rate_table(rates: dict[str, float]) -> dict[str, float]:
    missing = [code for code in vocabulary("currency").codes if code not in rates]
    if missing:
        raise ValueError(f"CURRENCY_RATES lacks a rate for {', '.join(missing)}")
    if rates.get("RUB") != 1:
        raise ValueError("CURRENCY_RATES must give RUB the rate 1")
    if any(rate <= 0 for rate in rates.values()):
        raise ValueError("CURRENCY_RATES must be positive")
    return rates


# RUB per unit of each currency (env CURRENCY_RATES, JSON). Listings and requests
# compare prices in roubles, so both read this one setting with one rule.
CurrencyRates = Annotated[
    dict[str, float],
    AfterValidator(_usable_rate_table),
    Field(default_factory=lambda: {"RUB": 1.0, "USD": 90.0, "EUR": 98.0}),
]
