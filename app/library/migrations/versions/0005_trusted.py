"""Trusted checkpoints: files the user chose to load although the safe loader refused them, by sha256.

Revision ID: 0005_trusted
Revises: 0004_workers
"""

import sqlalchemy as sa
from alembic import op

revision = "0005_trusted"
down_revision = "0004_workers"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "trusted_checkpoints",
        sa.Column("sha256", sa.String(64), primary_key=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("trusted_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("trusted_checkpoints")
