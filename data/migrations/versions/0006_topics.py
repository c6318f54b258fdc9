"""topics: the forum topic a group is linked from, carried by its reminders and link audit

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-05 09:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0006'
down_revision: str | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('chat', schema=None) as batch_op:
        batch_op.add_column(sa.Column('thread_id', sa.String(length=64), nullable=True))

    with op.batch_alter_table('reminder_outbox', schema=None) as batch_op:
        batch_op.add_column(sa.Column('thread_id', sa.String(length=64), nullable=True))

    with op.batch_alter_table('chat_link_change', schema=None) as batch_op:
        batch_op.add_column(sa.Column('thread_before', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('thread_after', sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('chat_link_change', schema=None) as batch_op:
        batch_op.drop_column('thread_after')
        batch_op.drop_column('thread_before')

    with op.batch_alter_table('reminder_outbox', schema=None) as batch_op:
        batch_op.drop_column('thread_id')

    with op.batch_alter_table('chat', schema=None) as batch_op:
        batch_op.drop_column('thread_id')
