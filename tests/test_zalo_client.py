"""The Zalo Bot API client against the fake server: wire format, quirks, retries, secrecy."""

from __future__ import annotations

import logging
import socket
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime

import pytest

from bot.platforms.zalo_client import (
    RetryPolicy,
    ZaloClient,
    ms_to_datetime,
    parse_update,
)
from core.chat_client import BadRequest, ChatGone, Forbidden, RetryAfter, Transient
from tests import fake_zalo as fz
from tests.fake_zalo import FakeZalo


class Sleeps:
    """A sleep that records how long it was asked to wait, and returns at once."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


@pytest.fixture
def fake() -> Iterator[FakeZalo]:
    with FakeZalo().running() as server:
        yield server


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
async def client(fake: FakeZalo, sleeps: Sleeps) -> AsyncIterator[ZaloClient]:
    async with ZaloClient(
        fake.token, fake.base_url, timeout=1.0, retry=RetryPolicy(attempts=3), sleep=sleeps
    ) as opened:
        yield opened


async def test_get_me_reads_the_bot_names(client: ZaloClient, fake: FakeZalo) -> None:
    me = await client.get_me()
    assert me.id == fz.BOT_ID
    assert me.name == fz.BOT_NAME and me.names == (fz.BOT_NAME,)


async def test_requests_go_to_base_bot_token_method(fake: FakeZalo) -> None:
    async with ZaloClient("wrong:token", fake.base_url, timeout=1.0) as wrong:
        with pytest.raises(Forbidden):
            await wrong.get_me()
    assert fake.unauthorized == 1


async def test_idle_poll_answers_408_and_yields_nothing(client: ZaloClient, fake: FakeZalo) -> None:
    assert await client.get_updates(timeout=0) == []
    assert fake.polls == 1


async def test_one_update_per_poll_with_string_ids_and_millisecond_dates(
    client: ZaloClient, fake: FakeZalo
) -> None:
    first = fake.push_message(fz.private_chat(fz.user()), "xin chào")
    second = fake.push_message(fz.private_chat(fz.user()), "/tim san bay")
    assert first is not None and second is not None
    [update] = await client.get_updates(timeout=1)
    assert update.event_name == "message.text.received"
    message = update.message
    assert message is not None and message.text == "xin chào"
    assert message.message_id == first["message"]["message_id"]
    assert message.chat.id == "1001" and not message.chat.is_group
    assert message.sender.display_name == "Lan Nguyễn"
    assert message.date is not None
    assert abs((datetime.now(UTC) - message.date).total_seconds()) < 60
    [update] = await client.get_updates(timeout=1)
    assert update.message is not None and update.message.text == "/tim san bay"


async def test_already_read_updates_may_come_again(fake: FakeZalo, client: ZaloClient) -> None:
    fake.repeat = 1
    fake.push_message(fz.private_chat(fz.user()), "một lần")
    ids = []
    for _ in range(2):
        [update] = await client.get_updates(timeout=1)
        assert update.message is not None
        ids.append(update.message.message_id)
    assert ids[0] == ids[1]
    assert await client.get_updates(timeout=0) == []


def test_parse_update_coerces_numeric_ids_and_reads_images() -> None:
    update = parse_update(
        {
            "event_name": "message.image.received",
            "message": {
                "from": {"id": 42, "name": "Hà"},
                "chat": {"id": 77, "chat_type": "GROUP"},
                "message_id": 9001,
                "date": "1766131200000",
                "photo": "https://example.invalid/p.jpg",
                "caption": "ảnh hiện trường",
            },
        }
    )
    message = update.message
    assert message is not None
    assert (message.sender.id, message.chat.id, message.message_id) == ("42", "77", "9001")
    assert message.sender.display_name == "Hà" and message.chat.is_group
    assert message.photo_url == "https://example.invalid/p.jpg"
    assert message.date == datetime(2025, 12, 19, 8, 0, tzinfo=UTC)
    assert ms_to_datetime("not a date") is None


async def test_429_waits_for_retry_after_then_succeeds(
    client: ZaloClient, fake: FakeZalo, sleeps: Sleeps
) -> None:
    fake.fail_next("sendMessage", "429", retry_after=3)
    sent = await client.send_message("1001", "chào")
    assert sent.message_id
    assert sleeps.waits == [3.0]
    assert len(fake.errors) == 1 and len(fake.messages_to("1001")) == 1


async def test_5xx_are_retried_with_growing_backoff(
    client: ZaloClient, fake: FakeZalo, sleeps: Sleeps
) -> None:
    fake.fail_next("sendMessage", "500")
    fake.fail_next("sendMessage", "502")  # an HTML error page, not JSON
    await client.send_message("1001", "chào")
    assert sleeps.waits == [0.5, 1.0]


async def test_retries_give_up_after_the_policy_attempts(
    client: ZaloClient, fake: FakeZalo
) -> None:
    fake.fail_next("sendMessage", "500", times=3)
    with pytest.raises(Transient):
        await client.send_message("1001", "chào")
    assert len(fake.errors) == 3 and fake.messages_to("1001") == []


async def test_a_slow_answer_is_a_transient_timeout(fake: FakeZalo) -> None:
    fake.fail_next("sendMessage", "timeout", delay=0.5)
    async with ZaloClient(fake.token, fake.base_url, timeout=0.2) as impatient:
        with pytest.raises(Transient, match="timeout"):
            await impatient.send_message("1001", "chào", retry=False)


async def test_refusals_are_typed_and_not_retried(client: ZaloClient, fake: FakeZalo) -> None:
    fake.fail_next("sendMessage", "403")
    with pytest.raises(ChatGone):  # 403: removed from the group, blocked
        await client.send_message("g1", "chào")
    fake.fail_next("sendMessage", "400")
    with pytest.raises(ChatGone, match="chat not found"):  # the bot cannot reach it any more
        await client.send_message("g1", "chào")
    with pytest.raises(BadRequest, match="2000"):
        await client.send_message("g1", "x" * 2001)
    assert len(fake.errors) == 3


async def test_retry_later_carries_the_wait(fake: FakeZalo) -> None:
    fake.fail_next("sendMessage", "429", retry_after=7)
    async with ZaloClient(fake.token, fake.base_url, retry=RetryPolicy(attempts=1)) as once:
        with pytest.raises(RetryAfter) as caught:
            await once.send_message("1001", "chào")
    assert caught.value.seconds == 7.0


async def test_webhook_photo_and_typing_calls(client: ZaloClient, fake: FakeZalo) -> None:
    await client.set_webhook("https://bot.example.invalid/zalo/hook", "s3cret-token")
    assert (await client.get_webhook_info()).url == "https://bot.example.invalid/zalo/hook"
    await client.delete_webhook()
    assert (await client.get_webhook_info()).url == ""
    await client.send_photo("1001", "https://files.example.invalid/c.png", "Biểu đồ")
    await client.send_chat_action("1001", "typing")
    [photo] = fake.calls("sendPhoto")
    assert photo.params == {
        "chat_id": "1001",
        "photo": "https://files.example.invalid/c.png",
        "caption": "Biểu đồ",
    }
    assert fake.calls("sendChatAction")[0].params["action"] == "typing"


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_the_token_never_reaches_logs_or_errors(
    fake: FakeZalo, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    for name in ("httpx", "httpcore"):  # the runner quiets them; listen to everything here
        caplog.set_level(logging.DEBUG, logger=name)
    token = fake.token
    errors: list[str] = []
    async with ZaloClient(token, fake.base_url, timeout=0.5, sleep=Sleeps()) as client:
        await client.get_me()
        fake.fail_next("sendMessage", "500", times=10)
        try:
            await client.send_message("1001", "chào")
        except Transient as exc:
            errors.append(repr(exc))
        errors.append(repr(client))
    async with ZaloClient(token, f"http://127.0.0.1:{_closed_port()}", sleep=Sleeps()) as closed:
        try:
            await closed.get_me()
        except Transient as exc:
            errors.append(f"{exc!r} {exc.__cause__!r} {exc.__context__!r}")
    assert "HTTP Request" in caplog.text  # httpx did log the requests …
    assert "bot***" in caplog.text  # … with the placeholder …
    for text in (caplog.text, *errors):
        assert token not in text  # … and never the token
        assert token.split(":")[1] not in text
