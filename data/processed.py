"""Platform updates already handled, so a redelivered one is not applied twice."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from data.models import ProcessedUpdate

# Platforms redeliver within hours (Telegram keeps updates for 24 h); keep a safe margin.
KEEP_FOR = timedelta(days=7)
_PURGE_EVERY = 500


def claim(session: Session, platform: str, update_id: str, now: datetime) -> bool:
    """Record the update as handled in this unit of work; False if it was handled before."""
    seen = session.scalars(
        select(ProcessedUpdate.id).where(
            ProcessedUpdate.platform == platform, ProcessedUpdate.update_id == update_id
        )
    ).first()
    if seen is not None:
        return False
    row = ProcessedUpdate(platform=platform, update_id=update_id, created_at=now)
    if session.get_bind().dialect.name == "sqlite":
        # One writer at a time, and pysqlite's outermost SAVEPOINT would commit early.
        session.add(row)
        session.flush()
    else:
        try:
            # A concurrent duplicate fails here without spoiling the unit of work.
            with session.begin_nested():
                session.add(row)
        except IntegrityError:
            return False
    if row.id % _PURGE_EVERY == 0:
        session.execute(delete(ProcessedUpdate).where(ProcessedUpdate.created_at < now - KEEP_FOR))
    return True
