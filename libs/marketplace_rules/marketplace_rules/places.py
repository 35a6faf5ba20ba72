"""Cities and districts: how they are named, read off an address, and compared.

A city is stored as given minus a "г."/"город" prefix (``city_name``) and compared
by its key (``city_key``): case, runs of spaces and ё/е do not matter. A district
is compared by ``district_key``: the name without the word that marks it as one
("Центральный район", "р-н Центральный", "Центральный АО" and "ЦАО" are all
"центральный"). A listing without a district has the one its address names
(``listing_district_key``). Listings search and requests matching use these keys.
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


# Words that mark a name as a district, before or after it: "район Хамовники", "Хамовники р-н".
_DISTRICT_WORDS = frozenset({"район", "р-н", "р-он", "рн"})
# What ends the name of an okrug: "Центральный административный округ", "Центральный адм. округ", "... АО".
_OKRUG_ENDINGS = (("административный", "округ"), ("адм", "округ"), ("округ",), ("ао",))
# Moscow's administrative okrugs by their usual abbreviations, as the district keys of their names.
MOSCOW_OKRUGS = {
    "цао": "центральный",
    "сао": "северный",
    "свао": "северо-восточный",
    "вао": "восточный",
    "ювао": "юго-восточный",
    "юао": "южный",
    "юзао": "юго-западный",
    "зао": "западный",
    "сзао": "северо-западный",
    "зелао": "зеленоградский",
    "нао": "новомосковский",
    "тао": "троицкий",
}
_DASHES = str.maketrans(dict.fromkeys("‐‑‒–—", "-"))


def _district_words(text: str) -> list[str]:
    key = place_key(text.translate(_DASHES)) or ""
    return [word.strip(".") for word in key.split() if word.strip(".")]


def _district_core(words: list[str]) -> tuple[list[str], bool]:
    """The words of the name without its marker, and whether a marker (or an okrug abbreviation) was there."""
    if len(words) == 1 and words[0] in MOSCOW_OKRUGS:
        return [MOSCOW_OKRUGS[words[0]]], True
    if len(words) > 1 and words[0] in _DISTRICT_WORDS:
        return words[1:], True
    if len(words) > 1 and words[-1] in _DISTRICT_WORDS:
        return words[:-1], True
    for ending in _OKRUG_ENDINGS:
        if len(words) > len(ending) and tuple(words[-len(ending) :]) == ending:
            return words[: -len(ending)], True
    return words, False


def district_key(name: str | None) -> str | None:
    """How a district is compared, however it is written: marker words and case do not matter.

    "Центральный", "Центральный район", "р-н Центральный", "Центральный р-н",
    "район Центральный", "Центральный АО" and "ЦАО" all give "центральный".
    """
    if name is None:
        return None
    core, _ = _district_core(_district_words(name))
    return " ".join(core) or place_key(name)


def district_in(address: str) -> str | None:
    """The part of an address that names a district ("..., Центральный район, ..." or "..., ЦАО, ..."), if any."""
    for part in address.split(","):
        words = _district_words(part)
        if not any(character.isdigit() for character in part) and _district_core(words)[1]:
            return part.strip()
    return None


def listing_district_key(district: str | None, location: str | None) -> str | None:
    """A listing's district key: of its district, else of the district its address names."""
    if district is not None and district.strip():
        return district_key(district)
    found = district_in(location) if location else None
    return district_key(found)


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
