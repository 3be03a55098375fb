"""Validations: one row per validation run of a model (its file holds the matrix, curves and per-image predictions).

Revision ID: 0008_validations
Revises: 0007_endpoints
"""

import sqlalchemy as sa
from alembic import op

revision = "0008_validations"
down_revision = "0007_endpoints"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "validations",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("model_id", sa.String(32), sa.ForeignKey("models.id", ondelete="CASCADE"), nullable=False),
        sa.Column("job_id", sa.String(32), nullable=True),
        sa.Column("data", sa.Text, nullable=False),  # the data.yaml / folder validated on, as given
        sa.Column("dataset_id", sa.Integer, sa.ForeignKey("datasets.id", ondelete="SET NULL"), nullable=True),
        sa.Column("split", sa.String(10), nullable=False),
        sa.Column("args", sa.JSON, nullable=False),
        sa.Column("summary", sa.JSON, nullable=False),  # task, overall metrics, speed: what lists show
        sa.Column("path", sa.Text, nullable=False),  # the capture file (JSON) in the library's storage
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_validations_model", "validations", ["model_id"])


def downgrade() -> None:
    op.drop_index("ix_validations_model", "validations")
    op.drop_table("validations")
