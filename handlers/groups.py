"""Group chats: link a group to an agency (/lienket, /huylienket) and follow chat events."""

from __future__ import annotations

from core.model import ChatEvent, ChatEventKind, ChatKind, Choice, Incoming, Reply
from data.search.types import Confidence, HitKind
from data.store import chats, people
from data.store import repositories as repo
from data.store.models import Agency, ChatRecord, Role
from data.store.succession import current_agency, display_name
from handlers.context import Context
from handlers.status_card import when

MAX_CANDIDATES = 5
# Commands that change a group's link: platforms that can tell check the sender is a group admin.
CHAT_ADMIN_COMMANDS = frozenset({"lienket", "huylienket"})
LINK_WHO = (
    "Xin lỗi, chỉ quản trị hoặc cán bộ đầu mối của đơn vị mới liên kết hay hủy liên kết nhóm "
    "chat với đơn vị. Cán bộ đầu mối xin nhờ quản trị gửi mã mời rồi gõ /dangky <mã> trong chat "
    "riêng với bot."
)
NOT_GROUP_ADMIN = (
    "Xin lỗi, chỉ quản trị viên của nhóm chat này mới liên kết hay hủy liên kết nhóm với đơn vị. "
    "Anh/chị nhờ quản trị viên nhóm gõ lệnh, hoặc xin được cấp quyền quản trị viên nhóm."
)

ONLY_IN_GROUPS = (
    "Lệnh /{name} dùng trong nhóm chat của đơn vị: anh/chị thêm bot vào nhóm, "
    "rồi gõ trong nhóm /lienket <tên đơn vị>, ví dụ: /lienket so y te."
)
UNLINK_ONLY_IN_GROUPS = (
    "Lệnh /huylienket dùng trong nhóm chat đã liên kết với đơn vị: anh/chị gõ lệnh này trong "
    "nhóm đó để nhóm thôi nhận nhắc việc của đơn vị. Chat riêng với bot không cần hủy liên kết."
)
LINK_USAGE = (
    "Anh/chị gõ tên đơn vị sau lệnh, ví dụ: /lienket so y te hoặc /lienket skhdt. "
    "Nhắc việc và báo cáo của đơn vị sẽ được gửi vào nhóm này."
)
WELCOME_GROUP = (
    "Xin chào cả nhóm! Tôi là trợ lý tra cứu Chương trình hành động thực hiện Chiến lược "
    "phát triển khu vực dịch vụ tỉnh Quảng Ngãi (Quyết định 1731/QĐ-UBND).\n\n"
    "• Gõ /lienket <tên đơn vị> để liên kết nhóm với đơn vị, ví dụ: /lienket so y te\n"
    "• Gõ /tim <từ khóa> để tra cứu, ví dụ: /tim san bay chu lai\n"
    "• Gõ /trogiup để xem tất cả các lệnh."
)


def _group_title(msg: Incoming) -> str:
    return f"“{msg.chat.title}”" if msg.chat.title else "này"


