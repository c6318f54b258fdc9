"""People commands: /moi (invite), /dangky (join), /toi (who am I), /nguoidung, /thuhoi."""

from __future__ import annotations

import re
from datetime import datetime

from core.labels import PERSON_ROLE
from core.model import ChatKind, Choice, Incoming, Reply
from core.textnorm import fold, nfc
from data.search.types import Confidence, HitKind
from data.store import attempts, people
from data.store import repositories as repo
from data.store import status as st
from data.store.models import Agency, Person, Role
from data.store.status import reporting_year
from data.store.succession import current_agency
from handlers.context import Context
from handlers.permissions import ADMINS_ONLY, NOT_REGISTERED
from handlers.status_card import person_label, when

_ROLE_WORDS = {
    "daumoi": Role.FOCAL,
    "canbodaumoi": Role.FOCAL,
    "focal": Role.FOCAL,
    "quansat": Role.OBSERVER,
    "lanhdao": Role.OBSERVER,
    "observer": Role.OBSERVER,
    "quantri": Role.ADMIN,
    "admin": Role.ADMIN,
}
_ROLE_NOUNS = {
    Role.FOCAL: "cán bộ đầu mối",
    Role.OBSERVER: "người quan sát (chỉ xem)",
    Role.ADMIN: "quản trị",
}
_MAX_QUERY = 200
_MAX_CHOICES = 5
INVITE_USAGE = (
    "Anh/chị gõ tên đơn vị và vai trò sau lệnh, ví dụ:\n"
    "• /moi so y te — mời cán bộ đầu mối của Sở Y tế\n"
    "• /moi so y te quansat — mời người quan sát (chỉ xem) của Sở Y tế\n"
    "• /moi quansat — mời lãnh đạo quan sát toàn bộ chương trình\n"
    "• /moi quantri — mời thêm một quản trị"
)
_PERSON_RE = re.compile(r"#?\s*(\d{1,9})")


def _actor(ctx: Context, msg: Incoming) -> people.Actor:
    return people.actor(ctx.session, ctx.settings, msg.platform, msg.user.id)


def _private_chat(msg: Incoming) -> str | None:
    return msg.chat.id if msg.chat.kind is ChatKind.PRIVATE else None


def agency_label(agency: Agency | None) -> str:
    """Today's name of the agency, or a dash for people without one."""
    return current_agency(agency).name if agency is not None else "—"


def _split_role(args: str) -> tuple[Role, str]:
    words = args.split()
    for size in (2, 1):
        if len(words) >= size:
            key = fold("".join(words[-size:]))
            if key in _ROLE_WORDS:
                return _ROLE_WORDS[key], " ".join(words[:-size])
    return Role.FOCAL, args


def resolve_agency(ctx: Context, query: str) -> Agency | list[Agency] | None:
    """The one agency a typed name means, several candidates, or None."""
    exact = repo.agency_by_name(ctx.session, query)
    if exact is not None:
        return exact
    outcome = ctx.search.search(query, limit=8)
    if outcome.confidence is Confidence.NONE:
        return None
    found: list[Agency] = []
    for hit in outcome.hits:
        if hit.kind is not HitKind.AGENCY:
            continue
        agency = repo.agency_by_name(ctx.session, hit.key)
        if agency is not None and all(
            current_agency(a).id != current_agency(agency).id for a in found
        ):
            found.append(agency)
    if not found:
        return None
    sure = outcome.confidence in (Confidence.EXACT, Confidence.CONFIDENT)
    return found[0] if sure and len(found) == 1 else found[:_MAX_CHOICES]


# --- /moi -------------------------------------------------------------------------------------


