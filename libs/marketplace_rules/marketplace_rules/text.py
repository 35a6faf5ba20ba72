"""Text the services accept: only what PostgreSQL and UTF-8 can store, within a length.

PostgreSQL text cannot hold NUL, and UTF-8 cannot encode a lone surrogate (JSON
"\\ud800"), so both are refused as bad input (a 422) instead of failing on write.
"""

import re
from dataclasses import dataclass
from typing import Any

from pydantic import GetCoreSchemaHandler
from pydantic_core import CoreSchema, core_schema

_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
UNSTORABLE_MESSAGE = "must not contain NUL (\\u0000) or unpaired surrogate characters"


def check_storable(text: str) -> str:
    """Returns ``text`` unchanged; raises ValueError if it holds a character nothing can store."""
    if _UNSTORABLE.search(text):
        raise ValueError(UNSTORABLE_MESSAGE)
    return text


@dataclass(frozen=True)
class Text:
    """``Annotated[str, Text(100, min_length=1)]``: stripped (unless ``strip=False``), bounded, storable.

    Lengths count characters after stripping; ``pattern`` is a further regular expression.
    """

    max_length: int | None = None
    min_length: int = 0
    strip: bool = True
    pattern: str | None = None

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> CoreSchema:
        return core_schema.no_info_after_validator_function(
            check_storable,
            core_schema.str_schema(
                strip_whitespace=self.strip,
                min_length=self.min_length or None,
                max_length=self.max_length,
                pattern=self.pattern,
            ),
        )
