"""Text fields: stripped, bounded, and only what PostgreSQL and UTF-8 can store."""

from typing import Annotated

import pytest
from pydantic import BaseModel, ValidationError

from marketplace_rules.text import Text, check_storable


class Form(BaseModel):
    name: Annotated[str, Text(10, min_length=1)]
    note: Annotated[str, Text(20, strip=False)] | None = None
    email: Annotated[str, Text(50, pattern=r"^[^@\s]+@[^@\s]+$")] | None = None


def test_text_is_stripped_unless_asked_not_to() -> None:
    form = Form(name="  Иван ", note="  как есть ")
    assert (form.name, form.note) == ("Иван", "  как есть ")


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"name": "a\x00b"}, "name"),
        ({"name": "half \ud800 a pair"}, "name"),
        ({"name": "ok", "note": "\x00"}, "note"),
        ({"name": "ok", "note": "\udfff"}, "note"),
        ({"name": "ok", "email": "a\x00@b"}, "email"),
        ({"name": "   "}, "name"),
        ({"name": "x" * 11}, "name"),
        ({"name": "ok", "email": "no-at-sign"}, "email"),
    ],
)
def test_unstorable_empty_long_or_malformed_text_is_refused(fields: dict[str, str], field: str) -> None:
    with pytest.raises(ValidationError) as refused:
        Form.model_validate(fields)
    assert [error["loc"] for error in refused.value.errors()] == [(field,)]


def test_the_length_counts_characters_after_stripping() -> None:
    assert Form(name=" " + "я" * 10 + " ").name == "я" * 10


def test_paired_surrogates_are_ordinary_text() -> None:
    assert Form(name="🏠").name == "🏠"
    assert check_storable("дом 🏠") == "дом 🏠"


def test_the_json_schema_shows_the_bounds() -> None:
    schema = Form.model_json_schema()["properties"]["name"]
    assert (schema["type"], schema["minLength"], schema["maxLength"]) == ("string", 1, 10)
