"""district keys: a district compares without its marker word ("Центральный район" and "ЦАО" are "центральный")

Requests and the local copy of listings are rewritten with the Python rule itself
(marketplace_rules.places.district_key). The copy of a listing whose district
comes only from its address gets that key with the listing's next event (the
copy keeps no address).

Revision ID: 0b9e9f1cf291
Revises: cecdf13545f3
Create Date: 2026-12-10 10:00:00.000000
"""

from collections.abc import Callable, Sequence

import sqlalchemy as sa
from alembic import op

from marketplace_rules.places import district_key, place_key

revision: str = "0b9e9f1cf291"
down_revision: str | None = "cecdf13545f3"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_BATCH = 1000
# Each table with the column of its key.
_TABLES = {"search_requests": "id", "listings": "property_id"}


def _rewrite(key_of: Callable[[str | None], str | None]) -> None:
    connection = op.get_bind()
    for table, key in _TABLES.items():
        last_id = 0
        while True:
            rows = connection.execute(
                sa.text(
                    f"SELECT {key} AS id, district FROM {table} WHERE district IS NOT NULL AND {key} > :last "  # noqa: S608 - names from the table above
                    f"ORDER BY {key} LIMIT :batch"
                ),
                {"last": last_id, "batch": _BATCH},
            ).all()
            if not rows:
                break
            connection.execute(
                sa.text(f"UPDATE {table} SET district_key = :district_key WHERE {key} = :id"),  # noqa: S608
                [{"id": row.id, "district_key": key_of(row.district)} for row in rows],
            )
            last_id = rows[-1].id


def upgrade() -> None:
    _rewrite(district_key)


def downgrade() -> None:
    _rewrite(place_key)
