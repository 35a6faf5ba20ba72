"""place keys: search compares cities and districts by the same keys as matching

Existing rows are backfilled with the Python rule itself (marketplace_rules.places),
so a stored key is exactly what a new write of the same listing would store.

Revision ID: 7c41e2a9b5d3
Revises: 3b7c2d9e4f10
Create Date: 2026-12-06 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from marketplace_rules.places import city_key, place_key

revision: str = "7c41e2a9b5d3"
down_revision: str | None = "3b7c2d9e4f10"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ACTIVE = sa.text("status = 'active'")
_BATCH = 1000


def _backfill() -> None:
    connection = op.get_bind()
    last_id = 0
    while True:
        rows = connection.execute(
            sa.text("SELECT id, city, district FROM properties WHERE id > :last ORDER BY id LIMIT :batch"),
            {"last": last_id, "batch": _BATCH},
        ).all()
        if not rows:
            return
        connection.execute(
            sa.text("UPDATE properties SET city_key = :city_key, district_key = :district_key WHERE id = :id"),
            [{"id": row.id, "city_key": city_key(row.city), "district_key": place_key(row.district)} for row in rows],
        )
        last_id = rows[-1].id


def upgrade() -> None:
    op.add_column("properties", sa.Column("city_key", sa.Text(), nullable=True))
    op.add_column("properties", sa.Column("district_key", sa.Text(), nullable=True))
    _backfill()
    op.alter_column("properties", "city_key", existing_type=sa.Text(), nullable=False)
    op.drop_index("ix_properties_active_kind_city", table_name="properties", postgresql_where=_ACTIVE)
    op.drop_index("ix_properties_active_city", table_name="properties", postgresql_where=_ACTIVE)
    op.create_index(
        "ix_properties_active_kind_city_key",
        "properties",
        ["deal_format", "type", "city_key"],
        unique=False,
        postgresql_where=_ACTIVE,
    )
    op.create_index("ix_properties_active_city_key", "properties", ["city_key"], unique=False, postgresql_where=_ACTIVE)


def downgrade() -> None:
    op.drop_index("ix_properties_active_city_key", table_name="properties", postgresql_where=_ACTIVE)
    op.drop_index("ix_properties_active_kind_city_key", table_name="properties", postgresql_where=_ACTIVE)
    op.create_index(
        "ix_properties_active_kind_city",
        "properties",
        ["deal_format", "type", sa.literal_column("lower(city)")],
        unique=False,
        postgresql_where=_ACTIVE,
    )
    op.create_index(
        "ix_properties_active_city",
        "properties",
        [sa.literal_column("lower(city)")],
        unique=False,
        postgresql_where=_ACTIVE,
    )
    op.drop_column("properties", "district_key")
    op.drop_column("properties", "city_key")
