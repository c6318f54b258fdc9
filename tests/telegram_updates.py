"""Bot API JSON read like the libraries' parsed update objects, for translation tests."""

from __future__ import annotations

from typing import Any


class View:
    """A JSON object with attribute access (`from` is `from_user`); absent fields are None."""

    def __init__(self, data: dict[str, Any]) -> None:
        self._data = data

    def __getattr__(self, name: str) -> Any:
        return _viewed(self._data.get("from" if name == "from_user" else name))


def _viewed(value: Any) -> Any:
    """Objects as Views, lists (of rows of buttons, too) item by item."""
    if isinstance(value, dict):
        return View(value)
    if isinstance(value, list):
        return [_viewed(item) for item in value]
    return value


def as_update(data: dict[str, Any]) -> Any:
    """An update as python-telegram-bot or aiogram would hand it over."""
    return View(data)
