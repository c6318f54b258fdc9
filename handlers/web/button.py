"""The button that opens the web view as a Telegram Mini App under /baocao and task cards."""

from __future__ import annotations

from core.model import ChatKind, Choice, Incoming
from data.store import people
from handlers.context import Context

WEB_APP_LABEL = "Mở trang theo dõi"
WEB_COMMAND = "/web"  # what the choice stands for where it cannot be a button


def web_app_choices(ctx: Context, reader: Incoming | None, path: str = "") -> tuple[Choice, ...]:
    """The Mini App choice for a registered reader in a private chat, or none.

    None either when the web view has no HTTPS address (DAUMOI_WEB_URL), the platform has no
    Mini Apps (Zalo, the console: /web answers a login link there), the chat is a group
    (Telegram refuses the button there) or the reader could not sign in. Callers put it last.
    """
    base = ctx.settings.config.web_url.strip().rstrip("/")
    if not base.startswith("https://") or not ctx.capabilities.supports_web_app:
        return ()
    if reader is None or reader.chat.kind is not ChatKind.PRIVATE:
        return ()
    if people.actor(ctx.session, ctx.settings, reader.platform, reader.user.id).role is None:
        return ()
    return (Choice(WEB_APP_LABEL, WEB_COMMAND, web_app_url=f"{base}/{path.lstrip('/')}"),)
