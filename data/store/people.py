"""People, their platform identities and one-time invitations (repository; never commits)."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session, selectinload

from data.store.models import Agency, Invitation, Person, PersonIdentity, Role
from data.store.succession import current_agency

if TYPE_CHECKING:
    from core.settings import Settings

INVITATION_TTL = timedelta(days=7)
# No 0/O, 1/I/L: codes are read off one phone and typed on another.
_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
_CODE_LENGTH = 10
MAX_NAME = 100


class Redeemed(StrEnum):
    """Outcome of using an invitation code."""

    OK = "ok"
    UNKNOWN = "unknown"
    USED = "used"
    EXPIRED = "expired"
    CANCELLED = "cancelled"  # voided by an admin's revocation
    ALREADY_REGISTERED = "already_registered"


@dataclass(frozen=True)
class Redemption:
    """What happened when someone typed a code, and who they are now."""

    outcome: Redeemed
    person: Person | None = None
    invitation: Invitation | None = None


@dataclass(frozen=True)
class Actor:
    """Who sent a message, as far as permissions go."""

    platform: str
    user_id: str
    person: Person | None  # None for strangers and for configured admins never seen before
    configured_admin: bool  # listed in DAUMOI_ADMINS

    @property
    def is_admin(self) -> bool:
        """Admins come from the configuration or from an active admin person."""
        return self.configured_admin or (
            self.person is not None and self.person.role == Role.ADMIN.value
        )

    @property
    def role(self) -> Role | None:
        """The effective role, or None for a stranger."""
        if self.is_admin:
            return Role.ADMIN
        return Role(self.person.role) if self.person is not None else None

    @property
    def agency(self) -> Agency | None:
        """The agency the person works for today (successor resolved)."""
        if self.person is None or self.person.agency is None:
            return None
        return current_agency(self.person.agency)


def _aware(moment: datetime) -> datetime:
    # SQLite hands back naive datetimes even for timezone-aware columns.
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def normalize_code(code: str) -> str:
    """The code as stored before hashing: upper case, without spaces or dashes."""
    return "".join(ch for ch in code.upper() if ch.isalnum())


def hash_code(code: str) -> str:
    """The SHA-256 hex digest stored in place of a code."""
    return hashlib.sha256(normalize_code(code).encode("ascii", "ignore")).hexdigest()


def format_code(code: str) -> str:
    """ "ABCDE23456" as "ABCDE-23456", easier to read aloud and type."""
    half = len(code) // 2
    return f"{code[:half]}-{code[half:]}"


def configured_admin(settings: Settings, platform: str, user_id: str) -> bool:
    """Whether platform:user_id is listed in DAUMOI_ADMINS."""
    wanted = f"{platform.strip().lower()}:{user_id.strip()}"
    for entry in settings.admins:
        name, _, ident = entry.strip().partition(":")
        if f"{name.strip().lower()}:{ident.strip()}" == wanted:
            return True
    return False


def identity(session: Session, platform: str, user_id: str) -> PersonIdentity | None:
    """The identity of a platform account, whether or not its person is still active."""
    query = (
        select(PersonIdentity)
        .options(selectinload(PersonIdentity.person).selectinload(Person.agency))
        .where(PersonIdentity.platform == platform, PersonIdentity.user_id == user_id)
    )
    return session.scalars(query).first()


def person_for(session: Session, platform: str, user_id: str) -> Person | None:
    """The active person behind a platform account."""
    found = identity(session, platform, user_id)
    if found is None or not found.person.active:
        return None
    return found.person


def actor(session: Session, settings: Settings, platform: str, user_id: str) -> Actor:
    """Who is writing: their person (if active) and whether the configuration makes them admin."""
    return Actor(
        platform=platform,
        user_id=user_id,
        person=person_for(session, platform, user_id),
        configured_admin=configured_admin(settings, platform, user_id),
    )


def is_admin(session: Session, settings: Settings, platform: str, user_id: str) -> bool:
    """Whether the account may administer: configured, or an active admin person."""
    return actor(session, settings, platform, user_id).is_admin


def ensure_person(
    session: Session,
    who: Actor,
    *,
    display_name: str,
    now: datetime,
    private_chat_id: str | None = None,
) -> Person:
    """The actor's person, creating an admin person for a configured admin seen the first time."""
    if who.person is not None:
        if private_chat_id:
            remember_private_chat(session, who.platform, who.user_id, private_chat_id)
        return who.person
    if not who.configured_admin:
        raise PermissionError("only configured admins get a person on demand")
    return add_admin(
        session,
        who.platform,
        who.user_id,
        name=display_name,
        now=now,
        private_chat_id=private_chat_id,
    )