def invite(ctx: Context, msg: Incoming) -> list[Reply]:
    """Create a one-time join code for an agency and role (admins only)."""
    who = _actor(ctx, msg)
    if not who.is_admin:
        return [Reply(ADMINS_ONLY)]
    args = nfc(msg.args)
    if len(args) > _MAX_QUERY:
        return [Reply("Tên đơn vị quá dài. " + INVITE_USAGE)]
    role, query = _split_role(args)
    agency: Agency | None = None
    if query:
        found = resolve_agency(ctx, query)
        if found is None:
            return [Reply(f"Không tìm thấy đơn vị “{query}”.\n\n{INVITE_USAGE}")]
        if isinstance(found, list):
            choices = tuple(
                Choice(current_agency(a).name, f"/moi {a.name} {_role_word(role)}") for a in found
            )
            return [Reply(f"Anh/chị muốn mời {_ROLE_NOUNS[role]} của đơn vị nào?", choices)]
        agency = found
        if agency.is_collective:
            return [
                Reply(
                    f"“{agency.name}” là nhóm đơn vị ghi chung, không phải một đơn vị cụ thể. "
                    "Anh/chị vui lòng mời từng đơn vị, ví dụ: /moi so y te"
                )
            ]
    elif role is Role.FOCAL:
        return [Reply(INVITE_USAGE)]
    creator = people.ensure_person(
        ctx.session,
        who,
        display_name=msg.user.display_name,
        now=ctx.now(),
        private_chat_id=_private_chat(msg),
    )
    today = current_agency(agency) if agency is not None else None
    _invitation, code = people.create_invitation(
        ctx.session, role=role, agency=today, created_by=creator, now=ctx.now()
    )
    shown = people.format_code(code)
    target = _ROLE_NOUNS[role]
    if today is not None and agency is not None:
        target += f" của {today.name}"
        if today.id != agency.id:
            target += f" (nay đảm nhận các nhiệm vụ của {agency.name})"
    expires = when(ctx.now() + people.INVITATION_TTL, ctx.settings.timezone)
    text = (
        f"Đã tạo mã mời {target}:\n\n{shown}\n\nMã chỉ dùng được một lần và hết hạn lúc {expires}. "
    )
    link = ctx.start_links.link(msg.platform, code)
    if link is None:
        text += "Anh/chị gửi mã cho người được mời; người đó mở chat riêng với bot và gõ:\n"
    else:
        text += (
            "Anh/chị gửi đường dẫn này cho người được mời; người đó mở đường dẫn và bấm "
            f"Bắt đầu (Start) để đăng ký:\n{link}\n\n"
            "Hoặc người đó mở chat riêng với bot (trên Zalo cũng được) và gõ:\n"
        )
    return [Reply(text + f"/dangky {shown}")]


def _role_word(role: Role) -> str:
    return {Role.FOCAL: "daumoi", Role.OBSERVER: "quansat", Role.ADMIN: "quantri"}[role]


# --- /dangky ----------------------------------------------------------------------------------

_REGISTER = "register"
_TOO_MANY = "Anh/chị đã nhập sai mã mời quá nhiều lần."
_REFUSALS = {
    people.Redeemed.UNKNOWN: (
        "Mã mời không đúng. Anh/chị kiểm tra lại mã (10 chữ và số, không phân biệt hoa "
        "thường), hoặc nhờ quản trị tạo mã mới."
    ),
    people.Redeemed.USED: (
        "Mã mời này đã được dùng. Mỗi mã chỉ dùng một lần; anh/chị nhờ quản trị tạo mã mới."
    ),
    people.Redeemed.EXPIRED: (
        "Mã mời này đã hết hạn (sau 7 ngày). Anh/chị nhờ quản trị tạo mã mới."
    ),
    people.Redeemed.CANCELLED: (
        "Mã này không còn hiệu lực (đã bị hủy khi quản trị thu hồi quyền). Anh/chị cần mã mới, "
        "xin liên hệ quản trị."
    ),
}


def _try_again(ctx: Context, until: datetime, now: datetime) -> str:
    """ "Anh/chị vui lòng thử lại sau 14:35." in local time (with the day if not today)."""
    local_until = st.local(until, ctx.settings.timezone)
    shown = f"{local_until:%H:%M}"
    if local_until.date() != st.local(now, ctx.settings.timezone).date():
        shown += f" ngày {local_until:%d/%m/%Y}"
    return f"Anh/chị vui lòng thử lại sau {shown}."


def _failed(ctx: Context, who: tuple[attempts.Subject, ...], text: str) -> list[Reply]:
    """Count a failed attempt; say so, and when the next one is allowed if this one locked."""
    now = ctx.now()
    attempts.record_failure(ctx.session, _REGISTER, who, now)
    locked = attempts.locked_until(ctx.session, _REGISTER, who, now)
    if locked is not None:
        text += f"\n\n{_TOO_MANY} {_try_again(ctx, locked, now)}"
    return [Reply(text)]


