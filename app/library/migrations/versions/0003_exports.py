"""Exports: one row per (model, format) export with its state, artifact and verification.

Revision ID: 0003_exports
Revises: 0002_jobs
"""

import sqlalchemy as sa
from alembic import op

revision = "0003_exports"
down_revision = "0002_jobs"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "exports",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("model_id", sa.String(32), sa.ForeignKey("models.id", ondelete="CASCADE"), nullable=False),
        sa.Column("format", sa.String(40), nullable=False),
        sa.Column("args", sa.JSON, nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("job_id", sa.String(32), nullable=True),
        sa.Column("path", sa.Text, nullable=True),
        sa.Column("size", sa.Integer, nullable=True),
        sa.Column("sha256", sa.String(64), nullable=True),
        sa.Column("verified", sa.Boolean, nullable=False),
        sa.Column("verification", sa.Text, nullable=True),
        sa.Column("seconds", sa.Float, nullable=True),
        sa.Column("error", sa.Text, nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_exports_model", "exports", ["model_id"])


def downgrade() -> None:
    op.drop_table("exports")
