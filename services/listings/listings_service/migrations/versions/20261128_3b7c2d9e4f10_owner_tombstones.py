"""owner tombstones: a deleted user's row stays, cleared and marked, so late profile events are ignored

Revision ID: 3b7c2d9e4f10
Revises: fa85ed1c906f
Create Date: 2026-11-28 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "3b7c2d9e4f10"
down_revision: str | None = "fa85ed1c906f"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_PROFILE = (
    ("first_name", sa.String(100)),
    ("last_name", sa.String(100)),
    ("phone", sa.String(16)),
    ("role", sa.String(20)),
)


def upgrade() -> None:
    op.add_column("owners", sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True))
    for name, type_ in _PROFILE:
        op.alter_column("owners", name, existing_type=type_, nullable=True)


def downgrade() -> None:
    op.execute("DELETE FROM owners WHERE deleted_at IS NOT NULL")
    for name, type_ in _PROFILE:
        op.alter_column("owners", name, existing_type=type_, nullable=False)
    op.drop_column("owners", "deleted_at")
