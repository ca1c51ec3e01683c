"""Who is this person: one work-email policy and one way to know a channel account, for every channel.

A person is known by their work email on every channel; which addresses count as work email is the
pack's `work_email_domains` (glob patterns such as `*.police.uk`), applied by `work_email` (in
`bot.people.policy`, which loads no store, so adapters import it from there). Slack, Teams, the
console, the Home views and the command line all come here, so a person is recognised the same way
everywhere, and a channel adapter only translates its platform's idea of a user into a
`ChannelAccount`.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from bot.channels.email import EMAIL, MAILBOX_TENANT
from bot.people.policy import ChannelAccount, work_email
from dialogs.schema import Pack
from store import people as store
from store.models import Person

__all__ = ["ChannelAccount", "identify", "linked_person", "mailbox", "person_by_work_email", "work_email"]


def identify(*, session: Session, account: ChannelAccount, now: datetime) -> Person:
    """The person behind a channel account, linking the account to them (by work email) if new.

    The adapter has already applied `work_email` to the account's email; an account whose email
    changed on the platform is re-linked to the person with the new email.
    """
    return store.identify(
        session=session,
        channel=account.channel,
        tenant=account.tenant,
        user_id=account.user_id,
        email=account.email,
        now=now,
        display_name=account.display_name,
        address=account.address,
    )


def linked_person(*, session: Session, channel: str, tenant: str, user_id: str) -> Person | None:
    """The person a channel account is already linked to, or None (ask the platform who it is)."""
    identity = store.find_identity(session=session, channel=channel, tenant=tenant, user_id=user_id)
    return identity.person if identity else None


def person_by_work_email(
    *, session: Session, email: str, pack: Pack, now: datetime, display_name: str | None = None
) -> Person | None:
    """The person with this work email, created if new; None if it is not a work email."""
    address = work_email(email, pack=pack)
    if address is None:
        return None
    return store.ensure_person(session=session, email=address, now=now, display_name=display_name)


def mailbox(*, session: Session, address: str, now: datetime) -> Person:
    """The person for a mailbox the bot emails (a staff association's), reachable by email only.

    Not a colleague's chat account: its one identity is on the email channel, its address.
    """
    person = store.ensure_person(session=session, email=address, now=now)
    store.ensure_identity(
        session=session, person=person, channel=EMAIL, tenant=MAILBOX_TENANT, user_id=person.email, now=now
    )
    return person
