"""SQLAlchemy models: the domain model of DESIGN section 4.

Times are stored in UTC (`UTCDateTime` guarantees it on SQLite, which has no time zones). Free
text about an assault lives only in `case`, `welfare_record`, a point's reason, the dialog state and
the inbox, and there it is encrypted (`store.crypto`); the timeline (`case_event`) and the audit
trail record ids and kinds, never answers.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any, Literal

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    event,
    false,
    inspect,
    select,
    update,
)
from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, Mapper, mapped_column, query_expression, relationship

from store.crypto import KEYED_HASH_OF, Encrypted, EncryptedJSON, keyed_hash_of, keyring_of

__all__ = [
    "AccessAudit",
    "Base",
    "Case",
    "CaseEvent",
    "CaseReferenceCounter",
    "CaseWitness",
    "ChannelIdentity",
    "DataKeyCheck",
    "DialogStateRow",
    "DirectoryEntry",
    "DirectoryRevision",
    "InboxItem",
    "RateSlot",
    "RateWindow",
    "Nudge",
    "NudgeStatus",
    "Person",
    "PersonRole",
    "PlanPoint",
    "ProcessedEvent",
    "QueuedReply",
    "ReplyStatus",
    "UTCDateTime",
    "VisitEvent",
    "VisitRequest",
    "VisitStep",
    "VictimDisclosure",
    "WelfareRecord",
]


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware datetime stored as UTC; naive values are refused rather than guessed."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: pass an aware time (the injected clock gives UTC)")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(
        naming_convention={
            "ix": "ix_%(table_name)s_%(column_0_N_name)s",
            "uq": "uq_%(table_name)s_%(column_0_N_name)s",
            "ck": "ck_%(table_name)s_%(constraint_name)s",
            "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
            "pk": "pk_%(table_name)s",
        }
    )
    type_annotation_map = {datetime: UTCDateTime(), dict[str, Any]: JSON, list[Any]: JSON}


class Person(Base):
    """A colleague, known by work email across every channel."""

    __tablename__ = "person"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    display_name: Mapped[str | None] = mapped_column(String(200))
    area: Mapped[str | None] = mapped_column(String(64))
    quiet_from: Mapped[str | None] = mapped_column(String(5))
    quiet_until: Mapped[str | None] = mapped_column(String(5))
    created_at: Mapped[datetime]
    #: Whether messages are held for them (nobody could reach them), as the query that loaded them
    #: found (`store.outbox.ANY_HELD`); None when it did not ask. Trust it only straight after that
    #: query in a fresh session: an object already in a session keeps the value it was loaded with.
    has_held: Mapped[bool | None] = query_expression()

    roles: Mapped[list[PersonRole]] = relationship(back_populates="person", cascade="all, delete-orphan")

    @property
    def name(self) -> str:
        """How to name the person to others: their display name, else their email."""
        return self.display_name or self.email


class PersonRole(Base):
    """A role a person holds, optionally for one area (e.g. senior leadership team of Coventry)."""

    __tablename__ = "person_role"
    __table_args__ = (UniqueConstraint("person_id", "role", "area"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(32))
    area: Mapped[str | None] = mapped_column(String(64))

    person: Mapped[Person] = relationship(back_populates="roles")


class ChannelIdentity(Base):
    """A person's account on one channel, with the address for proactive messages (wire JSON)."""

    __tablename__ = "channel_identity"
    __table_args__ = (UniqueConstraint("channel", "tenant", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"), index=True)
    channel: Mapped[str] = mapped_column(String(20))
    tenant: Mapped[str] = mapped_column(String(100))
    user_id: Mapped[str] = mapped_column(String(200))
    address: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    updated_at: Mapped[datetime]
    last_seen_at: Mapped[datetime | None]

    person: Mapped[Person] = relationship()


class CaseReferenceCounter(Base):
    """The last case number issued in a year (references look like OH-2026-0042)."""

    __tablename__ = "case_reference_counter"

    year: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    last: Mapped[int] = mapped_column(Integer)


class Case(Base):
    """An assault or hate crime on a colleague, and the plan that follows it."""

    __tablename__ = "case"

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(20), unique=True)
    submission_key: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(32))
    hate_crime: Mapped[bool] = mapped_column(Boolean)
    hate_strand: Mapped[str | None] = mapped_column(String(32))
    enhanced_rights: Mapped[bool] = mapped_column(Boolean)
    occurred_at: Mapped[datetime]
    reported_at: Mapped[datetime]
    location: Mapped[str] = mapped_column(Encrypted)
    # The keyed hash the patterns report groups places by (the location itself is ciphertext).
    # Nullable only because SQLite cannot add a NOT NULL column to `case` without rebuilding it;
    # every insert writes it.
    location_key: Mapped[str | None] = mapped_column(
        String(64), index=True, default=keyed_hash_of("location"), info={KEYED_HASH_OF: "location"}
    )
    area: Mapped[str] = mapped_column(String(64), index=True)
    injury_level: Mapped[str] = mapped_column(String(20))
    injury_detail: Mapped[str | None] = mapped_column(Encrypted)
    medical_care: Mapped[str | None] = mapped_column(String(32))
    hospitalised: Mapped[bool] = mapped_column(Boolean)
    suspect_arrested: Mapped[str] = mapped_column(String(10))
    crime_reference: Mapped[str | None] = mapped_column(Encrypted)
    victim_id: Mapped[int] = mapped_column(ForeignKey("person.id"), index=True)
    victim_role: Mapped[str] = mapped_column(String(20))
    reporter_id: Mapped[int] = mapped_column(ForeignKey("person.id"), index=True)
    io_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"), index=True)
    consent_contact: Mapped[bool] = mapped_column(Boolean)
    # Point 9: the victim's staff association ("none": they belong to none; None: not known).
    # Trade-union membership is special-category data: encrypted, so only ever selected, never filtered.
    association: Mapped[str | None] = mapped_column(Encrypted)
    consent_association: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    update_interval_days: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(20), default="open")
    review_until: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]

    victim: Mapped[Person] = relationship(foreign_keys=[victim_id])
    reporter: Mapped[Person] = relationship(foreign_keys=[reporter_id])
    io: Mapped[Person | None] = relationship(foreign_keys=[io_id])
    points: Mapped[list[PlanPoint]] = relationship(back_populates="case", order_by="PlanPoint.due_at")
    witnesses: Mapped[list[CaseWitness]] = relationship(cascade="all, delete-orphan")


