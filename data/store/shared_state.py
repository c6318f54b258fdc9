"""Tables that let several instances on one database share what one process used to keep.

Rate slots (flood limits counted across instances), files any instance can serve (report links
for Zalo), and the data version every instance watches to reload its catalog and search.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from data.store.models import Base


class RateSlot(Base):
    """One flood-limit scope (a platform, a group, a chat): its next theoretical send time.

    `tat` is in epoch seconds of the database clock (GCRA's theoretical arrival time), so
    instances on machines with different clocks still agree.
    """

    __tablename__ = "rate_slot"

    scope: Mapped[str] = mapped_column(String(96), primary_key=True)
    tat: Mapped[float] = mapped_column(Float)


class SharedFile(Base):
    """A generated file served under an unguessable token until it expires (any instance)."""

    __tablename__ = "shared_file"

    token: Mapped[str] = mapped_column(String(64), primary_key=True)
    filename: Mapped[str] = mapped_column(String(255))
    mime_type: Mapped[str] = mapped_column(String(128))
    content: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]


class DataVersion(Base):
    """A counter bumped by every change the catalog and search index are built from."""

    __tablename__ = "data_version"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, default=0)
    changed_at: Mapped[datetime]
