"""Cities and districts: the prefix rule, the comparison keys, reading the city off an address."""

import pytest

from marketplace_rules.places import NoCityInAddress, city_key, city_name, city_of, place_key


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
