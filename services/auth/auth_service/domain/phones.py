"""Phone numbers in E.164, so '8 925 ...', '+7 925 ...' and '7925...' are one user."""

from collections.abc import Collection

import phonenumbers

# Codes go by SMS: numbers that cannot receive one are refused before anything is sent.
_SMS_CAPABLE = {phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE}


class InvalidPhone(ValueError):
    pass


def normalize_phone(raw: str, default_region: str = "RU", allowed_regions: Collection[str] = ("RU",)) -> str:
    text = raw.strip()
    # '7925...' without '+' is a full international number, not a local one.
    if text.isdigit() and len(text) == 11 and text.startswith("7"):
        text = "+" + text
    try:
        number = phonenumbers.parse(text, default_region)
    except phonenumbers.NumberParseException as error:
        raise InvalidPhone("phone: not a phone number") from error
    if not phonenumbers.is_valid_number(number) or number.extension:
        raise InvalidPhone("phone: not a valid phone number")
    # An allow-list of countries keeps SMS-pumping fraud to the markets we serve.
    region = phonenumbers.region_code_for_number(number)
    if region not in allowed_regions:
        raise InvalidPhone(f"phone: numbers of {region} are not served; allowed: {', '.join(sorted(allowed_regions))}")
    if phonenumbers.number_type(number) not in _SMS_CAPABLE:
        raise InvalidPhone("phone: must be a mobile number that can receive SMS")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
