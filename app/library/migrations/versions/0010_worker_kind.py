"""Worker kinds: an SSH box (as before), a Slurm login node or a Ray head; options hold the kind's settings.

Revision ID: 0010_worker_kind
Revises: 0009_dataset_stats
"""

import sqlalchemy as sa
from alembic import op

revision = "0010_worker_kind"
down_revision = "0009_dataset_stats"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("workers") as batch:
        batch.add_column(sa.Column("kind", sa.String(20), nullable=False, server_default="ssh"))
        batch.add_column(sa.Column("options", sa.JSON, nullable=True))  # slurm: partition, account, gres, time…


def downgrade() -> None:
    with op.batch_alter_table("workers") as batch:
        batch.drop_column("options")
        batch.drop_column("kind")
