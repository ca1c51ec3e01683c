"""People and their channel identities. A person is known by work email on every channel."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session, with_expression

from store.models import ChannelIdentity, Person, PersonRole
from store.outbox import ANY_HELD

_SEEN_PRECISION = timedelta(minutes=10)

__all__ = [
    "add_role",
    "ensure_identity",
    "ensure_person",
    "find_identity",
    "find_person",
    "identify",
    "people_with_role",
]


def find_person(*, session: Session, email: str) -> Person | None:
    """The person with this work email (compared case-insensitively), or None."""
    return session.scalar(select(Person).where(Person.email == email.strip().lower()))


def ensure_person(*, session: Session, email: str, now: datetime, display_name: str | None = None) -> Person:
    """The person with this email, created if new; a given display name replaces a missing one."""
    person = find_person(session=session, email=email)
    if person is None:
        person = Person(email=email.strip().lower(), display_name=display_name, created_at=now)
        session.add(person)
        session.flush()
    elif display_name and person.display_name != display_name:
        person.display_name = display_name
    return person


def find_identity(*, session: Session, channel: str, tenant: str, user_id: str) -> ChannelIdentity | None:
    """The stored account `user_id` on `channel` in `tenant`, with its person, or None."""
    return session.scalar(
        select(ChannelIdentity).where(
            ChannelIdentity.channel == channel,
            ChannelIdentity.tenant == tenant,
            ChannelIdentity.user_id == user_id,
        )
    )


def ensure_identity(
    *,
    session: Session,
    person: Person,
    channel: str,
    tenant: str,
    user_id: str,
    now: datetime,
    address: dict[str, Any] | None = None,
) -> ChannelIdentity:
    """Link a channel account to a person, keeping the latest address for proactive messages."""
    identity = find_identity(session=session, channel=channel, tenant=tenant, user_id=user_id)
    if identity is None:
        identity = ChannelIdentity(
            person_id=person.id,
            channel=channel,
            tenant=tenant,
            user_id=user_id,
            updated_at=now,
            last_seen_at=now,
        )
        session.add(identity)
    identity.person_id = person.id
    if address is not None and identity.address != address:
        identity.address = address
        identity.updated_at = now
    session.flush()
    return identity


# Built once: every turn runs it. It asks whether messages are held for the person too, so that
# the turn releases them only when some are (a statement fewer in almost every turn).
_LINKED = (
    select(ChannelIdentity, Person)
    .join(Person, ChannelIdentity.person_id == Person.id)
    .where(
        ChannelIdentity.channel == bindparam("channel"),
        ChannelIdentity.tenant == bindparam("tenant"),
        ChannelIdentity.user_id == bindparam("user_id"),
    )
    .options(with_expression(Person.has_held, ANY_HELD))
)


def identify(
    *,
    session: Session,
    channel: str,
    tenant: str,
    user_id: str,
    email: str,
    now: datetime,
    display_name: str | None = None,
    address: dict[str, Any] | None = None,
) -> Person:
    """The person behind a channel account (one query when already linked), linking them if new.

    An account whose email has changed on the platform is re-linked to the person with the new email.
    """
    email = email.strip().lower()
    row = session.execute(_LINKED, {"channel": channel, "tenant": tenant, "user_id": user_id}).first()
    if row is None or row[1].email != email:
        person = ensure_person(session=session, email=email, now=now, display_name=display_name)
        ensure_identity(
            session=session,
            person=person,
            channel=channel,
            tenant=tenant,
            user_id=user_id,
            now=now,
            address=address,
        )
        return person
    identity, person = row
    # Which channel a person used last decides where reminders go; once in a while is precise enough.
    if identity.last_seen_at is None or now - identity.last_seen_at > _SEEN_PRECISION:
        identity.last_seen_at = now
    if display_name and person.display_name != display_name:
        person.display_name = display_name
    if address is not None and identity.address != address:
        identity.address = address
        identity.updated_at = now
    return person


def add_role(*, session: Session, person: Person, role: str, area: str | None = None) -> None:
    """Give a person a role (optionally for one area); nothing happens if they already hold it."""
    if not any(r.role == role and r.area == area for r in person.roles):
        person.roles.append(PersonRole(role=role, area=area))
        session.flush()


def people_with_role(*, session: Session, role: str, area: str | None = None) -> list[Person]:
    """Everyone holding `role` (for `area`, or force-wide when the role has no area)."""
    query = select(Person).join(PersonRole).where(PersonRole.role == role)
    if area is not None:
        query = query.where((PersonRole.area == area) | PersonRole.area.is_(None))
    return list(session.scalars(query.order_by(Person.email)).unique())
