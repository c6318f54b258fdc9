"""instances: rate slots, shared files and the data version that several instances share

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 08:10:00.000000
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op


revision: str = '0007'
down_revision: str | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'rate_slot',
        sa.Column('scope', sa.String(length=96), nullable=False),
        sa.Column('tat', sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint('scope', name=op.f('pk_rate_slot')),
    )
    op.create_table(
        'shared_file',
        sa.Column('token', sa.String(length=64), nullable=False),
        sa.Column('filename', sa.String(length=255), nullable=False),
        sa.Column('mime_type', sa.String(length=128), nullable=False),
        sa.Column('content', sa.LargeBinary(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('token', name=op.f('pk_shared_file')),
    )
    data_version = op.create_table(
        'data_version',
        sa.Column('name', sa.String(length=32), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('changed_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('name', name=op.f('pk_data_version')),
    )
    op.bulk_insert(
        data_version,
        [{'name': 'catalog', 'version': 0, 'changed_at': datetime(2026, 12, 1, tzinfo=UTC)}],
    )


def downgrade() -> None:
    op.drop_table('data_version')
    op.drop_table('shared_file')
    op.drop_table('rate_slot')
