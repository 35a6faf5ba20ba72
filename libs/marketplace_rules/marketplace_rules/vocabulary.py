"""Enumerated fields: many client phrases, one canonical code (contracts/vocabulary.json).

The table is contract data shared by the services; this module only looks it up.
Also the two enumerations that are rules rather than data: rooms (a studio is
0 rooms) and user roles with the Russian labels the seed shows.
"""

import json
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from pathlib import Path
from typing import Any

from pydantic import BeforeValidator, GetCoreSchemaHandler
from pydantic_core import CoreSchema, core_schema

VOCABULARY_PATH = Path(__file__).resolve().parents[3] / "contracts" / "vocabulary.json"


@dataclass(frozen=True)
class _CanonicalCode:
    codes: tuple[str, ...]

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> CoreSchema:
        return core_schema.literal_schema(list(self.codes))


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
        """For ``Annotated[str, vocabulary.validator()]`` fields of client input: phrases or codes in, a code out."""
        return BeforeValidator(lambda raw: raw if raw is None else self.parse(raw))

    def code(self) -> Any:
        """For ``Annotated[str, vocabulary.code()]`` fields between services: exactly one canonical code."""
        return _CanonicalCode(tuple(self.codes))


@cache
def vocabulary(field: str, path: Path = VOCABULARY_PATH) -> Vocabulary:
    table: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return Vocabulary(field, table[field])


# Rooms. A studio is a room count of its own, 0, wherever it is compared or published.
STUDIO = "studio"
MAX_ROOMS = 50
_STUDIO_PHRASES = {"studio", "студия", "0"}


def rooms_of(subtype: str | None, rooms: int | None) -> int | None:
    """A listing's room count: 0 for a studio whatever was stored (the seed's studio says rooms=1)."""
    return 0 if subtype == STUDIO else rooms


def parse_rooms(raw: Any) -> str | None:
    """The canonical label of a wanted room count: "studio", "2", or "4+" for four or more."""
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
    """Room counts a listing may have for this label; a studio is 0..0 and so only matches studios."""
    if label is None:
        return None, None
    if label == STUDIO:
        return 0, 0
    if label.endswith("+"):
        return int(label[:-1]), None
    return int(label), int(label)


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
_ROLE_BY_NAME = {role.value: role for role in Role} | {label.lower(): role for role, label in ROLE_LABELS.items()}


def parse_role(raw: object) -> object:
    """A role from its code or its Russian label, case-insensitively.

    Anything but a string is passed on as it is, for the ``Role`` type to refuse with its own message.
    """
    if not isinstance(raw, str):
        return raw
    try:
        return _ROLE_BY_NAME[raw.strip().lower()]
    except KeyError:
        allowed = ", ".join(f"{role.value} ({ROLE_LABELS[role]})" for role in Role)
        raise ValueError(f"unknown role; allowed: {allowed}") from None