def register(ctx: Context, msg: Incoming) -> list[Reply]:
    """Join with an invitation code, in a private chat; failed guesses are throttled."""
    code = msg.args.strip()
    if msg.chat.kind is not ChatKind.PRIVATE:
        return [Reply("Anh/chị vui lòng gõ /dangky <mã> trong chat riêng với bot để giữ kín mã.")]
    if not code:
        return [Reply("Anh/chị gõ mã mời sau lệnh, ví dụ: /dangky ABCDE-23456")]
    who = attempts.subjects(msg.platform, msg.user.id, msg.chat.id)
    now = ctx.now()
    locked = attempts.locked_until(ctx.session, _REGISTER, who, now)
    if locked is not None:
        # Checked before the code: a right code during the lock must wait too.
        return [Reply(f"{_TOO_MANY} {_try_again(ctx, locked, now)}")]
    if len(code) > 40:
        return _failed(
            ctx, who, "Mã mời không đúng. Mã gồm 10 chữ và số, ví dụ: /dangky ABCDE-23456"
        )
    done = people.redeem(
        ctx.session,
        code,
        platform=msg.platform,
        user_id=msg.user.id,
        display_name=msg.user.display_name,
        private_chat_id=msg.chat.id,
        now=now,
    )
    outcome = done.outcome
    if outcome in _REFUSALS:
        return _failed(ctx, who, _REFUSALS[outcome])
    person = done.person
    assert person is not None
    if outcome is people.Redeemed.ALREADY_REGISTERED:
        return [
            Reply(
                f"Anh/chị đã đăng ký là {_describe(person)}. Mã mời chưa được dùng. Nếu cần đổi "
                "vai trò hay đơn vị, anh/chị nhờ quản trị thu hồi tài khoản hiện tại trước."
            )
        ]
    return [Reply(_welcome(ctx, person))]


def link_code(ctx: Context, msg: Incoming) -> list[Reply]:
    """Give a registered person a one-time code that joins another platform's account to them."""
    if msg.chat.kind is not ChatKind.PRIVATE:
        return [Reply("Anh/chị vui lòng gõ /maketnoi trong chat riêng với bot để giữ kín mã.")]
    person = people.person_for(ctx.session, msg.platform, msg.user.id)
    if person is None or not person.active:
        return [
            Reply(
                "Anh/chị chưa đăng ký với bot. Anh/chị nhờ quản trị gửi mã mời, rồi gõ "
                "/dangky <mã> trong chat riêng với bot."
            )
        ]
    _, code = people.create_invitation(
        ctx.session,
        role=Role(person.role),
        agency=person.agency,
        created_by=person,
        now=ctx.now(),
        person=person,
    )
    shown = people.format_code(code)
    text = (
        f"Mã kết nối tài khoản của anh/chị: {shown}\n"
        f"Trên nền tảng còn lại (Telegram hoặc Zalo), anh/chị gõ /dangky {shown} trong chat "
        "riêng với bot để dùng chung một tài khoản. Mã dùng một lần, hết hạn sau 7 ngày."
    )
    for platform, link in ctx.start_links.elsewhere(msg.platform, code):
        text += f"\nTrên {platform.title()}, anh/chị cũng có thể mở đường dẫn: {link}"
    return [Reply(text)]


def _describe(person: Person) -> str:
    role = Role(person.role)
    text = PERSON_ROLE[role].lower()
    if person.agency is not None:
        text += f" của {agency_label(person.agency)}"
    return text


def _welcome(ctx: Context, person: Person) -> str:
    name = person_label(person)
    lines = [f"Chào mừng {name}! Anh/chị đã đăng ký là {_describe(person)}.", ""]
    year = reporting_year(ctx.now(), ctx.settings.timezone)
    role = Role(person.role)
    if role is Role.FOCAL:
        lines += [
            f"• /cuatoi — nhiệm vụ của đơn vị và phần còn thiếu trong báo cáo năm {year}",
            "• /capnhat — cập nhật tình hình thực hiện một nhiệm vụ",
            "• /lichsu <mã> — lịch sử cập nhật của một nhiệm vụ",
        ]
    elif role is Role.ADMIN:
        lines += [
            "• /moi <đơn vị> — tạo mã mời cán bộ đầu mối",
            "• /nguoidung — danh sách người dùng",
            "• /tralai <mã> <lý do> — trả lại một cập nhật để bổ sung",
        ]
    else:
        lines += [
            "• /nhiemvu <mã> — xem nhiệm vụ và tình hình thực hiện",
            "• /lichsu <mã> — lịch sử cập nhật của một nhiệm vụ",
        ]
    lines.append("• /toi — xem thông tin của anh/chị")
    return "\n".join(lines)


# --- /toi -------------------------------------------------------------------------------------


