"""Jobs (training first), and models that exist before their weights do (a training in progress).

Revision ID: 0002_jobs
Revises: 0001_initial
"""

import sqlalchemy as sa
from alembic import op

revision = "0002_jobs"
down_revision = "0001_initial"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("models") as batch:
        batch.alter_column("sha256", existing_type=sa.String(64), nullable=True)
        batch.alter_column("size", existing_type=sa.Integer, nullable=True)
    op.create_table(
        "jobs",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("worker", sa.String(100), nullable=False),
        sa.Column("spec", sa.JSON, nullable=False),
        sa.Column("project_id", sa.Integer, sa.ForeignKey("projects.id", ondelete="SET NULL"), nullable=True),
        sa.Column("model_id", sa.String(32), sa.ForeignKey("models.id", ondelete="SET NULL"), nullable=True),
        sa.Column("run_dir", sa.Text, nullable=False),
        sa.Column("pid", sa.Integer, nullable=True),
        sa.Column("pid_started", sa.Float, nullable=True),
        sa.Column("owner_pid", sa.Integer, nullable=True),
        sa.Column("error", sa.Text, nullable=True),
        sa.Column("result", sa.JSON, nullable=True),
        sa.Column("retry_of", sa.String(32), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_jobs_status", "jobs", ["status"])
    op.create_index("ix_jobs_model", "jobs", ["model_id"])


def downgrade() -> None:
    op.drop_table("jobs")
    with op.batch_alter_table("models") as batch:
        batch.alter_column("size", existing_type=sa.Integer, nullable=False)
        batch.alter_column("sha256", existing_type=sa.String(64), nullable=False)
