"""web: the web view's signing key and one-use marks of login links and initData

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-05 09:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0008'
down_revision: str | None = '0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'web_key',
        sa.Column('name', sa.String(length=32), nullable=False),
        sa.Column('secret', sa.LargeBinary(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('name', name=op.f('pk_web_key')),
    )
    op.create_table(
        'web_once',
        sa.Column('key', sa.String(length=96), nullable=False),
        sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('key', name=op.f('pk_web_once')),
    )


def downgrade() -> None:
    op.drop_table('web_once')
    op.drop_table('web_key')