def link_group(ctx: Context, msg: Incoming) -> list[Reply]:
    """Link the group the message came from to the agency named in the arguments."""
    if msg.chat.kind is not ChatKind.GROUP:
        return [Reply(ONLY_IN_GROUPS.format(name="lienket"))]
    query = msg.args.strip()
    record = chats.find(ctx.session, msg.platform, msg.chat.id)
    if not query:
        current = record.agency if record is not None and record.active else None
        if record is not None and current is not None:
            where = _topic_note(record.thread_id, msg.chat.thread_id)
            return [
                Reply(f"Nhóm này đang liên kết với {display_name(current)}.{where}\n\n{LINK_USAGE}")
            ]
        return [Reply(LINK_USAGE)]
    who = people.actor(ctx.session, ctx.settings, msg.platform, msg.user.id)
    if not who.is_admin and who.role is not Role.FOCAL:
        return [Reply(LINK_WHO)]
    if msg.sender_is_chat_admin is False:
        return [Reply(NOT_GROUP_ADMIN)]
    candidates, sure = _agencies_for(ctx, query)
    if not candidates:
        return [
            Reply(
                f"Không tìm thấy đơn vị nào khớp với “{query}”. Anh/chị thử tên đầy đủ hoặc "
                "tên viết tắt, ví dụ: /lienket so y te, /lienket skhdt."
            )
        ]
    specific = [agency for agency in candidates if not agency.is_collective]
    if not specific:
        return [
            Reply(
                f"“{candidates[0].name}” là một nhóm đơn vị, không phải một đơn vị cụ thể. "
                "Anh/chị vui lòng gõ tên một đơn vị, ví dụ: /lienket so y te."
            )
        ]
    if not sure or len(specific) > 1:
        options = tuple(
            Choice(display_name(agency), f"/lienket {agency.name}") for agency in specific
        )
        return [Reply("Có phải anh/chị muốn liên kết nhóm với đơn vị dưới đây? Chọn một:", options)]
    agency = specific[0]
    target = current_agency(agency)
    previous = record.agency if record is not None else None
    refusal = _refusal(who, target, previous)
    if refusal is not None:
        return [Reply(refusal)]
    record = chats.upsert_seen(
        ctx.session, msg.platform, msg.chat.id, kind=ChatKind.GROUP.value, title=msg.chat.title
    )
    topic, before_topic = msg.chat.thread_id, record.thread_id
    if record.agency_id == target.id and before_topic == topic:
        return [Reply(f"Nhóm {_group_title(msg)} đã liên kết với {target.name} rồi.")]
    chats.link_agency(ctx.session, record, target.id, ctx.now(), topic)
    _audit(ctx, msg, who, record, previous, target, (before_topic, topic))
    if previous is not None and previous.id == target.id:  # the same agency, another topic
        text = f"Từ nay nhắc việc và báo cáo của {target.name} sẽ được gửi vào {_topic(topic)}."
        return [Reply(text), *_announce(ctx, msg, who, previous, target, moved=True)]
    text = f"Đã liên kết nhóm {_group_title(msg)} với {display_name(agency)}."
    if previous is not None:
        text += f" (Trước đây nhóm liên kết với {previous.name}.)"
    text += (
        f"\nNhắc việc và báo cáo của đơn vị sẽ được gửi vào {_topic(topic)}. "
        "Gõ /huylienket nếu muốn hủy liên kết."
    )
    return [Reply(text), *_announce(ctx, msg, who, previous, target)]


def _topic(thread_id: str | None) -> str:
    """Where a link sends reminders, as said in a reply."""
    return "chủ đề này của nhóm" if thread_id is not None else "nhóm này"


def _topic_note(linked: str | None, here: str | None) -> str:
    """Which topic of a forum group gets the reminders (nothing to say for a plain group)."""
    if linked is None:
        return " Nhắc việc được gửi vào chủ đề chung (General)." if here is not None else ""
    if linked == here:
        return " Nhắc việc được gửi vào chủ đề này."
    return " Nhắc việc được gửi vào một chủ đề khác của nhóm."


def _refusal(who: people.Actor, target: Agency | None, previous: Agency | None) -> str | None:
    """Why the actor may not move the link from previous to target, or None when they may.

    Admins may; a focal point may when every agency the change touches is their own (the
    group's current agency included, so nobody takes another agency's group).
    """
    if who.is_admin:
        return None
    own = who.agency
    if who.role is not Role.FOCAL or own is None:
        return LINK_WHO
    for agency in (previous, target):
        if agency is not None and current_agency(agency).id != own.id:
            if agency is previous:
                return (
                    f"Xin lỗi, nhóm này đang liên kết với {current_agency(agency).name}; chỉ quản "
                    "trị hoặc cán bộ đầu mối của đơn vị đó mới thay đổi được liên kết."
                )
            return (
                f"Xin lỗi, chỉ quản trị hoặc cán bộ đầu mối của {current_agency(agency).name} "
                f"mới liên kết được nhóm với đơn vị này. Anh/chị là cán bộ đầu mối của {own.name}."
            )
    return None


def _audit(
    ctx: Context,
    msg: Incoming,
    who: people.Actor,
    record: ChatRecord,
    before: Agency | None,
    after: Agency | None,
    topics: tuple[str | None, str | None] = (None, None),
) -> None:
    chats.record_change(
        ctx.session,
        record,
        before=before.id if before is not None else None,
        after=after.id if after is not None else None,
        thread_before=topics[0],
        thread_after=topics[1],
        by_user_id=msg.user.id,
        by_name=_sender_name(who, msg),
        by_person_id=who.person.id if who.person is not None else None,
        by_role=Role.ADMIN.value if who.is_admin else Role.FOCAL.value,
        by_chat_admin=msg.sender_is_chat_admin,
        now=ctx.now(),
    )


def _sender_name(who: people.Actor, msg: Incoming) -> str:
    if who.person is not None and who.person.display_name.strip():
        return who.person.display_name.strip()
    return msg.user.display_name.strip() or f"{msg.platform}:{msg.user.id}"


