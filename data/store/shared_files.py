"""Generated files (report links) kept in the database, so every instance serves them.

Each file is stored under a fresh unguessable token until it expires; expired rows are purged
whenever a file is added, at most `max_files` are kept (the oldest go first), and content over
`max_bytes` is refused. Blocking calls: run them off the event loop.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, func, select

from core.model import Attachment
from data.store.db import Database
from data.store.shared_state import SharedFile

MAX_FILES = 500
MAX_BYTES = 20 * 1024 * 1024  # a report is a few hundred kilobytes; this is no report
TOKEN_LENGTH = 64  # shared_file.token column width


class FileTooLarge(ValueError):
    """The content is larger than a shared file may be."""


@dataclass(frozen=True)
class SharedLink:
    """Where a stored file can be fetched: its token, and until when."""

    token: str
    expires_at: datetime


class SharedFiles:
    """The shared_file table: add a file under a token, get it back until it expires."""

    def __init__(
        self,
        database: Database,
        *,
        max_files: int = MAX_FILES,
        max_bytes: int = MAX_BYTES,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.database = database
        self.max_files = max(1, max_files)
        self.max_bytes = max_bytes
        self._clock = clock

    def add(self, file: Attachment, ttl_seconds: float) -> SharedLink:
        """Store file for ttl_seconds under a new token (FileTooLarge over max_bytes)."""
        if len(file.content) > self.max_bytes:
            raise FileTooLarge(f"{len(file.content)} bytes > {self.max_bytes}")
        now = self._clock()
        link = SharedLink(secrets.token_urlsafe(24), now + timedelta(seconds=ttl_seconds))
        with self.database.unit_of_work() as session:
            session.execute(
                delete(SharedFile)
                .where(SharedFile.expires_at <= now)
                .execution_options(synchronize_session=False)
            )
            session.add(
                SharedFile(
                    token=link.token,
                    filename=(file.filename or "tep")[:255],
                    mime_type=(file.mime_type or "application/octet-stream")[:128],
                    content=file.content,
                    created_at=now,
                    expires_at=link.expires_at,
                )
            )
            session.flush()
            oldest = (
                select(SharedFile.token)
                .order_by(SharedFile.created_at.desc(), SharedFile.token.desc())
                .offset(self.max_files)
            )
            session.execute(
                delete(SharedFile)
                .where(SharedFile.token.in_(oldest.scalar_subquery()))
                .execution_options(synchronize_session=False)
            )
        return link

    def get(self, token: str) -> Attachment | None:
        """The file stored under token, unless it expired or never existed."""
        if not token or len(token) > TOKEN_LENGTH:
            return None
        query = select(SharedFile).where(
            SharedFile.token == token, SharedFile.expires_at > self._clock()
        )
        with self.database.unit_of_work() as session:
            row = session.scalars(query).one_or_none()
            if row is None:
                return None
            return Attachment(row.filename, bytes(row.content), row.mime_type)

    def purge(self) -> int:
        """Delete every expired file; how many went."""
        with self.database.unit_of_work() as session:
            result = session.execute(
                delete(SharedFile)
                .where(SharedFile.expires_at <= self._clock())
                .execution_options(synchronize_session=False)
            )
        return int(getattr(result, "rowcount", 0) or 0)

    def count(self) -> int:
        """How many files are kept (expired ones not yet purged included)."""
        with self.database.unit_of_work() as session:
            return int(session.scalar(select(func.count()).select_from(SharedFile)) or 0)
