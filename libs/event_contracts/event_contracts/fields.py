"""Field types the event models share, with the bounds producers and consumers agree on."""

from typing import Annotated

from pydantic import AwareDatetime, Field

from marketplace_rules.text import Text

# Row ids: positive and within PostgreSQL's BIGINT.
Id = Annotated[int, Field(ge=1, le=2**63 - 1)]
Moment = AwareDatetime
Url = Annotated[str, Text(2000, strip=False)]


def event_text(max_length: int, *, min_length: int = 0) -> Text:
    """Event text is sent as stored: never stripped, only bounded and storable."""
    return Text(max_length, min_length=min_length, strip=False)
