"""Workers: remote machines reached over SSH that run the agent.

Revision ID: 0004_workers
Revises: 0003_exports
"""

import sqlalchemy as sa
from alembic import op

revision = "0004_workers"
down_revision = "0003_exports"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "workers",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(100), nullable=False, unique=True),
        sa.Column("host", sa.String(255), nullable=False),
        sa.Column("port", sa.Integer, nullable=True),
        sa.Column("user", sa.String(100), nullable=True),
        sa.Column("key_path", sa.Text, nullable=True),
        sa.Column("auth", sa.String(20), nullable=False),
        sa.Column("python", sa.Text, nullable=False),
        sa.Column("info", sa.JSON, nullable=True),
        sa.Column("tested_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text, nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("workers")
