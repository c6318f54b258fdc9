"""/web: a one-time link that opens the web view in a browser (10 minutes, one use)."""

from __future__ import annotations

from core.model import Incoming, Reply
from data.store.web_state import signing_key
from handlers.context import Context
from handlers.permissions import NOT_REGISTERED
from handlers.status_common import actor
from handlers.web.auth import LOGIN_SECONDS, Identity, login_token

NOT_ENABLED = (
    "Trang theo dõi trên web chưa được bật. Xin nhờ quản trị đặt DAUMOI_WEB_URL và "
    "DAUMOI_WEB_LISTEN (xem hướng dẫn trong README)."
)


def login_url(ctx: Context, platform: str, user_id: str) -> str | None:
    """A fresh login link for the account, or None when the web view has no public address."""
    base = ctx.settings.config.web_url.rstrip("/")
    if not base:
        return None
    key = signing_key(ctx.session, ctx.now())
    token = login_token(key, Identity(platform, user_id), ctx.now().timestamp())
    return f"{base}/dangnhap?t={token}"


def web(ctx: Context, msg: Incoming) -> list[Reply]:
    """Send the registered person a one-time login link for the web view."""
    who = actor(ctx, msg)
    if who.role is None:
        return [Reply(NOT_REGISTERED)]
    url = login_url(ctx, msg.platform, msg.user.id)
    if url is None:
        return [Reply(NOT_ENABLED)]
    minutes = LOGIN_SECONDS // 60
    return [
        Reply(
            "Đường dẫn mở trang theo dõi (tổng quan, danh sách nhiệm vụ, cập nhật, tải báo cáo), "
            f"dùng được một lần trong {minutes} phút; đừng chuyển cho người khác:\n{url}"
        )
    ]
