"""Small value rules shared by requests and listings: place keys, rooms, money in RUB."""

import re
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

STUDIO = "studio"
MAX_ROOMS = 50
_STUDIO_PHRASES = {"studio", "студия", "0"}


# "г. Москва", "г Москва", "г.Москва" and "город Москва" are the city "Москва"; the listings
# service drops the same prefixes from the cities it stores and publishes.
_CITY_PREFIX = re.compile(r"^(?:город\b\.?|г\.|г(?=\s))\s*", re.IGNORECASE)


def place_key(name: str | None) -> str | None:
    """How a city or district is compared: case, spacing and ё/е do not matter."""
    if name is None:
        return None
    key = " ".join(name.split()).casefold().replace("ё", "е")
    return key or None


def city_key(name: str) -> str:
    """How a city is compared: as ``place_key``, and a "г."/"город" prefix does not matter either."""
    stripped = _CITY_PREFIX.sub("", name.strip(), count=1)
    return place_key(stripped) or place_key(name) or name


def parse_rooms(raw: Any) -> str | None:
    """The canonical label of ``total_rooms``: "studio", "2", or "4+" for four or more."""
    if raw is None:
        return None
    if isinstance(raw, bool) or not isinstance(raw, str | int):
        raise ValueError("total_rooms must be text such as 'студия', 'studio', '2' or '4+'")
    text = str(raw).strip().lower()
    if text in _STUDIO_PHRASES:
        return STUDIO
    digits, plus = (text[:-1].strip(), "+") if text.endswith("+") else (text, "")
    if not digits.isdigit() or not 1 <= int(digits) <= MAX_ROOMS:
        raise ValueError(f"total_rooms must be 'студия'/'studio' or a number of rooms 1..{MAX_ROOMS}, optionally 'N+'")
    return f"{int(digits)}{plus}"


def rooms_range(label: str | None) -> tuple[int | None, int | None]:
    """Rooms a listing may have for this label; a studio counts as 0 rooms and only matches studios."""
    if label is None:
        return None, None
    if label == STUDIO:
        return 0, 0
    if label.endswith("+"):
        return int(label[:-1]), None
    return int(label), int(label)


class NoRate(ValueError):
    pass


def to_rub(amount: Decimal | None, currency: str, rates: Mapping[str, float]) -> Decimal | None:
    if amount is None:
        return None
    rate = rates.get(currency)
    if rate is None:
        raise NoRate(f"no exchange rate for currency {currency}; known: {', '.join(rates)}")
    return (amount * Decimal(str(rate))).quantize(Decimal("0.01"))
