"""Phone numbers in E.164, so '8 925 ...', '+7 925 ...' and '7925...' are one user."""

import phonenumbers


class InvalidPhone(ValueError):
    pass


def normalize_phone(raw: str, default_region: str = "RU") -> str:
    text = raw.strip()
    # '7925...' without '+' is a full international number, not a local one.
    if text.isdigit() and len(text) == 11 and text.startswith("7"):
        text = "+" + text
    try:
        number = phonenumbers.parse(text, default_region)
    except phonenumbers.NumberParseException as error:
        raise InvalidPhone("phone: not a phone number") from error
    if not phonenumbers.is_valid_number(number):
        raise InvalidPhone("phone: not a valid phone number")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
