"""What a handler gets besides the message: one unit of work and the services."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from core.limits import PlatformLimits
from core.settings import Settings
from data.store.catalog import Catalog, load_catalog

if TYPE_CHECKING:
    from data.search.engine import SearchEngine

# Stands for "no catalog given": the context then loads one from its session.
_FROM_SESSION = Catalog((), (), (), ())


@dataclass
class Context:
    """One unit of work (session, never committed by handlers) plus shared services.

    catalog: the read model of the programme tables; the router passes its shared one.
    """

    session: Session
    search: SearchEngine
    settings: Settings
    capabilities: PlatformLimits
    now: Callable[[], datetime]
    catalog: Catalog = field(default=_FROM_SESSION)

    def __post_init__(self) -> None:
        if self.catalog is _FROM_SESSION:
            self.catalog = load_catalog(self.session)