def add_admin(
    session: Session,
    platform: str,
    user_id: str,
    *,
    name: str,
    now: datetime,
    private_chat_id: str | None = None,
) -> Person:
    """Make platform:user_id an active admin (creating or re-activating their person)."""
    found = identity(session, platform, user_id)
    name = name.strip()[:MAX_NAME]
    if found is not None and found.person.active:
        person = found.person
        person.role = Role.ADMIN.value
        if name:
            person.display_name = name
    else:
        person = Person(display_name=name, role=Role.ADMIN.value, active=True, created_at=now)
        session.add(person)
        session.flush()
        _attach(session, person, platform, user_id, private_chat_id, found)
    if private_chat_id:
        remember_private_chat(session, platform, user_id, private_chat_id)
    session.flush()
    return person


def _attach(
    session: Session,
    person: Person,
    platform: str,
    user_id: str,
    private_chat_id: str | None,
    existing: PersonIdentity | None,
) -> None:
    """Point the account at person; a revoked person keeps their history, minus the account."""
    if existing is not None:
        existing.person = person
        if private_chat_id:
            existing.private_chat_id = private_chat_id
        return
    session.add(
        PersonIdentity(
            person=person, platform=platform, user_id=user_id, private_chat_id=private_chat_id
        )
    )


def remember_private_chat(session: Session, platform: str, user_id: str, chat_id: str) -> None:
    """Store the private chat where the bot can reach this account."""
    found = identity(session, platform, user_id)
    if found is not None and found.private_chat_id != chat_id:
        found.private_chat_id = chat_id
        session.flush()


def create_invitation(
    session: Session,
    *,
    role: Role,
    agency: Agency | None,
    created_by: Person | None,
    now: datetime,
    person: Person | None = None,
) -> tuple[Invitation, str]:
    """A new invitation and its code (never stored); with person, it links another account."""
    code = "".join(secrets.choice(_ALPHABET) for _ in range(_CODE_LENGTH))
    invitation = Invitation(
        code_hash=hash_code(code),
        role=role.value,
        agency_id=agency.id if agency is not None else None,
        created_by_id=created_by.id if created_by is not None else None,
        person_id=person.id if person is not None else None,
        created_at=now,
        expires_at=now + INVITATION_TTL,
    )
    session.add(invitation)
    session.flush()
    return invitation, code


