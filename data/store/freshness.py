"""A cheap fingerprint of what the catalog and the search index are built from.

Every import stamps its programme's `imported_at`, and only imports change tasks, agencies,
aliases, successions and facts; so the number of programmes and the latest stamp change
whenever another process (a `daumoi import`, another instance) changed that data.
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from data.store.models import Programme


def data_version(session: Session) -> tuple[int, str]:
    """(programmes, latest import time): different after any import by any process."""
    count, latest = session.execute(
        select(func.count(Programme.id), func.max(Programme.imported_at))
    ).one()
    return int(count), latest.isoformat() if latest is not None else ""
