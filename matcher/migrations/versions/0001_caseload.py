"""The caseload store: navigators, clients, plans, events, audit.

Revision ID: 0001
Revises:
"""
import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table("navigators",
                    sa.Column("id", sa.Integer, primary_key=True),
                    sa.Column("name", sa.String(100), nullable=False, unique=True),
                    sa.Column("password_hash", sa.String(300), nullable=False),
                    sa.Column("token_digest", sa.String(64), unique=True),
                    sa.Column("active", sa.Boolean, nullable=False),
                    sa.Column("created_at", sa.DateTime, nullable=False))
    op.create_table("clients",
                    sa.Column("id", sa.String(32), primary_key=True),
                    sa.Column("client_ref", sa.String(100), nullable=False),
                    sa.Column("navigator", sa.String(100), nullable=False),
                    sa.Column("intake", sa.Text, nullable=False),
                    sa.Column("intake_date", sa.Date, nullable=False),
                    sa.Column("consent_date", sa.Date),
                    sa.Column("retain_until", sa.Date, nullable=False),
                    sa.Column("created_at", sa.DateTime, nullable=False),
                    sa.Column("updated_at", sa.DateTime, nullable=False))
    op.create_table("plans",
                    sa.Column("id", sa.Integer, primary_key=True),
                    sa.Column("client_id", sa.String(32), sa.ForeignKey("clients.id", ondelete="CASCADE"),
                              nullable=False, index=True),
                    sa.Column("created_at", sa.DateTime, nullable=False),
                    sa.Column("created_by", sa.String(100), nullable=False),
                    sa.Column("current", sa.Boolean, nullable=False),
                    sa.Column("versions", sa.Text, nullable=False),
                    sa.Column("row", sa.Text, nullable=False),
                    sa.Column("plan", sa.Text))
    op.create_table("events",
                    sa.Column("id", sa.Integer, primary_key=True),
                    sa.Column("client_id", sa.String(32), sa.ForeignKey("clients.id", ondelete="CASCADE"),
                              nullable=False, index=True),
                    sa.Column("event", sa.String(30), nullable=False),
                    sa.Column("date", sa.Date, nullable=False),
                    sa.Column("occupation", sa.String(20), nullable=False),
                    sa.Column("hourly_wage", sa.Float),
                    sa.Column("amount_usd", sa.Float),
                    sa.Column("note", sa.Text, nullable=False),
                    sa.Column("recorded_by", sa.String(100), nullable=False),
                    sa.Column("recorded_at", sa.DateTime, nullable=False))
    op.create_table("audit",
                    sa.Column("id", sa.Integer, primary_key=True),
                    sa.Column("at", sa.DateTime, nullable=False),
                    sa.Column("actor", sa.String(100), nullable=False),
                    sa.Column("action", sa.String(40), nullable=False),
                    sa.Column("client_id", sa.String(32), nullable=False))


def downgrade() -> None:
    for t in ("audit", "events", "plans", "clients", "navigators"):
        op.drop_table(t)
