"""Every role × every action: who may invite, register, update, read, return, list and revoke.

Each cell checks the effect in the database (or the view answered), not just the wording.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from sqlalchemy import func, select

from data.store import people
from data.store.db import Database
from data.store.models import Invitation, Person, Role, StatusUpdate, UpdateState
from tests.databases import Template

if TYPE_CHECKING:
    from tests.bot_harness import Clock
    from tests.status_harness import Desk

pytest_plugins = ("tests.status_harness",)


@dataclass(frozen=True)
class Who:
    """A user id and where they write from."""

    user: str
    group: bool = False


ROLES = {
    "configured_admin": Who("admin"),
    "admin": Who("boss"),
    "focal_own": Who("lan"),  # Sở Xây dựng: leads 2.4 (as successor of Sở GTVT)
    "focal_own_in_group": Who("lan", group=True),
    "focal_other": Who("yte"),  # Sở Y tế: leads 3.1
    "observer": Who("leader"),
    "revoked": Who("former"),
    "stranger": Who("stranger"),
    "group_member": Who("member", group=True),
}


@dataclass
class World:
    """The seeded people and a first update on 2.4."""

    desk: Desk
    victim: int

    def count(self, model: type[object], *where: object) -> int:
        with self.desk.database.session() as session:
            query = select(func.count()).select_from(model)  # type: ignore[arg-type]
            return session.scalar(query.where(*where)) or 0  # type: ignore[arg-type]


@pytest.fixture(scope="session")
def world_template(
    seeded_template: Template, search_engine: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Template, int]]:
    """The seeded people and a first update on 2.4, built once; (template, victim's person id)."""
    from tests.bot_harness import Clock
    from tests.status_harness import Desk

    victims: list[int] = []

    def populate(database: Database) -> None:
        desk = Desk(database, search_engine, Clock())
        desk.add_person("boss", Role.ADMIN, None)
        desk.add_person("lan", Role.FOCAL, "Sở Xây dựng")
        desk.add_person("yte", Role.FOCAL, "Sở Y tế")
        desk.add_person("leader", Role.OBSERVER, "Sở Xây dựng")
        former = desk.add_person("former", Role.FOCAL, "Sở Xây dựng")
        victims.append(desk.add_person("victim", Role.FOCAL, "Sở Y tế"))
        with desk.database.unit_of_work() as session:
            person = session.get(Person, former)
            assert person is not None
            people.revoke(session, person, desk.clock())
        assert "Đã ghi nhận" in desk.say("/capnhat 2.4 dang thuc hien 50% Bắt đầu", "lan")

    template = seeded_template.derive(tmp_path_factory.mktemp("world"), populate)
    yield template, victims[0]
    template.close()


@pytest.fixture
def world(
    world_template: tuple[Template, int], search_engine: Any, clock: Clock, tmp_path: Path
) -> Iterator[World]:
    """A private copy of the world for one test."""
    from tests.status_harness import Desk

    template, victim = world_template
    with template.clone(tmp_path) as database:
        yield World(Desk(database, search_engine, clock), victim)


def _invites(w: World) -> Callable[[], int]:
    return lambda: w.count(Invitation)


def _updates(w: World) -> Callable[[], int]:
    return lambda: w.count(StatusUpdate)


def _returned(w: World) -> Callable[[], int]:
    return lambda: w.count(StatusUpdate, StatusUpdate.state == UpdateState.RETURNED.value)


def _revoked(w: World) -> Callable[[], int]:
    return lambda: w.count(Person, Person.id == w.victim, Person.active.is_(False))


def _registered(w: World) -> Callable[[], int]:
    return lambda: w.count(Invitation, Invitation.used_at.is_not(None))


@dataclass(frozen=True)
class Action:
    """A command, how to tell it worked (a counter that grows, or text in the answer)."""

    text: str
    counter: Callable[[World], Callable[[], int]] | None = None
    shows: str = ""


ACTIONS = {
    "invite": Action("/moi so y te", counter=_invites),
    "register": Action("/dangky {code}", counter=_registered),
    "update_own_task": Action("/capnhat 2.4 dang thuc hien 60% Đã làm thêm", counter=_updates),
    "update_other_task": Action("/capnhat 3.1 hoan thanh Đã xong", counter=_updates),
    "history": Action("/lichsu 2.4", shows="Lịch sử cập nhật nhiệm vụ 2.4"),
    "mine": Action("/cuatoi", shows="Nhiệm vụ của Sở"),
    "return": Action("/tralai 2.4 Thiếu số liệu", counter=_returned),
    "list_people": Action("/nguoidung", shows="Người dùng đang hoạt động"),
    "revoke": Action("/thuhoi {victim}", counter=_revoked),
    "whoami": Action("/toi", shows="console:"),
}

ALL = set(ROLES)
ADMINS = {"configured_admin", "admin"}
REGISTERED = {
    "configured_admin",
    "admin",
    "focal_own",
    "focal_own_in_group",
    "focal_other",
    "observer",
}
ALLOWED: dict[str, set[str]] = {
    "invite": ADMINS,
    # Joining is for people without an active account, in a private chat.
    "register": {"revoked", "stranger"},
    "update_own_task": ADMINS | {"focal_own", "focal_own_in_group"},
    "update_other_task": ADMINS | {"focal_other"},
    "history": REGISTERED,
    "mine": {"focal_own", "focal_own_in_group", "focal_other", "observer"},
    "return": ADMINS,
    "list_people": ADMINS,
    "revoke": ADMINS,
    "whoami": ALL,  # strangers learn their account id, to give to an admin
}


@pytest.mark.parametrize("action", list(ACTIONS))
@pytest.mark.parametrize("role", list(ROLES))
def test_matrix(world: World, role: str, action: str) -> None:
    who, spec = ROLES[role], ACTIONS[action]
    code = world.desk.invite("so tai chinh") if "{code}" in spec.text else ""
    text = spec.text.format(code=code, victim=world.victim)
    counter = spec.counter(world) if spec.counter else None
    before = counter() if counter else 0
    answer = world.desk.say(text, who.user, group=who.group)
    assert answer.strip(), "every command gets an answer"
    done = counter() > before if counter is not None else spec.shows in answer
    assert done == (role in ALLOWED[action]), answer


def test_refusals_are_polite_and_say_who_can(world: World) -> None:
    answer = world.desk.say("/capnhat 2.4 hoan thanh Xong", "stranger")
    assert answer.startswith("Xin lỗi")
    assert "Sở Xây dựng (chủ trì)" in answer and "/dangky" in answer
    assert "quan sát" in world.desk.say("/capnhat 2.4 hoan thanh Xong", "leader")
    assert "chỉ dành cho quản trị" in world.desk.say("/moi so y te", "lan")
    assert "chỉ dùng trong chat riêng" in world.desk.say("/moi so y te", "boss", group=True)
