"""People and invitations: hashed single-use codes, expiry, roles, revocation, the admin CLI."""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import select

from bot import cli
from core.settings import Settings
from data.store import people
from data.store.db import Database
from data.store.models import Invitation, Person, PersonIdentity, Role
from tests.store_support import focal_private_chats

if TYPE_CHECKING:
    from tests.status_harness import Desk

pytest_plugins = ("tests.status_harness",)
SETTINGS = Settings(admins=("console:admin", "telegram:9001"))


def _invitations(desk: Desk) -> list[Invitation]:
    with desk.database.session() as session:
        rows = list(session.scalars(select(Invitation).order_by(Invitation.id)))
        session.expunge_all()
        return rows


def test_invitation_code_is_stored_hashed(desk: Desk) -> None:
    code = desk.invite("so y te")
    assert re.fullmatch(r"[A-Z2-9]{5}-[A-Z2-9]{5}", code)
    [row] = _invitations(desk)
    bare = code.replace("-", "")
    assert row.code_hash == hashlib.sha256(bare.encode()).hexdigest()
    assert bare not in repr(row.__dict__)
    assert row.role == Role.FOCAL.value
    assert row.expires_at.replace(tzinfo=None) == (desk.clock() + timedelta(days=7)).replace(
        tzinfo=None
    )


def test_code_is_single_use_and_forgiving_about_case(desk: Desk) -> None:
    code = desk.invite("so y te")
    typed = code.lower().replace("-", " ")
    assert "Chào mừng" in desk.say(f"/dangky {typed}", "lan")
    assert "đã được dùng" in desk.say(f"/dangky {code}", "minh")
    assert "đã được dùng" in desk.say(f"/dangky {code}", "lan")  # the code, not the account
    assert "không đúng" in desk.say("/dangky AAAAA-BBBBB", "minh")


def test_code_expires_after_seven_days(desk: Desk) -> None:
    first, second = desk.invite("so y te"), desk.invite("so y te")
    desk.clock.advance(days=6, hours=23)
    assert "Chào mừng" in desk.say(f"/dangky {first}", "lan")
    desk.clock.advance(hours=2)
    assert "hết hạn" in desk.say(f"/dangky {second}", "minh")


def test_registration_only_in_private_chat(desk: Desk) -> None:
    code = desk.invite("so y te")
    assert "chat riêng" in desk.say(f"/dangky {code}", "lan", group=True)
    assert "Chào mừng" in desk.say(f"/dangky {code}", "lan")  # the code was not burnt


def test_registered_user_keeps_the_code_unused(desk: Desk) -> None:
    desk.register("lan", "so y te")
    code = desk.invite("so tai chinh")
    assert "đã đăng ký là cán bộ đầu mối của Sở Y tế" in desk.say(f"/dangky {code}", "lan")
    assert "Chào mừng" in desk.say(f"/dangky {code}", "minh")


def test_invitation_for_a_2021_agency_goes_to_its_successor(desk: Desk) -> None:
    text = desk.say("/moi so giao thong van tai")
    assert "Sở Xây dựng" in text and "Sở Giao thông vận tải" in text
    code = re.search(r"/dangky (\S+)", text)
    assert code is not None
    welcome = desk.say(f"/dangky {code.group(1)}", "lan")
    assert "cán bộ đầu mối của Sở Xây dựng" in welcome
    me = desk.say("/toi", "lan")
    assert "Cán bộ đầu mối" in me and "Sở Xây dựng" in me and "console:lan" in me


def test_invite_roles_and_bad_agencies(desk: Desk) -> None:
    assert "người quan sát" in desk.say("/moi so y te quansat")
    assert "người quan sát" in desk.say("/moi quan sat")  # leaders: the whole programme
    assert "quản trị" in desk.say("/moi quantri")
    assert "nhóm đơn vị ghi chung" in desk.say("/moi cac so ban nganh")
    assert "Không tìm thấy đơn vị" in desk.say("/moi xin chao ban")
    assert "ví dụ" in desk.say("/moi")
    assert "chỉ dùng trong chat riêng" in desk.say("/moi so y te", group=True)
    roles = [row.role for row in _invitations(desk)]
    assert roles == [Role.OBSERVER.value, Role.OBSERVER.value, Role.ADMIN.value]


