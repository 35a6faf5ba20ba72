"""known_users.profile_at: the time of the profile event applied last

Revision ID: 5b1e0c7d2a91
Revises: 28565520aaba
Create Date: 2026-12-05 12:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "5b1e0c7d2a91"
down_revision: str | None = "28565520aaba"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("known_users", sa.Column("profile_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    op.drop_column("known_users", "profile_at")
