"""The redacting log filter masks every form of a secret in every part of a record."""

from __future__ import annotations

import io
import logging
from urllib.parse import quote

import pytest

from bot.logsafe import MASK, Redactor, secrets_of
from core.settings import Settings

TOKEN = "123456:AAH-secret_Part-xyz"
SECRET = TOKEN.split(":", 1)[1]


def _logged(emit: object) -> str:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    handler.addFilter(
        Redactor(secrets_of(Settings(telegram_token=TOKEN, zalo_token="zz:" + SECRET[::-1])))
    )
    logger = logging.getLogger("test.logsafe")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        assert callable(emit)
        emit(logger)
    finally:
        logger.removeHandler(handler)
    return stream.getvalue()


@pytest.mark.parametrize(
    "form",
    [
        TOKEN,
        SECRET,
        quote(TOKEN, safe=""),
        f"https://api.telegram.org/bot{TOKEN}/getMe",
        SECRET[::-1],
    ],
)
def test_secret_is_masked_in_message_args_and_traceback(form: str) -> None:
    def emit(logger: logging.Logger) -> None:
        logger.warning("plain " + form)
        logger.info("HTTP Request: %s %s", "POST", form)
        try:
            raise ValueError(f"The token `{form}` was rejected")
        except ValueError:
            logger.exception("failed")
        logger.error("stack of %s", form, stack_info=True)

    logger_level = logging.getLogger("test.logsafe")
    logger_level.setLevel(logging.DEBUG)
    output = _logged(emit)
    assert SECRET not in output and SECRET[::-1] not in output
    assert quote(SECRET, safe="") not in output
    assert output.count(MASK) >= 3
    assert "Traceback" in output and "ValueError" in output  # the rest of the record stays


def test_short_or_empty_secrets_are_not_masked() -> None:
    assert secrets_of(Settings(telegram_token="", zalo_token="")) == []
    assert "999" not in secrets_of(Settings(telegram_token="999:" + SECRET))
