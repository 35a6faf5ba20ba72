"""Cities and districts: how they are named, read off an address, and compared.

A city is stored as given minus a "г."/"город" prefix (``city_name``) and compared
by its key (``city_key``): case, runs of spaces and ё/е do not matter. A district
is compared by ``place_key``. Listings search and requests matching use these keys.
"""

import re

# "г. Москва", "г Москва", "г.Москва", "город Москва" name the city "Москва".
_CITY_PREFIX = re.compile(r"^(?:город\b\.?|г\.|г(?=\s))\s*", re.IGNORECASE)
# Words that make an address part a street, house, flat, district or region rather than a city.
# Russian ones mark a part wherever they stand ("ул. Тверская", "Тверская улица", "д. 1");
# English ones only at the end ("123 Main St"), so "St. Petersburg" stays a city.
_NOT_A_CITY_ANYWHERE = frozenset(
    "ул улица д дом пр пр-т просп проспект пер переулок ш шоссе наб набережная бул б-р бульвар пл площадь "
    "туп тупик проезд аллея кв квартира корп корпус к стр строение лит литера мкр микрорайон р-н район "
    "обл область край респ республика".split()
)
_NOT_A_CITY_AT_END = frozenset(
    "street st avenue ave road rd lane ln boulevard blvd drive dr court ct place pl square sq way highway hwy "
    "apt apartment suite unit floor building bldg district county state region province".split()
)
_COUNTRIES = frozenset(
    {"россия", "рф", "российская федерация", "russia", "usa", "us", "united states", "uk", "united kingdom"}
)


class NoCityInAddress(ValueError):
    """The address has no part that names a city."""


def city_name(name: str) -> str:
    """The city without a "г."/"город" prefix, as it is stored and published."""
    stripped = _CITY_PREFIX.sub("", name.strip(), count=1).strip()
    return stripped or name.strip()


def place_key(name: str | None) -> str | None:
    """How a district (or any place name) is compared: case, spacing and ё/е do not matter."""
    if name is None:
        return None
    key = " ".join(name.split()).casefold().replace("ё", "е")
    return key or None


def city_key(name: str) -> str:
    """How a city is compared: as ``place_key``, and a "г."/"город" prefix does not matter either."""
    return place_key(city_name(name)) or ""


def _words(part: str) -> list[str]:
    return [word.strip(".").casefold() for word in re.split(r"[\s.]+", part) if word.strip(".")]


def _looks_like_city(part: str) -> bool:
    words = _words(part)
    if not words or any(character.isdigit() for character in part):
        return False  # house numbers, "123 Main St", postcodes
    if " ".join(words) in _COUNTRIES:
        return False
    return not (_NOT_A_CITY_ANYWHERE.intersection(words) or words[-1] in _NOT_A_CITY_AT_END)


def city_of(address: str) -> str:
    """The city an address names, for listings that do not name it themselves.

    A part marked as a city ("г. Москва", "город Казань") wins; otherwise the last
    part that is not a street, house, district, region or country:
    '123 Main St, Anytown' -> 'Anytown', 'г. Москва, ул. Тверская, д. 1' -> 'Москва',
    'ул. Тверская, 1, Москва' -> 'Москва'. Raises ``NoCityInAddress`` when no part qualifies.
    """
    parts = [part.strip() for part in address.split(",") if part.strip()]
    marked = [part for part in parts if city_name(part) != part]
    candidates = marked or [part for part in parts if _looks_like_city(part)]
    if not candidates:
        raise NoCityInAddress(address)
    return city_name(marked[0] if marked else candidates[-1])
