"""Phone normalisation (README, "Marketplace rules"): every way of writing one number is one E.164 user."""

import pytest

from auth_service.domain.contacts import mask_phone
from auth_service.domain.phones import InvalidPhone, normalize_phone

SERVED = ("RU", "KZ", "BY")


@pytest.mark.parametrize(
    "raw", ["+79197777779", "89197777779", "8 (919) 777-77-79", "79197777779", " +7 919 777 77 79 ", "9197777779"]
)
def test_russian_forms_are_one_number(raw: str) -> None:
    assert normalize_phone(raw, "RU", SERVED) == "+79197777779"


def test_other_served_countries_keep_their_code() -> None:
    assert normalize_phone("+7 701 123 4567", "RU", SERVED) == "+77011234567"  # Kazakhstan
    assert normalize_phone("+375 29 123 4567", "RU", SERVED) == "+375291234567"  # Belarus


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("not a phone", "not a phone number"),
        ("+7919777777", "not a valid phone number"),  # a digit short
        ("+79197777779 ext. 12", "not a valid phone number"),
        ("+14155552671", "numbers of US are not served"),
        ("+74951234567", "must be a mobile number"),  # a Moscow landline cannot get an SMS
    ],
)
def test_numbers_that_cannot_get_a_code_are_refused(raw: str, reason: str) -> None:
    with pytest.raises(InvalidPhone, match=reason):
        normalize_phone(raw, "RU", SERVED)


@pytest.mark.parametrize(
    ("phone", "masked"),
    [
        ("+79197777779", "+7 919 ***-**-79"),
        ("+77011234567", "+7 701 ***-**-67"),
        ("+375291234567", "+375 291 ****67"),
        ("not a phone", "***"),
    ],
)
def test_a_masked_phone_keeps_the_country_the_first_three_and_the_last_two_digits(phone: str, masked: str) -> None:
    assert mask_phone(phone) == masked
