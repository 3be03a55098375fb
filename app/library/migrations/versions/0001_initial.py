"""The first library schema: projects, datasets, models.

Revision ID: 0001_initial
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001_initial"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "projects",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(200), nullable=False, unique=True),
        sa.Column("description", sa.Text, nullable=False, server_default=""),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "datasets",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("location", sa.Text, nullable=False, unique=True),
        sa.Column("task", sa.String(20), nullable=True),
        sa.Column("class_names", sa.JSON, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "models",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("project_id", sa.Integer, sa.ForeignKey("projects.id", ondelete="RESTRICT"), nullable=False),
        sa.Column("name", sa.String(300), nullable=False),
        sa.Column("task", sa.String(20), nullable=True),
        sa.Column("architecture", sa.String(100), nullable=True),
        sa.Column("family", sa.String(50), nullable=True),
        sa.Column("scale", sa.String(10), nullable=True),
        sa.Column("class_names", sa.JSON, nullable=False),
        sa.Column("nc", sa.Integer, nullable=True),
        sa.Column("imgsz", sa.JSON, nullable=True),
        sa.Column("params", sa.Integer, nullable=True),
        sa.Column("metrics", sa.JSON, nullable=False),
        sa.Column("results", sa.JSON, nullable=False),
        sa.Column("train_args", sa.JSON, nullable=False),
        sa.Column("ultralytics_version", sa.String(40), nullable=True),
        sa.Column("checkpoint_date", sa.String(60), nullable=True),
        sa.Column("git", sa.JSON, nullable=True),
        sa.Column("epoch", sa.Integer, nullable=True),
        sa.Column("has_optimizer", sa.Boolean, nullable=False),
        sa.Column("original_filename", sa.Text, nullable=False),
        sa.Column("source_path", sa.Text, nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("size", sa.Integer, nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("visibility", sa.String(10), nullable=False),
        sa.Column("dataset_id", sa.Integer, sa.ForeignKey("datasets.id", ondelete="SET NULL"), nullable=True),
        sa.Column("dataset_ref", sa.Text, nullable=True),
        sa.Column("parent_id", sa.String(32), sa.ForeignKey("models.id", ondelete="SET NULL"), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_models_project", "models", ["project_id"])
    op.create_index(
        "ux_models_project_sha256", "models", ["project_id", "sha256"], unique=True,
        sqlite_where=sa.text("deleted_at IS NULL"),
    )


def downgrade() -> None:
    op.drop_table("models")
    op.drop_table("datasets")
    op.drop_table("projects")