@event.listens_for(Case, "before_update")
def _rehash_a_changed_location(_mapper: Mapper[Case], connection: Connection, case: Case) -> None:
    """A location changed through the ORM gets its keyed hash anew (inserts: the column default)."""
    if inspect(case).attrs.location.history.has_changes():
        case.location_key = keyring_of(connection).keyed_hash(case.location)


class CaseWitness(Base):
    """A colleague who was present: offered welfare, barred from investigating."""

    __tablename__ = "case_witness"

    case_id: Mapped[int] = mapped_column(ForeignKey("case.id", ondelete="CASCADE"), primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"), primary_key=True, index=True)


class PlanPoint(Base):
    """One point of a case's plan: owner, due time, and what became of it.

    `remind_at` is when the owner is next reminded (snoozing moves it); `next_nudge_at` is when the
    sweep must next look at the point: the earlier of the reminder and a pending escalation.
    """

    __tablename__ = "plan_point"
    __table_args__ = (
        UniqueConstraint("case_id", "code", "instance"),
        # The sweep's index: its cost grows with what is due, not with what exists.
        Index("ix_plan_point_status_next_nudge_at", "status", "next_nudge_at"),
        # Overdue points.
        Index("ix_plan_point_status_due_at", "status", "due_at"),
        # The daily digest's index: the first overdue points in case order, without sorting them all.
        Index("ix_plan_point_status_case_id_due_at", "status", "case_id", "due_at"),
        # The compliance report's index: it holds every column the report reads, in the order it
        # groups by, so the report reads points in order without joining them to their cases.
        Index(
            "ix_plan_point_compliance",
            "code",
            "case_area",
            "case_occurred_at",
            "status",
            "due_at",
            "done_at",
            "escalated_at",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id", ondelete="CASCADE"), index=True)
    code: Mapped[str] = mapped_column(String(64))
    instance: Mapped[int] = mapped_column(Integer, default=1)
    owner_role: Mapped[str] = mapped_column(String(20))
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"), index=True)
    due_at: Mapped[datetime]
    urgent: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(20), default="open")
    done_at: Mapped[datetime | None]
    done_by_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    na_reason: Mapped[str | None] = mapped_column(Encrypted)
    nudge_count: Mapped[int] = mapped_column(Integer, default=0)
    last_nudged_at: Mapped[datetime | None]
    remind_at: Mapped[datetime | None]
    next_nudge_at: Mapped[datetime | None]
    escalated_at: Mapped[datetime | None]
    # The case's area and time of the assault, copied with the point (and kept in step by the
    # listeners below) so the compliance report counts points without joining them to the cases.
    # Nullable only because SQLite cannot add a NOT NULL column without rebuilding the table.
    case_area: Mapped[str | None] = mapped_column(String(64))
    case_occurred_at: Mapped[datetime | None]

    case: Mapped[Case] = relationship(back_populates="points")
    owner: Mapped[Person | None] = relationship(foreign_keys=[owner_id])


@event.listens_for(PlanPoint, "before_insert")
def _copy_the_case_onto_a_point(_mapper: Mapper[PlanPoint], connection: Connection, point: PlanPoint) -> None:
    """A new point carries its case's area and time (from the case in hand, else read)."""
    if point.case_area is not None and point.case_occurred_at is not None:
        return
    case = inspect(point).attrs.case.loaded_value
    if isinstance(case, Case):
        point.case_area, point.case_occurred_at = case.area, case.occurred_at
        return
    row = connection.execute(select(Case.area, Case.occurred_at).where(Case.id == point.case_id)).one()
    point.case_area, point.case_occurred_at = row.area, row.occurred_at


@event.listens_for(Case, "after_update")
def _keep_the_points_in_step(_mapper: Mapper[Case], connection: Connection, case: Case) -> None:
    """A case whose area or time changed passes the change on to its points."""
    state = inspect(case).attrs
    if state.area.history.has_changes() or state.occurred_at.history.has_changes():
        connection.execute(
            update(PlanPoint)
            .where(PlanPoint.case_id == case.id)
            .values(case_area=case.area, case_occurred_at=case.occurred_at)
        )


class WelfareRecord(Base):
    """The welfare answers of a report, kept apart from the case and shown to fewer people."""

    __tablename__ = "welfare_record"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id", ondelete="CASCADE"), unique=True)
    how_they_are: Mapped[str] = mapped_column(Encrypted)
    support_needed: Mapped[str] = mapped_column(Encrypted)
    duties_handover: Mapped[str] = mapped_column(Encrypted)
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    recorded_at: Mapped[datetime]


class VictimDisclosure(Base):
    """A colleague told the bot they were assaulted: whom they asked it to tell, how often they want
    updates, and the case their supervisor then opened (ids and numbers only, never their account)."""

    __tablename__ = "victim_disclosure"

    id: Mapped[int] = mapped_column(primary_key=True)
    victim_id: Mapped[int] = mapped_column(ForeignKey("person.id"), index=True)
    supervisor_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    update_interval_days: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime]
    case_id: Mapped[int | None] = mapped_column(ForeignKey("case.id", ondelete="SET NULL"))

    victim: Mapped[Person] = relationship(foreign_keys=[victim_id])
    supervisor: Mapped[Person | None] = relationship(foreign_keys=[supervisor_id])


class CaseEvent(Base):
    """The case's timeline: what happened to it, by whom (ids and kinds only)."""

    __tablename__ = "case_event"
    # What a person just did (to update the reminders about it): by actor, then time.
    __table_args__ = (Index("ix_case_event_actor_id_at", "actor_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime]
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    kind: Mapped[str] = mapped_column(String(40))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class AccessAudit(Base):
    """Who viewed, changed, was sent or was refused which case, when, through which surface, and why.

    Rows are hash-chained (`store.audit`): `chain_hash` covers the row's content and the previous
    row's hash, so an edited, inserted or deleted row shows.
    """

    __tablename__ = "access_audit"
    __table_args__ = (Index("ix_access_audit_case_id_at", "case_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, unique=True)
    at: Mapped[datetime]
    person_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"), index=True)
    # Not a foreign key: the trail outlives the cases it names (a case deleted at the end of its
    # retention period keeps its rows here, and one more saying it was deleted).
    case_id: Mapped[int | None] = mapped_column(Integer)
    surface: Mapped[str] = mapped_column(String(20))
    action: Mapped[str] = mapped_column(String(30))
    purpose: Mapped[str] = mapped_column(String(30))
    detail: Mapped[str | None] = mapped_column(String(200))
    chain_hash: Mapped[str] = mapped_column(String(64))


class DataKeyCheck(Base):
    """A known value encrypted under the data key, so that a wrong key is caught at start-up."""

    __tablename__ = "data_key_check"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    token: Mapped[str] = mapped_column(Encrypted)


class DirectoryEntry(Base):
    """A support service, with its contacts as printed and what is wrong with them."""

    __tablename__ = "directory_entry"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    category: Mapped[str] = mapped_column(String(64))
    description: Mapped[str] = mapped_column(Text)
    phone: Mapped[str | None] = mapped_column(String(64))
    email: Mapped[str | None] = mapped_column(String(320))
    web: Mapped[str | None] = mapped_column(String(500))
    hours: Mapped[str | None] = mapped_column(String(200))
    for_whom: Mapped[str] = mapped_column(String(300))
    synonyms: Mapped[list[Any]] = mapped_column(JSON, default=list)
    source: Mapped[str] = mapped_column(String(300))
    flags: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    verified: Mapped[bool] = mapped_column(Boolean)
    origin: Mapped[str] = mapped_column(String(20))
    updated_at: Mapped[datetime]


class DirectoryRevision(Base):
    """A token that changes whenever the directory does, so a cached search index knows it is stale.

    A fresh random token rather than a counter: a write that is rolled back leaves the stored token
    as it was, and a token read with an uncommitted write can never match a later committed one.
    """

    __tablename__ = "directory_revision"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    token: Mapped[str] = mapped_column(String(32))


class DialogStateRow(Base):
    """Where one conversation is (the engine's `DialogState` as JSON), versioned for compare-and-swap."""

    __tablename__ = "dialog_state"

    key: Mapped[str] = mapped_column(String(300), primary_key=True)
    state: Mapped[str] = mapped_column(Encrypted)
    version: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime]
    quarantined: Mapped[str | None] = mapped_column(Encrypted)


class ProcessedEvent(Base):
    """A platform event already handled (Slack retries, Teams resends are processed once)."""

    __tablename__ = "processed_event"

    channel: Mapped[str] = mapped_column(String(20), primary_key=True)
    event_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    processed_at: Mapped[datetime] = mapped_column(index=True)


#: Where an outbox row stands. `pending` waits for delivery (or `held`: nobody to push to yet);
#: `sending` is leased to a worker; `sent` arrived; `failed` gave up; `uncertain` may have arrived
#: and is reconciled, else `unconfirmed`; `withdrawn` was never sent because every point it was
#: about closed first. Only `store.outbox` and `bot.reminders` change it.
NudgeStatus = Literal["pending", "held", "sending", "sent", "failed", "uncertain", "unconfirmed", "withdrawn"]


class Nudge(Base):
    """The outbox: one message to one person about one due slot, written in the sweep's transaction.

    `dedupe_key` is unique on (kind, point, due slot, recipient), so a slot is queued once however
    many sweeps run. Delivery claims rows (`sending`, with a lease), sends, and records the
    platform's message id; a row whose outcome is unknown becomes `uncertain` and is reconciled
    with the platform before anything is sent again.
    """

    __tablename__ = "nudge"
    __table_args__ = (
        UniqueConstraint("dedupe_key"),
        Index("ix_nudge_status_not_before", "status", "not_before"),
        Index("ix_nudge_recipient_id_status", "recipient_id", "status"),
        Index("ix_nudge_case_id_status", "case_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    dedupe_key: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20))
    point_id: Mapped[int | None] = mapped_column(ForeignKey("plan_point.id", ondelete="CASCADE"), index=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("case.id", ondelete="CASCADE"))
    recipient_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    due_slot: Mapped[datetime]
    payload: Mapped[dict[str, Any]] = mapped_column(EncryptedJSON)
    status: Mapped[NudgeStatus] = mapped_column(String(20), default="pending")
    channel: Mapped[str | None] = mapped_column(String(20))
    not_before: Mapped[datetime]
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    claimed_by: Mapped[str | None] = mapped_column(String(100))
    claimed_until: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]
    platform_message_id: Mapped[str | None] = mapped_column(String(200))
    last_error: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime]
    #: Sent before anything that is not: a point the pack marks `urgent` (its clock runs in hours).
    urgent: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    recipient: Mapped[Person] = relationship()


class InboxItem(Base):
    """Work a channel has acknowledged to its platform but not yet finished (persist, ack, process).

    Kept until the work is done, so that a crash after the acknowledgement loses nothing: a sweep
    claims items whose lease has run out and runs them again. A `dead` item ran out of attempts and
    waits for an operator, with the person's words already removed.
    """

    __tablename__ = "inbox_item"
    __table_args__ = (
        UniqueConstraint("source", "dedupe_key"),
        Index("ix_inbox_item_status_lease_until", "status", "lease_until"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[str] = mapped_column(String(20))
    dedupe_key: Mapped[str] = mapped_column(String(200))
    payload: Mapped[dict[str, Any]] = mapped_column(EncryptedJSON)
    status: Mapped[str] = mapped_column(String(10), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=1)
    received_at: Mapped[datetime]
    lease_until: Mapped[datetime]


#: Where a queued reply stands: `pending` waits (or its retry does), `sending` is leased to a worker,
#: `sent` arrived, `uncertain` may have arrived and is looked up before anything is resent,
#: `unconfirmed` could not be looked up (never resent), `failed` gave up.
ReplyStatus = Literal["pending", "sending", "sent", "uncertain", "unconfirmed", "failed"]


class QueuedReply(Base):
    """The reply outbox: a turn's replies, written in the turn's own transaction, sent once.

    `dedupe_key` names the turn, so a turn queues its replies once. `payload` holds the replies
    and the address of the conversation they answer (the one column with what was said).
    """

    __tablename__ = "reply_outbox"
    __table_args__ = (
        UniqueConstraint("dedupe_key"),
        Index("ix_reply_outbox_channel_status_not_before", "channel", "status", "not_before"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    dedupe_key: Mapped[str] = mapped_column(String(200))
    channel: Mapped[str] = mapped_column(String(20))
    payload: Mapped[dict[str, Any]] = mapped_column(EncryptedJSON)
    status: Mapped[ReplyStatus] = mapped_column(String(20), default="pending")
    not_before: Mapped[datetime]
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    claimed_by: Mapped[str | None] = mapped_column(String(100))
    claimed_until: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]
    platform_message_id: Mapped[str | None] = mapped_column(String(200))
    last_error: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime]


class VisitRequest(Base):
    """A request to visit a victim, their family or others during an investigation (seed 004).

    Holds the visitor's briefing, the force's guidance (never the investigation's details), the
    issues discussed and the Commissioner's decision, by whom and in what capacity it was made.
    """

    __tablename__ = "visit_request"

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(20), unique=True)
    submission_key: Mapped[str] = mapped_column(String(200), unique=True)
    visitor_id: Mapped[int] = mapped_column(ForeignKey("person.id"), index=True)
    visitee: Mapped[str] = mapped_column(String(20))
    investigation: Mapped[str] = mapped_column(String(10))
    nature: Mapped[str] = mapped_column(Encrypted)
    capacity: Mapped[str] = mapped_column(String(20))
    proposed_on: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(20), default="requested")
    guidance: Mapped[str | None] = mapped_column(String(20))
    guidance_text: Mapped[str | None] = mapped_column(Encrypted)
    issues: Mapped[str | None] = mapped_column(Encrypted)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    decided_as: Mapped[str | None] = mapped_column(String(40))
    plan: Mapped[str | None] = mapped_column(Encrypted)
    debrief_wanted: Mapped[bool | None] = mapped_column(Boolean)
    reason: Mapped[str | None] = mapped_column(Encrypted)
    debrief: Mapped[str | None] = mapped_column(Encrypted)
    requested_at: Mapped[datetime] = mapped_column(index=True)
    decided_at: Mapped[datetime | None]
    debriefed_at: Mapped[datetime | None]

    visitor: Mapped[Person] = relationship(foreign_keys=[visitor_id])
    decided_by: Mapped[Person | None] = relationship(foreign_keys=[decided_by_id])
    steps: Mapped[list[VisitStep]] = relationship(back_populates="request", order_by="VisitStep.id")


class VisitStep(Base):
    """A pending step of a visit request, with a plan point's clocks (`bot.cases.points`)."""

    __tablename__ = "visit_step"
    __table_args__ = (
        UniqueConstraint("request_id", "code"),
        # The sweep's index, as for plan points: its cost grows with what is due.
        Index("ix_visit_step_status_next_nudge_at", "status", "next_nudge_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("visit_request.id", ondelete="CASCADE"), index=True)
    code: Mapped[str] = mapped_column(String(32))
    owner_role: Mapped[str] = mapped_column(String(32))
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    due_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(20), default="open")
    done_at: Mapped[datetime | None]
    done_by_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    na_reason: Mapped[str | None] = mapped_column(Encrypted)
    nudge_count: Mapped[int] = mapped_column(Integer, default=0)
    last_nudged_at: Mapped[datetime | None]
    remind_at: Mapped[datetime | None]
    next_nudge_at: Mapped[datetime | None]
    escalated_at: Mapped[datetime | None]

    request: Mapped[VisitRequest] = relationship(back_populates="steps")
    owner: Mapped[Person | None] = relationship(foreign_keys=[owner_id])


class VisitEvent(Base):
    """A visit request's timeline: each step, by whom (ids and kinds only, never the answers)."""

    __tablename__ = "visit_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("visit_request.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime]
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    kind: Mapped[str] = mapped_column(String(40))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class RateWindow(Base):
    """One rate limit shared by every instance: at most `size` sends per window, as a ring of slots.

    `head` is the slot the next send takes; the slot holds the time of the send `size` sends ago,
    so a send fits when that time has left the window. Locked while a send is counted.
    """

    __tablename__ = "rate_window"

    name: Mapped[str] = mapped_column(String(250), primary_key=True)
    size: Mapped[int] = mapped_column(Integer)
    head: Mapped[int] = mapped_column(Integer, default=0)


class RateSlot(Base):
    """The time (seconds since 1970) of one of the last `size` sends counted against a window."""

    __tablename__ = "rate_slot"

    name: Mapped[str] = mapped_column(ForeignKey("rate_window.name", ondelete="CASCADE"), primary_key=True)
    slot: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    at: Mapped[float] = mapped_column(Float)