def whoami(ctx: Context, msg: Incoming) -> list[Reply]:
    """Who the bot thinks the sender is."""
    who = _actor(ctx, msg)
    account = f"{msg.platform}:{msg.user.id}"
    if who.person is None and not who.configured_admin:
        return [Reply(f"Mã tài khoản của anh/chị: {account}\n\n{NOT_REGISTERED}")]
    lines = []
    if who.person is not None:
        person = who.person
        lines += [
            f"Anh/chị: {person_label(person)} (người dùng #{person.id})",
            f"Vai trò: {PERSON_ROLE[who.role or Role(person.role)]}",
        ]
        if person.agency is not None:
            lines.append(f"Đơn vị: {agency_label(person.agency)}")
        lines.append(f"Đăng ký lúc: {when(person.created_at, ctx.settings.timezone)}")
    else:
        lines += [f"Anh/chị: {msg.user.display_name or account}", "Vai trò: Quản trị"]
    if who.configured_admin:
        lines.append("Quyền quản trị theo cấu hình DAUMOI_ADMINS.")
    lines.append(f"Tài khoản: {account}")
    return [Reply("\n".join(lines))]


# --- /nguoidung, /thuhoi ----------------------------------------------------------------------


def list_people(ctx: Context, msg: Incoming) -> list[Reply]:
    """Active people, configured admins and open invitations (admins only)."""
    if not _actor(ctx, msg).is_admin:
        return [Reply(ADMINS_ONLY)]
    found = people.people(ctx.session)
    lines = [f"Người dùng đang hoạt động ({len(found)}):"]
    for person in found:
        accounts = ", ".join(f"{i.platform}:{i.user_id}" for i in person.identities) or "—"
        line = f"#{person.id} {person_label(person)} — {PERSON_ROLE[Role(person.role)]}"
        if person.agency is not None:
            line += f", {agency_label(person.agency)}"
        lines.append(f"{line} · {accounts}")
    if ctx.settings.admins:
        lines += ["", "Quản trị theo cấu hình DAUMOI_ADMINS: " + ", ".join(ctx.settings.admins)]
    pending = people.pending_invitations(ctx.session, ctx.now())
    if pending:
        lines += ["", f"Mã mời chưa dùng ({len(pending)}):"]
        for invitation in pending:
            noun = _ROLE_NOUNS[Role(invitation.role)]
            where = f" của {agency_label(invitation.agency)}" if invitation.agency else ""
            expires = when(invitation.expires_at, ctx.settings.timezone)
            lines.append(f"• {noun}{where}, hết hạn {expires}")
    lines += ["", "Gõ /thuhoi <số> để thu hồi quyền của một người, ví dụ: /thuhoi 2"]
    return [Reply("\n".join(lines))]


def revoke(ctx: Context, msg: Incoming) -> list[Reply]:
    """Take away a person's access by number (admins only); they are told."""
    who = _actor(ctx, msg)
    if not who.is_admin:
        return [Reply(ADMINS_ONLY)]
    match = _PERSON_RE.fullmatch(msg.args.strip())
    if match is None:
        return [Reply("Anh/chị gõ số của người dùng (xem bằng /nguoidung), ví dụ: /thuhoi 2")]
    person = people.get(ctx.session, int(match.group(1)))
    if person is None:
        return [Reply(f"Không có người dùng #{match.group(1)}. Gõ /nguoidung để xem danh sách.")]
    if not person.active:
        return [Reply(f"Quyền của {person_label(person)} (#{person.id}) đã được thu hồi trước đó.")]
    if who.person is not None and who.person.id == person.id:
        return [Reply("Anh/chị không thể tự thu hồi quyền của mình; nhờ một quản trị khác.")]
    configured = [
        f"{i.platform}:{i.user_id}"
        for i in person.identities
        if people.configured_admin(ctx.settings, i.platform, i.user_id)
    ]
    if configured:
        return [
            Reply(
                f"{person_label(person)} là quản trị theo cấu hình DAUMOI_ADMINS "
                f"({', '.join(configured)}); muốn thu hồi, anh/chị gỡ tài khoản này khỏi cấu hình."
            )
        ]
    cancelled = people.revoke(ctx.session, person, ctx.now())
    text = f"Đã thu hồi quyền của {person_label(person)} (#{person.id}, {_describe(person)})."
    if cancelled:
        text += f" Đã hủy {cancelled} mã mời/mã kết nối chưa dùng của người này."
    replies = [Reply(text)]
    chat = people.private_chat(person, msg.platform)
    if chat is not None and chat != msg.chat.id:
        replies.append(
            Reply(
                "Quyền sử dụng các chức năng cập nhật của anh/chị trên bot đã được quản trị thu "
                "hồi. Anh/chị vẫn tra cứu được nhiệm vụ như mọi người.",
                chat_id=chat,
            )
        )
    return replies
