"""known_matches: request.matched, so a seller may approach a matched buyer

Revision ID: 8d3f6a1c2e47
Revises: 5b1e0c7d2a91
Create Date: 2026-12-10 12:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "8d3f6a1c2e47"
down_revision: str | None = "5b1e0c7d2a91"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "known_matches",
        sa.Column("request_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("property_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("buyer_id", sa.BigInteger(), nullable=False),
        sa.Column("seller_id", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("request_id", "property_id"),
    )
    op.create_index("ix_known_matches_pair", "known_matches", ["buyer_id", "seller_id", "property_id"])


def downgrade() -> None:
    op.drop_index("ix_known_matches_pair", table_name="known_matches")
    op.drop_table("known_matches")
