"""Roles and their Russian labels, as the seed shows them."""

from enum import StrEnum


class Role(StrEnum):
    USER = "user"
    REALTOR = "realtor"
    DEVELOPER = "developer"
    AGENCY = "agency"


ROLE_LABELS: dict[Role, str] = {
    Role.USER: "Пользователь",
    Role.REALTOR: "Риелтор",
    Role.DEVELOPER: "Застройщик",
    Role.AGENCY: "Агентство",
}

_BY_NAME = {role.value: role for role in Role} | {label.lower(): role for role, label in ROLE_LABELS.items()}


def parse_role(raw: str) -> Role:
    try:
        return _BY_NAME[raw.strip().lower()]
    except KeyError:
        allowed = ", ".join(f"{role.value} ({ROLE_LABELS[role]})" for role in Role)
        raise ValueError(f"unknown role; allowed: {allowed}") from None
