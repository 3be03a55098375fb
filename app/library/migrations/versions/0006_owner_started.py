"""Jobs: the owner process's start time beside its pid, so a reused pid is not taken for the owner.

Revision ID: 0006_owner_started
Revises: 0005_trusted
"""

import sqlalchemy as sa
from alembic import op

revision = "0006_owner_started"
down_revision = "0005_trusted"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("jobs") as batch:
        batch.add_column(sa.Column("owner_started", sa.Float, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("jobs") as batch:
        batch.drop_column("owner_started")