def test_whoami_for_strangers_and_configured_admins(desk: Desk) -> None:
    stranger = desk.say("/toi", "stranger")
    assert "chưa đăng ký" in stranger and "console:stranger" in stranger
    admin = desk.say("/toi")
    assert "Quản trị" in admin and "DAUMOI_ADMINS" in admin


def test_list_and_revoke(desk: Desk) -> None:
    desk.register("lan", "so y te")
    listing = desk.say("/nguoidung")
    match = re.search(r"#(\d+) Lan — Cán bộ đầu mối, Sở Y tế · console:lan", listing)
    assert match, listing
    number = match.group(1)
    sent = desk.send(f"/thuhoi {number}")
    assert "Đã thu hồi quyền của Lan" in sent.here
    assert "thu hồi" in sent.elsewhere["private-lan"][0]
    assert "chưa đăng ký" in desk.say("/toi", "lan")
    assert "đã được thu hồi trước đó" in desk.say(f"/thuhoi #{number}")
    assert "Không có người dùng #999" in desk.say("/thuhoi 999")
    assert "Lan" not in desk.say("/nguoidung")


def test_admins_cannot_revoke_themselves_or_configured_admins(desk: Desk) -> None:
    desk.say("/moi so y te")  # the configured admin now has a person (#1)
    admin_id = desk.add_person("boss", Role.ADMIN, None)
    assert "tự thu hồi" in desk.say(f"/thuhoi {admin_id}", "boss")
    configured = re.search(r"#(\d+) Admin — Quản trị · console:admin", desk.say("/nguoidung"))
    assert configured is not None
    assert "DAUMOI_ADMINS" in desk.say(f"/thuhoi {configured.group(1)}", "boss")


def test_revoked_person_can_join_again_and_keeps_history(desk: Desk) -> None:
    first = desk.add_person("lan", Role.FOCAL, "Sở Giao thông vận tải")
    desk.say("/capnhat 2.4 dang thuc hien 60% ghi chú", "lan")
    desk.say(f"/thuhoi {first}")
    desk.register("lan", "so y te")
    with desk.database.session() as session:
        account = session.scalars(
            select(PersonIdentity).where(PersonIdentity.user_id == "lan")
        ).one()
        assert account.person_id != first and account.person.agency.name == "Sở Y tế"
        old = session.get(Person, first)
        assert old is not None and not old.active
    [update] = desk.updates("2.4")
    assert update.author_id == first


def test_is_admin_and_focal_private_chats(desk: Desk) -> None:
    desk.add_person("lan", Role.FOCAL, "Sở Xây dựng")
    desk.add_person("minh", Role.FOCAL, "Sở Giao thông vận tải")  # stored as Sở Xây dựng
    desk.add_person("leader", Role.OBSERVER, "Sở Xây dựng")
    desk.add_person("yte", Role.FOCAL, "Sở Y tế")
    desk.add_person("boss", Role.ADMIN, None)
    with desk.database.session() as session:
        assert people.is_admin(session, SETTINGS, "console", "admin")
        assert people.is_admin(session, SETTINGS, "telegram", "9001")
        assert people.is_admin(session, SETTINGS, "console", "boss")
        assert not people.is_admin(session, SETTINGS, "console", "lan")
        assert not people.is_admin(session, SETTINGS, "telegram", "admin")
        gtvt = desk.agency("Sở Giao thông vận tải")
        gtvt = session.merge(gtvt)
        chats = focal_private_chats(session, gtvt)
    assert chats == [("console", "private-lan"), ("console", "private-minh")]


def test_admin_cli_adds_an_admin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"sqlite:///{tmp_path}/cli.sqlite3"
    monkeypatch.setenv("DAUMOI_DATABASE_URL", url)
    monkeypatch.chdir(tmp_path)
    assert cli.main(["admin", "add", "telegram:123", "--name", "Nguyễn Văn A"]) == 0
    assert cli.main(["admin", "add", "telegram:123"]) == 0  # idempotent
    assert cli.main(["admin", "add", "khong-hop-le"]) == 2
    database = Database.connect(url, migrate=False)
    try:
        with database.session() as session:
            assert people.is_admin(session, Settings(), "telegram", "123")
            [person] = people.people(session)
            assert person.display_name == "Nguyễn Văn A" and person.role == Role.ADMIN.value
    finally:
        database.engine.dispose()


