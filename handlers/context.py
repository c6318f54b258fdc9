"""What a handler gets besides the message: one unit of work and the services."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from bot.model import Capabilities
from bot.settings import Settings

if TYPE_CHECKING:
    from data.search import SearchEngine


@dataclass
class Context:
    """One unit of work (session, never committed by handlers) plus shared services."""

    session: Session
    search: SearchEngine
    settings: Settings
    capabilities: Capabilities
    now: Callable[[], datetime]
