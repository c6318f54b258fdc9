"""trust: cancelled invitations, chat link audit, failed code attempts

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02 09:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0004'
down_revision: str | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('invitation', schema=None) as batch_op:
        batch_op.add_column(sa.Column('cancelled_at', sa.DateTime(timezone=True), nullable=True))

    op.create_table('chat_link_change',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('platform', sa.String(length=16), nullable=False),
    sa.Column('chat_id', sa.String(length=64), nullable=False),
    sa.Column('chat_title', sa.String(length=255), nullable=True),
    sa.Column('agency_before_id', sa.Integer(), nullable=True),
    sa.Column('agency_after_id', sa.Integer(), nullable=True),
    sa.Column('by_user_id', sa.String(length=64), nullable=False),
    sa.Column('by_name', sa.String(length=255), nullable=False),
    sa.Column('by_person_id', sa.Integer(), nullable=True),
    sa.Column('by_role', sa.String(length=16), nullable=False),
    sa.Column('by_chat_admin', sa.Boolean(), nullable=True),
    sa.Column('changed_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['agency_after_id'], ['agency.id'], name=op.f('fk_chat_link_change_agency_after_id_agency')),
    sa.ForeignKeyConstraint(['agency_before_id'], ['agency.id'], name=op.f('fk_chat_link_change_agency_before_id_agency')),
    sa.ForeignKeyConstraint(['by_person_id'], ['person.id'], name=op.f('fk_chat_link_change_by_person_id_person')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_chat_link_change'))
    )
    with op.batch_alter_table('chat_link_change', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_chat_link_change_chat_id'), ['chat_id'], unique=False)

    op.create_table('failed_attempt',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('action', sa.String(length=16), nullable=False),
    sa.Column('scope', sa.String(length=8), nullable=False),
    sa.Column('platform', sa.String(length=16), nullable=False),
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_failed_attempt'))
    )
    with op.batch_alter_table('failed_attempt', schema=None) as batch_op:
        batch_op.create_index('ix_failed_attempt_key', ['action', 'scope', 'platform', 'key', 'at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('failed_attempt', schema=None) as batch_op:
        batch_op.drop_index('ix_failed_attempt_key')
    op.drop_table('failed_attempt')
    with op.batch_alter_table('chat_link_change', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_chat_link_change_chat_id'))
    op.drop_table('chat_link_change')
    with op.batch_alter_table('invitation', schema=None) as batch_op:
        batch_op.drop_column('cancelled_at')