def redeem(
    session: Session,
    code: str,
    *,
    platform: str,
    user_id: str,
    display_name: str,
    private_chat_id: str | None,
    now: datetime,
) -> Redemption:
    """Use a code once: the account becomes a person with the invited role and agency."""
    wanted = normalize_code(code)
    if not wanted:
        return Redemption(Redeemed.UNKNOWN)
    invitation = session.scalars(
        select(Invitation)
        .options(selectinload(Invitation.agency))
        .where(Invitation.code_hash == hash_code(wanted))
    ).first()
    if invitation is None:
        return Redemption(Redeemed.UNKNOWN)
    if invitation.used_at is not None:
        return Redemption(Redeemed.USED, invitation=invitation)
    if _aware(invitation.expires_at) <= _aware(now):
        return Redemption(Redeemed.EXPIRED, invitation=invitation)
    existing = identity(session, platform, user_id)
    if existing is not None and existing.person.active:
        return Redemption(Redeemed.ALREADY_REGISTERED, existing.person, invitation)
    if _void(session, invitation, existing):
        return Redemption(Redeemed.CANCELLED, invitation=invitation)
    # Claim the code atomically: of two simultaneous redemptions only one updates the row.
    claimed = session.execute(
        update(Invitation)
        .where(
            Invitation.id == invitation.id,
            Invitation.used_at.is_(None),
            Invitation.cancelled_at.is_(None),
        )
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    if getattr(claimed, "rowcount", 0) != 1:
        return Redemption(Redeemed.USED, invitation=invitation)
    person = session.get(Person, invitation.person_id) if invitation.person_id else None
    if person is None:
        person = Person(
            display_name=display_name.strip()[:MAX_NAME],
            role=invitation.role,
            agency_id=invitation.agency_id,
            active=True,
            created_at=now,
        )
        session.add(person)
        session.flush()
    _attach(session, person, platform, user_id, private_chat_id, existing)
    session.execute(
        update(Invitation)
        .where(Invitation.id == invitation.id)
        .values(used_by_id=person.id)
        .execution_options(synchronize_session=False)
    )
    session.flush()
    session.refresh(invitation)
    session.refresh(person)
    return Redemption(Redeemed.OK, person, invitation)


def people(session: Session, *, active: bool = True) -> list[Person]:
    """People (only active ones unless active=False), with identities and agency loaded."""
    query = select(Person).options(
        selectinload(Person.identities),
        selectinload(Person.agency).selectinload(Agency.successor),
    )
    if active:
        query = query.where(Person.active.is_(True))
    return list(session.scalars(query.order_by(Person.id)))


def get(session: Session, person_id: int) -> Person | None:
    """One person by id."""
    return session.get(Person, person_id)


def revoke(session: Session, person: Person, now: datetime) -> int:
    """Take away a person's access (their history stays); void their open codes; return how many.

    Voided: link codes that join an account to them, and every code they minted.
    """
    person.active = False
    person.revoked_at = now
    cancelled = session.execute(
        update(Invitation)
        .where(
            or_(Invitation.person_id == person.id, Invitation.created_by_id == person.id),
            Invitation.used_at.is_(None),
            Invitation.cancelled_at.is_(None),
        )
        .values(cancelled_at=now)
        .execution_options(synchronize_session=False)
    )
    session.flush()
    return int(getattr(cancelled, "rowcount", 0) or 0)


def _void(session: Session, invitation: Invitation, existing: PersonIdentity | None) -> bool:
    """Whether a code may not be used: cancelled, or tied to a revoked person.

    A code is void when it was cancelled, when it links to a revoked person, when a revoked
    person minted it, or when the account belongs to a person revoked after the code was made
    (a code handed out before the revocation must not bring them back).
    """
    if invitation.cancelled_at is not None:
        return True
    for person_id in (invitation.person_id, invitation.created_by_id):
        if person_id is not None:
            tied = session.get(Person, person_id)
            if tied is None or not tied.active:
                return True
    if existing is not None and existing.person.revoked_at is not None:
        return _aware(invitation.created_at) < _aware(existing.person.revoked_at)
    return False


def pending_invitations(session: Session, now: datetime) -> list[Invitation]:
    """Invitations neither used, cancelled nor expired."""
    query = (
        select(Invitation)
        .options(selectinload(Invitation.agency))
        .where(
            Invitation.used_at.is_(None),
            Invitation.cancelled_at.is_(None),
            Invitation.expires_at > now,
        )
        .order_by(Invitation.id)
    )
    return list(session.scalars(query))


def private_chat(person: Person, platform: str) -> str | None:
    """The person's private chat with the bot on one platform, if known."""
    for account in person.identities:
        if account.platform == platform and account.private_chat_id:
            return account.private_chat_id
    return None


def admin_private_chats(session: Session, settings: Settings, platform: str) -> list[str]:
    """Private chats on one platform of every active admin (configured ones too, once seen)."""
    query = (
        select(PersonIdentity)
        .join(Person, Person.id == PersonIdentity.person_id)
        .where(
            PersonIdentity.platform == platform,
            PersonIdentity.private_chat_id.is_not(None),
            Person.active.is_(True),
        )
        .order_by(PersonIdentity.id)
    )
    chats: list[str] = []
    for account in session.scalars(query):
        admin = account.person.role == Role.ADMIN.value or configured_admin(
            settings, platform, account.user_id
        )
        if admin and account.private_chat_id and account.private_chat_id not in chats:
            chats.append(account.private_chat_id)
    return chats
