"""The web view's shared state: its signing key and the one-use marks of links and initData.

Both live in the database, so every instance behind a load balancer verifies a link or a
session signed by another, and a link or a Telegram initData is accepted once in all.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import LargeBinary, String, delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, Session, mapped_column

from data.store.models import Base

KEY_NAME = "web"
KEY_BYTES = 32


class WebKey(Base):
    """A random server secret, created once, shared by every instance."""

    __tablename__ = "web_key"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    secret: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime]


class WebOnce(Base):
    """A login link or an initData already used (kept until it could no longer be valid)."""

    __tablename__ = "web_once"

    key: Mapped[str] = mapped_column(String(96), primary_key=True)
    expires_at: Mapped[datetime]


def _insert(session: Session, table: Any) -> Any:
    """INSERT … ON CONFLICT DO NOTHING for the session's database (no savepoint needed)."""
    dialect = session.get_bind().dialect.name
    module: Any = postgresql if dialect == "postgresql" else sqlite
    return module.insert(table)


def signing_key(session: Session, now: datetime) -> bytes:
    """The server secret, made the first time any instance asks (a race keeps the first)."""
    query = select(WebKey.secret).where(WebKey.name == KEY_NAME)
    found = session.scalars(query).first()
    if found is not None:
        return bytes(found)
    row = {"name": KEY_NAME, "secret": secrets.token_bytes(KEY_BYTES), "created_at": now}
    session.execute(_insert(session, WebKey).values(**row).on_conflict_do_nothing())
    return bytes(session.scalars(query).one())


def use_once(session: Session, key: str, expires_at: datetime, now: datetime) -> bool:
    """Mark key used; False when it was used before (expired marks are purged first)."""
    session.execute(
        delete(WebOnce)
        .where(WebOnce.expires_at < now.astimezone(UTC))
        .execution_options(synchronize_session=False)
    )
    statement = (
        _insert(session, WebOnce)
        .values(key=key, expires_at=expires_at)
        .on_conflict_do_nothing()
        .returning(WebOnce.key)
    )
    return session.connection().execute(statement).scalar() is not None  # no row: used