def test_link_code_joins_a_second_platform_account_to_the_same_person(tmp_path: Path) -> None:
    """A registered person's /maketnoi code, redeemed on Zalo, adds an identity, not a person."""
    from bot.app import build_app
    from core.model import Chat, Incoming, User
    from core.settings import Settings
    from data.store.models import Person, PersonIdentity

    app = build_app(
        Settings(database_url=f"sqlite:///{tmp_path}/link.sqlite3", admins=("telegram:1",))
    )

    def say(platform: str, user: str, text: str) -> str:
        msg = Incoming(platform=platform, chat=Chat(id=user), user=User(id=user), text=text)
        return "\n".join(r.text for r in app.router.handle(msg))

    invite = say("telegram", "1", "/moi so y te")
    code = re.search(r"[A-Z0-9]{5}-[A-Z0-9]{5}", invite)
    assert code, invite
    assert "Sở Y tế" in say("telegram", "2", f"/dangky {code.group(0)}")
    link = re.search(r"[A-Z0-9]{5}-[A-Z0-9]{5}", say("telegram", "2", "/maketnoi"))
    assert link
    say("zalo", "z2", f"/dangky {link.group(0)}")
    with app.database.session() as session:
        ids = session.query(PersonIdentity).all()
        persons = session.query(Person).all()
        owner = {i.platform: i.person_id for i in ids if i.user_id in ("2", "z2")}
        assert owner["telegram"] == owner["zalo"]
        assert len([p for p in persons if p.role == "focal"]) == 1
    assert "Sở Y tế" in say("zalo", "z2", "/toi")
    assert "chưa đăng ký" in say("zalo", "z9", "/maketnoi")
    app.close()


LINK_BASE = "https://t.me/daumoi_bot?start="
_LINK_RE = re.compile(re.escape(LINK_BASE) + r"(\S+)")


def test_invitation_on_telegram_is_a_deep_link(desk: Desk) -> None:
    from handlers.context import START_LINKS

    with START_LINKS.connected("telegram", LINK_BASE):
        invite = desk.say("/moi so y te", "9001", platform="telegram")
        match = _LINK_RE.search(invite)
        assert match, invite
        payload = match.group(1)
        assert re.fullmatch(r"[A-Za-z0-9_-]{1,64}", payload)
        assert "/dangky " in invite  # typing the code still works (and on Zalo)
        assert "Chào mừng" in desk.say(f"/start {payload}", "lan", platform="telegram")
        assert "đã được dùng" in desk.say(f"/start {payload}", "minh", platform="telegram")
        zalo = desk.say("/moi so y te", "admin", platform="console")
        assert "https://" not in zalo and "/dangky " in zalo
    assert "https://" not in desk.say("/moi so y te", "9001", platform="telegram")


def test_start_payload_is_private_only(desk: Desk) -> None:
    code = desk.invite("so y te").replace("-", "")
    assert "chat riêng" in desk.say(f"/start {code}", "lan", group=True)
    assert "Chào mừng" in desk.say(f"/start {code}", "lan")  # not burnt in the group


def test_account_link_offers_the_other_platforms_deep_link(desk: Desk) -> None:
    from handlers.context import START_LINKS

    desk.register("lan", "so y te", platform="zalo")
    with START_LINKS.connected("telegram", LINK_BASE):
        from_zalo = desk.say("/maketnoi", "lan", platform="zalo")
        match = _LINK_RE.search(from_zalo)
        assert match and "/dangky " in from_zalo, from_zalo
        assert "Sở Y tế" in desk.say(f"/start {match.group(1)}", "lan", platform="telegram")
        assert "Sở Y tế" in desk.say("/toi", "lan", platform="telegram")
        desk.register("minh", "so y te", platform="telegram")
        from_telegram = desk.say("/maketnoi", "minh", platform="telegram")
        assert "https://" not in from_telegram and "/dangky " in from_telegram
