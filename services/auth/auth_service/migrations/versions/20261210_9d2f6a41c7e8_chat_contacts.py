"""chat contacts: who shares a chat with whom, from chat.created (they see each other's contacts)

Revision ID: 9d2f6a41c7e8
Revises: 1ad7b0f43280
Create Date: 2026-12-10 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "9d2f6a41c7e8"
down_revision: str | None = "1ad7b0f43280"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "chat_contacts",
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("contact_id", sa.BigInteger(), nullable=False),
        sa.Column("since", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("user_id", "contact_id"),
    )


def downgrade() -> None:
    op.drop_table("chat_contacts")
