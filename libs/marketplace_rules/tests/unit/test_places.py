"""Cities and districts: the prefix rule, the comparison keys, reading the city off an address."""

import pytest

from marketplace_rules.places import (
    NoCityInAddress,
    city_key,
    city_name,
    city_of,
    district_in,
    district_key,
    listing_district_key,
    place_key,
)


@pytest.mark.parametrize(
    "written", ["Москва", "г. Москва", "г Москва", "г.Москва", "город Москва", "Город Москва", " Г. Москва "]
)
def test_a_city_prefix_is_dropped(written: str) -> None:
    assert city_name(written) == "Москва"


@pytest.mark.parametrize("written", ["Гатчина", "Город", "г.", "Гродно"])
def test_words_that_only_start_like_the_prefix_stay(written: str) -> None:
    assert city_name(written) == written


@pytest.mark.parametrize("written", ["Королёв", "королев", "КОРОЛЁВ", "г. Королев", "город  Королёв ", "Королев\t"])
def test_one_city_has_one_key_however_it_is_written(written: str) -> None:
    assert city_key(written) == "королев"


def test_different_cities_keep_different_keys() -> None:
    assert city_key("Нижний Новгород") == city_key("нижний   новгород") != city_key("Новгород")


def test_district_keys_fold_case_spacing_and_yo_but_not_prefixes() -> None:
    assert place_key("  Центральный   район ") == place_key("центральный район") == "центральный район"
    assert place_key("Пёстрый") == place_key("пестрый")
    assert place_key("г. Центр") == "г. центр"
    assert place_key(None) is None
    assert place_key("   ") is None


@pytest.mark.parametrize(
    ("address", "city"),
    [
        ("123 Main St, Anytown", "Anytown"),
        ("г. Москва, ул. Тверская, д. 1", "Москва"),
        ("ул. Тверская, 1, Москва", "Москва"),
        ("Московская обл., г. Химки, ул. Ленина, 5", "Химки"),
        ("ул. Баумана, 10, Казань, Россия", "Казань"),
        ("Nevsky Prospekt 28, St. Petersburg", "St. Petersburg"),
        ("город Казань", "Казань"),
        ("Сочи", "Сочи"),
    ],
)
def test_the_city_of_an_address(address: str, city: str) -> None:
    assert city_of(address) == city


@pytest.mark.parametrize("address", ["ул. Ленина, д. 5", "12345", "Россия", " , , "])
def test_an_address_without_a_city_is_refused(address: str) -> None:
    with pytest.raises(NoCityInAddress):
        city_of(address)


@pytest.mark.parametrize(
    "written",
    [
        "Центральный",
        "центральный",
        "Центральный район",
        "р-н Центральный",
        "Центральный р-н",
        "Центральный р–н",  # an en dash, as word processors write it
        "район Центральный",
        "  Центральный   РАЙОН ",
        "Центральный АО",
        "Центральный административный округ",
        "Центральный адм. округ",
        "ЦАО",
        "цао",
    ],
)
def test_one_district_has_one_key_however_it_is_written(written: str) -> None:
    assert district_key(written) == "центральный"


@pytest.mark.parametrize(
    ("abbreviation", "key"),
    [("САО", "северный"), ("СВАО", "северо-восточный"), ("ЮЗАО", "юго-западный"), ("ЗелАО", "зеленоградский")],
)
def test_moscow_okrug_abbreviations_give_the_okrug_name(abbreviation: str, key: str) -> None:
    assert district_key(abbreviation) == key == district_key(f"{key.capitalize()} административный округ")


def test_different_districts_keep_different_keys() -> None:
    assert district_key("Северный") != district_key("Северо-Западный р-н") == "северо-западный"
    assert district_key("Хамовники") == district_key("район Хамовники") == "хамовники"
    assert district_key("Пёстрый район") == "пестрый"
    # A marker alone names nothing else: it stays what it is.
    assert district_key("район") == "район"
    assert district_key(None) is None


@pytest.mark.parametrize(
    ("address", "district"),
    [
        ("Москва, Центральный район, ул. Тверская, 1", "Центральный район"),
        ("г. Москва, ЦАО, ул. Тверская, д. 1", "ЦАО"),
        ("Москва, р-н Хамовники, ул. Льва Толстого, 16", "р-н Хамовники"),
        ("Московская обл., Одинцовский р-н, г. Одинцово", "Одинцовский р-н"),
        ("ул. Тверская, 7, Москва", None),
        ("123 Main St, Anytown", None),
        ("Москва, АО Ромашка, 1", None),  # a company, not an okrug
    ],
)
def test_the_district_of_an_address(address: str, district: str | None) -> None:
    assert district_in(address) == district


def test_a_listing_without_a_district_has_the_one_of_its_address() -> None:
    address = "Москва, Центральный район, ул. Тверская, 1"
    assert listing_district_key(None, address) == listing_district_key("", address) == "центральный"
    assert listing_district_key("Центральный", None) == district_key("Центральный") == "центральный"
    # A district the form gives wins over the address.
    assert listing_district_key("Тверской", address) == "тверской"
    assert listing_district_key(None, "ул. Тверская, 7, Москва") is None
    # The seed's request names the district plainly; the address of the listing names it with a marker.
    assert city_of(address) == "Москва"
