"""Endpoints: one row per inference endpoint (a model served over HTTP by a ``serve`` job).

Revision ID: 0007_endpoints
Revises: 0006_owner_started
"""

import sqlalchemy as sa
from alembic import op

revision = "0007_endpoints"
down_revision = "0006_owner_started"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "endpoints",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("model_id", sa.String(32), sa.ForeignKey("models.id", ondelete="CASCADE"), nullable=False),
        sa.Column("worker", sa.String(100), nullable=False),
        sa.Column("backend", sa.String(40), nullable=False),
        sa.Column("weights", sa.Text, nullable=False),
        sa.Column("imgsz", sa.Integer, nullable=True),
        sa.Column("port", sa.Integer, nullable=False),
        sa.Column("tunnel_port", sa.Integer, nullable=True),
        sa.Column("tunnel_pid", sa.Integer, nullable=True),
        sa.Column("lan", sa.Boolean, nullable=False),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("url", sa.Text, nullable=True),
        sa.Column("error", sa.Text, nullable=True),
        sa.Column("token_store", sa.String(20), nullable=False),
        sa.Column("job_id", sa.String(32), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("endpoints")
