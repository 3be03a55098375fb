"""Datasets as library items: what kind of source, its checked statistics and problems, its size, when checked.

Revision ID: 0009_dataset_stats
Revises: 0008_validations
"""

import sqlalchemy as sa
from alembic import op

revision = "0009_dataset_stats"
down_revision = "0008_validations"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("datasets") as batch:
        batch.add_column(sa.Column("kind", sa.String(20), nullable=True))  # yaml | folder | zip
        batch.add_column(sa.Column("stats", sa.JSON, nullable=True))  # counts per split and class, problems
        batch.add_column(sa.Column("size", sa.Integer, nullable=True))  # bytes on disk
        batch.add_column(sa.Column("checked_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("datasets") as batch:
        for name in ("checked_at", "size", "stats", "kind"):
            batch.drop_column(name)
