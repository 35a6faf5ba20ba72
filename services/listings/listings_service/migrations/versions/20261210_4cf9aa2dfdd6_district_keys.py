"""district keys: a district compares without its marker word, and comes from the address when none is given

"Центральный район", "р-н Центральный" and "ЦАО" are all "центральный"; a listing
without a district has the one its location names. Existing rows are rewritten
with the Python rule itself (marketplace_rules.places.listing_district_key), so a
stored key is exactly what a new write of the same listing would store.

Revision ID: 4cf9aa2dfdd6
Revises: 7c41e2a9b5d3
Create Date: 2026-12-10 10:00:00.000000
"""

from collections.abc import Callable, Sequence

import sqlalchemy as sa
from alembic import op

from marketplace_rules.places import listing_district_key, place_key

revision: str = "4cf9aa2dfdd6"
down_revision: str | None = "7c41e2a9b5d3"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_BATCH = 1000


def _rewrite(key_of: Callable[[str | None, str | None], str | None]) -> None:
    connection = op.get_bind()
    last_id = 0
    while True:
        rows = connection.execute(
            sa.text("SELECT id, district, location FROM properties WHERE id > :last ORDER BY id LIMIT :batch"),
            {"last": last_id, "batch": _BATCH},
        ).all()
        if not rows:
            return
        connection.execute(
            sa.text("UPDATE properties SET district_key = :district_key WHERE id = :id"),
            [{"id": row.id, "district_key": key_of(row.district, row.location)} for row in rows],
        )
        last_id = rows[-1].id


def upgrade() -> None:
    _rewrite(listing_district_key)


def downgrade() -> None:
    # The keys of the previous revision: the district as written, nothing from the address.
    _rewrite(lambda district, _location: place_key(district))
