"""What a handler gets besides the message: one unit of work and the services."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from core.limits import PlatformLimits
from core.settings import Settings
from data.store.catalog import Catalog, load_catalog

if TYPE_CHECKING:
    from data.search.engine import SearchEngine

# Telegram's /start payload: at most 64 characters of A-Z, a-z, 0-9, _ and -.
_PAYLOAD_RE = re.compile(r"[A-Za-z0-9_-]{1,64}")


class StartLinks:
    """Each connected platform's deep link that opens a private chat and sends /start <payload>.

    The composition root records a platform's link base (e.g. "https://t.me/daumoi_bot?start=")
    while it is connected; handlers ask for a link and fall back to a typed command without one
    (console, Zalo, tests without a connection).
    """

    def __init__(self) -> None:
        self._bases: dict[str, str] = {}

    @contextmanager
    def connected(self, platform: str, base: str | None) -> Iterator[None]:
        """Know the platform's link base until the block ends (nothing when base is None)."""
        if base:
            self._bases[platform] = base
        try:
            yield
        finally:
            if base and self._bases.get(platform) == base:
                del self._bases[platform]

    def link(self, platform: str, payload: str) -> str | None:
        """The deep link sending /start payload on the platform, or None when unknown."""
        base = self._bases.get(platform)
        if base is None or _PAYLOAD_RE.fullmatch(payload) is None:
            return None
        return base + payload

    def elsewhere(self, platform: str, payload: str) -> list[tuple[str, str]]:
        """(platform, deep link) on every other connected platform that has links."""
        found = [(other, self.link(other, payload)) for other in sorted(self._bases)]
        return [(other, link) for other, link in found if other != platform and link]


START_LINKS = StartLinks()

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
    start_links: StartLinks = field(default=START_LINKS)

    def __post_init__(self) -> None:
        if self.catalog is _FROM_SESSION:
            self.catalog = load_catalog(self.session)
