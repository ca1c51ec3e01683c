"""People of the OPCC visits protocol, and a console where cards waiting for someone are shown."""

from __future__ import annotations

from sqlalchemy import select

from bot.channels.inbound import Inbound
from bot.conversation import RuntimePort
from bot.runtime import Runtime
from dialogs.types import Reply
from store.models import Nudge, Person, VisitEvent, VisitRequest
from store.people import add_role, ensure_person
from tests.channel import Conversation

VISITOR = "apcc.lee.moss@example.police.uk"
CHIEF_EXECUTIVE = "ce.jo.bright@example.police.uk"
COMMISSIONER = "pcc.sam.ward@example.police.uk"
LIAISON = "insp.kim.shah@example.police.uk"
OPCC = (VISITOR, CHIEF_EXECUTIVE, COMMISSIONER)


def add_people(runtime: Runtime, *, liaison: bool = True, commissioner: bool = True) -> None:
    """Give the protocol's roles: a visitor, the Chief Executive, the Commissioner, the liaison."""
    roles = [(VISITOR, "opcc_visitor"), (CHIEF_EXECUTIVE, "opcc_chief_executive")]
    roles += [(COMMISSIONER, "commissioner")] if commissioner else []
    roles += [(LIAISON, "opcc_liaison")] if liaison else []
    with runtime.sessions.begin() as session:
        for email, role in roles:
            add_role(
                session=session,
                person=ensure_person(session=session, email=email, now=runtime.clock()),
                role=role,
            )


class Console(Conversation):
    """A console conversation that can open the person's waiting cards, as `hampshire chat` does."""

    def __init__(self, runtime: Runtime, email: str) -> None:
        super().__init__(RuntimePort(runtime), email)

    def inbox(self) -> list[Reply]:
        """The cards and reminders waiting for the person; their buttons can then be pressed."""
        account = Inbound(channel="console", tenant="", user_id=self.email, email=self.email)
        self.last = self.port.held_reminders(account)  # type: ignore[attr-defined]
        return self.last


def request(runtime: Runtime, reference: str) -> VisitRequest:
    with runtime.sessions() as session:
        found = session.scalar(select(VisitRequest).where(VisitRequest.reference == reference))
        assert found is not None
        session.expunge(found)
        return found


def timeline(runtime: Runtime, reference: str) -> list[str]:
    with runtime.sessions() as session:
        query = (
            select(VisitEvent.kind)
            .join(VisitRequest, VisitEvent.request_id == VisitRequest.id)
            .where(VisitRequest.reference == reference)
            .order_by(VisitEvent.id)
        )
        return list(session.scalars(query))


def queued(runtime: Runtime) -> list[tuple[str, str]]:
    """Every outbox row as (kind, recipient email), in order."""
    with runtime.sessions() as session:
        rows = session.execute(
            select(Nudge.kind, Person.email).join(Person, Nudge.recipient_id == Person.id).order_by(Nudge.id)
        )
        return [(kind, email) for kind, email in rows]