def _announce(
    ctx: Context,
    msg: Incoming,
    who: people.Actor,
    before: Agency | None,
    after: Agency | None,
    *,
    moved: bool = False,
) -> list[Reply]:
    """Tell every admin (in their private chat on this platform) about a link change."""
    role = "quản trị" if who.is_admin else "cán bộ đầu mối"
    if not who.is_admin and who.agency is not None:
        role += f" {who.agency.name}"
    group = f"{_group_title(msg)} ({msg.platform}:{msg.chat.id})"
    if moved and after is not None:
        change = f"đã chuyển nơi nhận nhắc việc của {after.name} sang một chủ đề khác"
    elif after is None:
        change = f"đã hủy liên kết với {before.name if before is not None else '—'}"
    elif before is None:
        change = f"đã được liên kết với {after.name}"
    else:
        change = f"đã chuyển liên kết từ {before.name} sang {after.name}"
    text = (
        f"🔔 Nhóm {group} {change}, do {_sender_name(who, msg)} ({role}) thực hiện "
        f"lúc {when(ctx.now(), ctx.settings.timezone)}."
    )
    own = people.private_chat(who.person, msg.platform) if who.person is not None else None
    return [
        Reply(text, chat_id=chat)
        for chat in people.admin_private_chats(ctx.session, ctx.settings, msg.platform)
        if chat not in (msg.chat.id, own)
    ]


def _agencies_for(ctx: Context, query: str) -> tuple[list[Agency], bool]:
    """Agencies the query may name (one per current agency), and whether the match is sure."""
    named = repo.agency_by_name(ctx.session, query)
    if named is not None:
        return [named], True
    outcome = ctx.search.search(query, limit=MAX_CANDIDATES)
    if outcome.confidence is Confidence.NONE:
        return [], False
    found: list[Agency] = []
    seen: set[int] = set()
    for hit in outcome.hits:
        if hit.kind is not HitKind.AGENCY:
            continue
        agency = repo.agency_by_name(ctx.session, hit.key)
        if agency is None or current_agency(agency).id in seen:
            continue
        seen.add(current_agency(agency).id)
        found.append(agency)
    sure = outcome.confidence in (Confidence.EXACT, Confidence.CONFIDENT)
    top_is_agency = bool(outcome.hits) and outcome.hits[0].kind is HitKind.AGENCY
    if found and sure and top_is_agency:
        return found[:1], True
    return found, False


def unlink_group(ctx: Context, msg: Incoming) -> list[Reply]:
    """Remove the group's agency link (admins, or focal points of the linked agency)."""
    if msg.chat.kind is not ChatKind.GROUP:
        return [Reply(UNLINK_ONLY_IN_GROUPS)]
    record = chats.find(ctx.session, msg.platform, msg.chat.id)
    if record is None or record.agency is None:
        return [Reply("Nhóm này chưa liên kết với đơn vị nào.")]
    who = people.actor(ctx.session, ctx.settings, msg.platform, msg.user.id)
    previous = record.agency
    refusal = _refusal(who, None, previous)
    if refusal is not None:
        return [Reply(refusal)]
    if msg.sender_is_chat_admin is False:
        return [Reply(NOT_GROUP_ADMIN)]
    topic = record.thread_id
    chats.unlink_agency(ctx.session, record)
    _audit(ctx, msg, who, record, previous, None, (topic, None))
    return [
        Reply(
            f"Đã hủy liên kết nhóm {_group_title(msg)} với {previous.name}. "
            "Nhóm sẽ không nhận nhắc việc của đơn vị nữa."
        ),
        *_announce(ctx, msg, who, previous, None),
    ]


def on_chat_event(ctx: Context, event: ChatEvent) -> list[Reply]:
    """Record the bot being added or removed, or a group's new id; greet new groups."""
    chat = event.chat
    if event.kind is ChatEventKind.BOT_REMOVED:
        chats.mark_inactive(ctx.session, event.platform, chat.id)
        return []
    if event.kind is ChatEventKind.MIGRATED:
        if event.new_chat_id:
            chats.migrate(ctx.session, event.platform, chat.id, event.new_chat_id)
        return []
    chats.upsert_seen(ctx.session, event.platform, chat.id, kind=chat.kind.value, title=chat.title)
    return [Reply(WELCOME_GROUP)] if chat.kind is ChatKind.GROUP else []
