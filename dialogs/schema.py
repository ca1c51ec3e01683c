"""The content-pack schema: everything a force can edit, as pydantic models.

A pack is a folder of YAML files (see `dialogs.loader`). The models here check the shape of each
file; the loader then checks the references between them (steps, strings, actions, directory keys).
`Pack.model_json_schema()` is exported by `hampshire pack schema` for editor completion.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag, model_validator

__all__ = [
    "ActionStep",
    "AskStep",
    "AssociationGuidance",
    "AssociationSpec",
    "Associations",
    "ChoiceSpec",
    "Citation",
    "CompletedBy",
    "CorrectStep",
    "DecisionSpec",
    "DirectoryCategory",
    "DirectoryEntrySpec",
    "DueRule",
    "DueVariant",
    "EffectStep",
    "Flow",
    "Grounded",
    "IntentSpec",
    "Leaflet",
    "LeafletGuidance",
    "MeetingSpec",
    "OwnerSpec",
    "Pack",
    "PackMeta",
    "PointSpec",
    "RetentionSettings",
    "RoleAssociation",
    "SayStep",
    "Sourced",
    "Step",
    "SummaryStep",
    "VisitStepSpec",
    "Visits",
]

Id = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=64)]
StringKey = Annotated[str, Field(pattern=r"^strings\.[a-z][a-z0-9_]*$")]
FactValue = str | bool | int
Condition = dict[str, FactValue | list[FactValue]]
#: Who holds an owner role on a case: its reporter, its investigating officer, its area's leaders.
Holder = Literal["reporter", "investigator", "area_leaders"]
Trigger = Literal[
    "report",
    "arrest",
    "interview",
    "bail",
    "released_under_investigation",
    "charge",
    "out_of_court_disposal",
    "no_further_action",
    "discontinuance",
    "court_outcome",
    "key_decision",
]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# --- flows ---------------------------------------------------------------------------------------


class ChoiceSpec(_Model):
    """A fixed option of a question: the stored value and the label's string key.

    A `hidden` choice is accepted when typed but not offered as a button (e.g. "more" when there
    is nothing more to show).
    """

    value: Id
    label: StringKey
    hidden: bool = False


class Otherwise(_Model):
    """Where free text goes when a question with choices also accepts typed text."""

    slot: Id
    expect: Id = "text"
    next: Id


class Exclusion(_Model):
    """An answer that must not share a value with the answer given to `slot` (say `say`, re-ask).

    E.g. the victim cannot be one of the colleagues present, whichever of the two is given last.
    """

    slot: Id
    say: StringKey


class _StepBase(_Model):
    id: Id
    next: Id | None = None
    on: dict[str, Id] = Field(default_factory=dict)
    end: bool = False


class SayStep(_StepBase):
    """Say something, optionally with facts drawn by a named renderer, then move on."""

    say: StringKey
    show: Id | None = None
    chart: Id | None = Field(None, description="a named chart drawn from the results (dialogs.render.CHARTS)")


class AskStep(_StepBase):
    """Ask a question, validate the answer and store it in `slot`.

    `expect` names the validator for typed answers; `choices` (fixed) and `choices_from` (a named
    provider) offer options; `on` branches on the chosen value; `label` names the answer in the
    summary.
    """

    ask: StringKey
    slot: Id
    expect: Id | None = None
    choices: list[ChoiceSpec] = Field(default_factory=list)
    choices_from: Id | None = None
    otherwise: Otherwise | None = None
    label: StringKey | None = None
    help: StringKey | None = None
    show: Id | None = None
    optional: bool = False
    skip_if_answered: bool = False
    exclude: list[Exclusion] = Field(default_factory=list)

    @model_validator(mode="after")
    def _has_a_way_to_answer(self) -> AskStep:
        if not (self.expect or self.choices or self.choices_from):
            raise ValueError("an ask step needs `expect`, `choices` or `choices_from`")
        if self.expect and (self.choices or self.choices_from) and not self.otherwise:
            raise ValueError("use `otherwise` to accept typed text beside choices")
        return self


class EffectStep(_StepBase):
    """Ask the router to run a named effect; branch on its outcome.

    `args` binds the effect's parameters to slots; without it the effect receives every answer
    given on the way to this step.
    """

    effect: Id
    args: dict[Id, Id] = Field(default_factory=dict)


class ActionStep(_StepBase):
    """Run a named pure action on the answers; branch on the outcome it returns."""

    action: Id


class SummaryStep(_StepBase):
    """Show the answers given on the way here and offer `choices` (confirm, change, cancel)."""

    summary: StringKey
    choices: list[ChoiceSpec]
    yes: Id | None = Field(None, description="the choice a typed yes picks (e.g. confirm)")
    no: Id | None = Field(None, description="the choice a typed no picks (e.g. change)")


class CorrectStep(_StepBase):
    """Offer the summary's answers to change; the picked one is asked again, then `return_to`."""

    correct: StringKey
    return_to: Id


def _step_kind(value: Any) -> str | None:
    kinds = ("say", "ask", "effect", "action", "summary", "correct")
    present = set(value) if isinstance(value, dict) else {k for k in kinds if hasattr(value, k)}
    return next((kind for kind in kinds if kind in present), None)


Step = Annotated[
    Annotated[SayStep, Tag("say")]
    | Annotated[AskStep, Tag("ask")]
    | Annotated[EffectStep, Tag("effect")]
    | Annotated[ActionStep, Tag("action")]
    | Annotated[SummaryStep, Tag("summary")]
    | Annotated[CorrectStep, Tag("correct")],
    Discriminator(
        _step_kind,
        custom_error_type="step_kind",
        custom_error_message="a step needs one of say, ask, effect, action, summary, correct",
    ),
]


class Flow(_Model):
    """A conversation: an ordered list of steps; an omitted `next` falls through to the next."""

    id: Id
    title: StringKey
    start_slot: Id | None = Field(None, description="slot that receives the text that started the flow")
    given: list[Id] = Field(
        default_factory=list, description="slots filled by whoever starts the flow (e.g. a nudge's button)"
    )
    steps: list[Step] = Field(min_length=1)


# --- pack metadata ---------------------------------------------------------------------------------


class IntentSpec(_Model):
    """Free text that starts a flow: whole phrases and single keywords, both matched fuzzily."""

    phrases: list[str] = Field(default_factory=list)
    keywords: list[str] = Field(default_factory=list)
    first_person: list[str] = Field(
        default_factory=list,
        description="the intent counts only when the text also says one of these words ('at me', 'i was')",
    )
    instead_of: list[Id] = Field(
        default_factory=list,
        description="intents this one wins a tie against when its first-person words are said "
        "('I was spat at' is the victim's own path, not the supervisor's report)",
    )


class Commands(_Model):
    """Words that work in every state."""

    help: list[str]
    cancel: list[str]
    start_over: list[str]
    menu: list[str]
    yes: list[str]
    no: list[str]
    skip: list[str]
    change: list[str] = Field(
        default_factory=list,
        description="words that ask to change an answer at a summary ('change the time')",
    )


class MeetingSpec(_Model):
    """A recurring meeting (e.g. the Tasking and Review Meeting) that a point can fall due at."""

    weekday: Literal["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
    time: Annotated[str, Field(pattern=r"^\d{2}:\d{2}$")]
    every_weeks: int = Field(1, ge=1)
    anchor: str = Field("2026-01-05", description="a date on which the cadence held (ISO)")
    min_notice_hours: int = Field(
        24,
        ge=0,
        description="the next meeting at least this long after the event, so it can go on the agenda",
    )


Clock = Annotated[str, Field(pattern=r"^([01]\d|2[0-3]):[0-5]\d$")]


class NudgeSettings(_Model):
    """How reminders behave: quiet hours, the daily digest, snoozing, what victims are told."""

    quiet_from: Clock = "22:00"
    quiet_until: Clock = "07:00"
    digest_time: Clock = "08:00"
    snooze_hours: int = Field(24, ge=1)
    flow: Id = Field("nudge_response", description="the flow a nudge's buttons start")
    review_window_months: int = Field(3, ge=1, description="Victims' Right to Review request window")
    decision_detail_to_victim: bool = Field(
        False, description="whether the victim's notice names the decision (else: their officer will call)"
    )


class RetentionSettings(_Model):
    """What the bot forgets, and when: run daily by the scheduler and by `hampshire db prune`."""

    conversation_days: int = Field(
        30, ge=1, description="an unfinished conversation untouched this long is forgotten, answers and all"
    )
    processed_event_days: int = Field(
        2, ge=1, description="how long a platform event id is remembered, to answer its retries once"
    )
    closed_case_days: int = Field(
        730, ge=1, description="a closed case is deleted this long after it closed (its deletion is audited)"
    )
    sent_reply_days: int = Field(
        7, ge=1, description="a reply the bot sent (or gave up on) leaves its outbox this long after"
    )
    sent_reminder_days: int = Field(
        30,
        ge=1,
        description="a reminder or notice sent, failed or withdrawn leaves the outbox this long after",
    )
    default_note: str | None = Field(
        None, description="why these periods: the force's own rule, or the default it kept"
    )


Period = Literal["this_week", "last_week", "this_month", "last_month", "this_year", "last_year"]


class ReportSettings(_Model):
    """Reports in chat for the SLT and the SPOC: what they cover unless told, the words for periods,
    and when the SPOC's weekly summary comes."""

    months: int = Field(12, ge=1, le=60, description="months a chat report covers when no period is named")
    periods: dict[Period, list[str]] = Field(
        default_factory=dict, description="words that name a period in a chat report request"
    )
    summary_weekday: Literal["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"] = (
        "monday"
    )
    summary_time: Clock = Field("08:00", description="when the weekly summary (of the week before) is sent")


class VictimSettings(_Model):
    """The victim's own path: who they are pointed to at once, and when a victim counts as a repeat."""

    support: list[Id] = Field(
        default_factory=list,
        description="directory entries shown at once to a colleague who says they were assaulted",
    )
    repeat_window_months: int = Field(
        12, ge=1, description="another case for the same victim this recent flags them as a repeat victim"
    )
    update_choices: dict[Id, Annotated[int, Field(ge=1, le=365)]] = Field(
        default_factory=lambda: {"weekly": 7, "fortnightly": 14},
        description="the update intervals (days) a victim may choose by name, besides `default` "
        "(the plan's own interval)",
    )


class Citation(_Model):
    """Where a point comes from: a seed document, its numbered point if it has one, its words.

    The checker confirms the quote is in the seed (and inside that numbered point) when it is given
    the seeds folder; the pack ships without it.
    """

    seed: Annotated[str, Field(pattern=r"^\d{3}$", description="the seed's number, e.g. 000")]
    point: int | None = Field(None, ge=1, description="the numbered point of the seed's plan")
    quote: str = Field(min_length=12, description="the seed's exact words (spacing aside)")


# --- points 9 and 10: the staff association and the victim's leaflet -----------------------------


class Grounded(_Model):
    """Where a rule or a sentence of the pack comes from: seed lines, or the pack's own default."""

    cite: list[Citation] = Field(default_factory=list, description="the seed lines it comes from")
    default_note: str | None = Field(None, description="where the pack chose it, the seeds being silent")

    @model_validator(mode="after")
    def _grounded(self) -> Grounded:
        if not self.cite and not self.default_note:
            raise ValueError("give `cite` (the seed lines) or `default_note` (the pack's own default)")
        return self


class Sourced(Grounded):
    """A sentence the bot says (a `strings.*` key) with its seed citation or default note."""

    text: StringKey


class RoleAssociation(Grounded):
    """Which staff associations a victim's role points to.

    One body and no `ask`: that one. `ask`: the reporter picks one of `bodies`, or none (the
    colleague belongs to none). No bodies: the role has no association and point 9 does not apply.
    """

    bodies: list[Id] = Field(default_factory=list)
    ask: bool = Field(False, description="the reporter picks one of `bodies` or none")


class AssociationSpec(_Model):
    """A staff association: its name, its directory entry, and whom the bot tells of a case.

    `people` are reached in Slack or Teams (by work email); `emails` by email over SMTP
    (`HAMPSHIRE_SMTP_URL`); with `directory_email` the directory entry's email too, unless flagged.
    """

    name: StringKey
    directory: Id = Field(description="the directory entry whose contacts the supervisor is shown")
    people: list[str] = Field(default_factory=list, description="work emails of people told in chat")
    emails: list[str] = Field(default_factory=list, description="mailboxes told by email")
    directory_email: bool = False


class AssociationGuidance(_Model):
    """What the supervisor's reminder of point 9 says to do, by why the point is still open."""

    not_chosen: Sourced = Field(description="the colleague's association is not known")
    no_consent: Sourced = Field(description="the colleague did not agree to it being told")
    no_contact: Sourced = Field(description="the pack has no contact for the bot to tell")
    not_delivered: Sourced = Field(description="the bot's notice is on its way")


class Associations(_Model):
    """Point 9: the association of each victim role, the associations, and the notice they get."""

    by_role: dict[Id, RoleAssociation]
    bodies: dict[Id, AssociationSpec]
    notice: Sourced = Field(
        description="what the association is told (never the incident itself); its first line is an "
        "email's subject"
    )
    guidance: AssociationGuidance
    sentences: list[Sourced] = Field(default_factory=list, description="point 9's other sentences")


class LeafletGuidance(_Model):
    """What the supervisor's reminder of point 10 says to do, by why the point is still open."""

    no_consent: Sourced = Field(description="the victim has not agreed to hear from the bot")
    not_delivered: Sourced = Field(description="the bot cannot reach the victim yet")


class Leaflet(_Model):
    """Point 10: the "what happens next" leaflet the bot sends the victim, part by part.

    `sections` are said in order; then their investigating officer (`io`, or `io_pending`), the
    contacts for their role (`contacts`, directory keys) and, for a hate crime, the staff networks
    of its strand (`pack.yaml` `signposts`, introduced by `hate_crime`).
    """

    sections: list[Sourced] = Field(min_length=1)
    io: Sourced
    io_pending: Sourced
    contacts_intro: Sourced
    contacts: dict[Id, list[Id]] = Field(description="victim role -> directory entries")
    hate_crime: Sourced
    guidance: LeafletGuidance
    sentences: list[Sourced] = Field(default_factory=list, description="point 10's other sentences")


class PackMeta(_Model):
    """`pack.yaml`: the force, its clock, its menu and the words that route free text."""

    id: Id
    name: str
    version: str
    timezone: str = "Europe/London"
    locale: str = Field("en_GB", description="the language dates are written in (CLDR: en_GB, cy)")
    bank_holidays: str = Field("GB-ENG", description="country and subdivision for `holidays`")
    work_email_domains: list[str] = Field(min_length=1)
    max_answer_length: int = Field(2000, ge=100, le=20000)
    directory_page_size: int = Field(3, ge=1, le=10)
    menu: list[Id]
    directory_flow: Id = Field("directory_search", description="the flow a directory query starts")
    app_commands: dict[Id, Id] = Field(
        default_factory=dict,
        description="the words of the apps' commands (Slack `/hampshire WORD`, the Teams command "
        "menu) and the flows they start; the directory flow's takes the rest as its query",
    )
    commands: Commands
    intents: dict[Id, IntentSpec]
    signposts: dict[Id, list[Id]] = Field(
        default_factory=dict, description="hate-crime strand -> directory entries to signpost"
    )
    meetings: dict[Id, MeetingSpec] = Field(default_factory=dict)
    nudges: NudgeSettings = Field(default_factory=NudgeSettings)
    retention: RetentionSettings = Field(default_factory=RetentionSettings)
    reports: ReportSettings = Field(default_factory=ReportSettings)
    victims: VictimSettings = Field(default_factory=VictimSettings)
    associations: Associations | None = Field(None, description="point 9: whom the bot tells")
    leaflet: Leaflet | None = Field(None, description="point 10: what the bot sends the victim")


# --- plan ------------------------------------------------------------------------------------------


class DueRule(_Model):
    """When a point falls due, counted from `after`; exactly one measure is given."""

    after: Literal["reported", "occurred", "decision"] = "reported"
    hours: int | None = Field(None, ge=0)
    days: int | None = Field(None, ge=0)
    working_days: int | None = Field(None, ge=0)
    next_meeting: Id | None = None

    @model_validator(mode="after")
    def _one_measure(self) -> DueRule:
        given = [m for m in (self.hours, self.days, self.working_days, self.next_meeting) if m is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of hours, days, working_days, next_meeting")
        return self


class DueVariant(_Model):
    """A different clock when the case's facts match `when` (e.g. enhanced rights)."""

    when: Condition
    due: DueRule


class CompletedBy(_Model):
    """Evidence the bot sees that completes a point by itself; exactly one is given.

    `event`: something done through the bot (`dialogs.plan.EVIDENCE_EVENTS`), e.g. the IO assigned.
    `delivered`: a notice of that kind (`dialogs.notices.NOTICE_KINDS`) delivered for the case,
    to the person `to` names when it does (e.g. the area's own leaders, not the force's SPOC).
    """

    event: Id | None = None
    delivered: Id | None = None
    to: Holder | Literal["victim", "fim"] | None = Field(
        None, description="a delivered notice counts only when it reached this person (or one of them)"
    )

    @model_validator(mode="after")
    def _one_evidence(self) -> CompletedBy:
        if (self.event is None) == (self.delivered is None):
            raise ValueError("give exactly one of event, delivered")
        return self


class PointSpec(_Model):
    """A point of the plan: who owns it, when it falls due and when it applies."""

    code: Id
    title: str = Field(max_length=120)
    description: str
    source: str
    cite: list[Citation] = Field(default_factory=list, description="the seed lines the point comes from")
    owner: Id = Field(description="a role of the plan's `owners`")
    due: DueRule
    due_when: list[DueVariant] = Field(default_factory=list)
    default_note: str | None = Field(
        None, description="where the pack's rule is its own: a default, or a narrowing or extension of a seed"
    )
    when: Condition = Field(default_factory=dict)
    starts_on: Trigger | list[Trigger] = Field(
        "report", description="what starts the point: the report, or one of several key decisions"
    )
    repeat_every_days: int | None = Field(None, ge=1)
    follow_ups: list[DueRule] = Field(default_factory=list)
    urgent: bool = False
    nudge: str
    nudge_every_hours: int = Field(24, ge=1)
    escalate_after_hours: int | None = Field(None, ge=0)
    completed_by: CompletedBy | None = Field(None, description="evidence that completes it without a person")
    updates_victim: bool = Field(False, description="an update owed to the victim (their 'next update due')")
    guide: Literal["association", "leaflet"] | None = Field(
        None,
        description="its reminder says what to do and shows the contacts (pack.yaml associations, leaflet)",
    )

    @property
    def triggers(self) -> tuple[Trigger, ...]:
        """What starts the point (`starts_on`, one or several)."""
        return tuple(self.starts_on) if isinstance(self.starts_on, list) else (self.starts_on,)


class OwnerSpec(_Model):
    """An owner role: who holds it on a case, and who is reminded while nobody does."""

    held_by: Holder
    until_assigned: Holder | None = Field(
        None, description="who is asked to assign someone while the role is empty"
    )


class DecisionSpec(_Model):
    """What a key decision changes on the case, besides the points it starts (`starts_on`)."""

    arrests_suspect: bool = Field(False, description="the case then records the suspect as arrested")
    opens_review: bool = Field(
        False, description="opens the Victims' Right to Review window (`nudges.review_window_months`)"
    )


def _default_decisions() -> dict[Trigger, DecisionSpec]:
    return {
        "arrest": DecisionSpec(arrests_suspect=True),
        "no_further_action": DecisionSpec(opens_review=True),
    }


def _default_owners() -> dict[str, OwnerSpec]:
    return {
        "supervisor": OwnerSpec(held_by="reporter"),
        "io": OwnerSpec(held_by="investigator", until_assigned="reporter"),
        "slt": OwnerSpec(held_by="area_leaders"),
    }


class Plan(_Model):
    """`plan.yaml`: the owner roles, what key decisions change, and the plan's points."""

    owners: dict[Id, OwnerSpec] = Field(default_factory=_default_owners)
    decisions: dict[Trigger, DecisionSpec] = Field(default_factory=_default_decisions)
    points: list[PointSpec] = Field(min_length=1)

    def point(self, code: str) -> PointSpec | None:
        """The point spec with this code, or None (a stored point the pack no longer has)."""
        return next((p for p in self.points if p.code == code), None)


# --- directory -------------------------------------------------------------------------------------


class DirectoryCategory(_Model):
    """A kind of support, with the words people use for it."""

    id: Id
    label: str
    synonyms: list[str] = Field(default_factory=list)


class DirectoryEntrySpec(_Model):
    """A support service as printed in the source, with what a human found wrong with it."""

    # The lengths are the stored columns' (store.models.DirectoryEntry): an import of a 100 MB
    # name is refused with the field's name, not sent to the database.
    key: Id
    name: str = Field(max_length=200)
    category: Id
    description: str = Field(max_length=2000)
    phone: str | None = Field(None, max_length=64)
    email: str | None = Field(None, max_length=320)
    web: str | None = Field(None, max_length=500)
    hours: str | None = Field(None, max_length=200)
    for_whom: str = Field(max_length=300, description="who the service is for, in plain words")
    synonyms: list[Annotated[str, Field(max_length=100)]] = Field(default_factory=list, max_length=50)
    source: str = Field(max_length=300)
    flags: dict[Literal["phone", "email", "web"], Annotated[str, Field(max_length=200)]] = Field(
        default_factory=dict, description="a field a human found wrong, with the reason"
    )


class Directory(_Model):
    """`directory.yaml`: categories and entries."""

    categories: list[DirectoryCategory]
    entries: list[DirectoryEntrySpec]


# --- OPCC visits (seed 004) ---------------------------------------------------------------------

#: The roles of the OPCC visits protocol: the Commissioner, their Chief Executive, the people who
#: may visit (assistant commissioners, board members, staff, volunteers, contractors) and the force's
#: liaison who gives the force's guidance.
VisitRole = Literal["commissioner", "opcc_chief_executive", "opcc_visitor", "opcc_liaison"]
#: Who does a step: a role's holders, or the visitor who asked.
VisitOwner = Literal["commissioner", "opcc_chief_executive", "opcc_liaison", "visitor"]


class VisitStepSpec(_Model):
    """A pending step of a visit request: who owns it, when it falls due, how it is chased.

    `counted_from`: the step's start (`opened`) or the proposed visit date (`visit_date`; the due
    rule may then be negative hours, "a day before the visit"). A step the owner leaves undone is
    escalated to `escalate_to` after `escalate_after_hours`.
    """

    title: StringKey
    owner: VisitOwner
    due: DueRule
    counted_from: Literal["opened", "visit_date"] = "opened"
    before_visit_hours: int | None = Field(
        None, ge=0, description="due this many hours before the visit date instead of `due`"
    )
    remind_before_due_hours: int | None = Field(
        None, ge=0, description="first remind the owner this long before the step falls due"
    )
    nudge_every_hours: int = Field(24, ge=1)
    escalate_after_hours: int | None = Field(None, ge=0)
    escalate_to: VisitOwner | None = None
    cite: list[Citation] = Field(default_factory=list)
    default_note: str | None = None

    @model_validator(mode="after")
    def _escalation_named(self) -> VisitStepSpec:
        if (self.escalate_after_hours is None) != (self.escalate_to is None):
            raise ValueError("give both escalate_after_hours and escalate_to, or neither")
        return self


def _default_visitor_roles() -> list[VisitRole]:
    return ["commissioner", "opcc_chief_executive", "opcc_visitor"]


class Visits(_Model):
    """`visits.yaml`: the OPCC visits protocol's steps, clocks and roles (optional in a pack)."""

    visitor_roles: list[VisitRole] = Field(
        default_factory=_default_visitor_roles,
        description="roles whose holders may ask for a visit",
    )
    flow: Id = Field(
        "visit_action", description="the flow a card's buttons start (given visit, visit_action)"
    )
    steps: dict[Id, VisitStepSpec]
    remind_visitor_after: list[Id] = Field(
        default_factory=list,
        description="timeline events after which a visitor awaiting permission is told not to visit yet",
    )
    stand_ins: dict[VisitRole, VisitRole] = Field(
        default_factory=dict,
        description="who acts for a role on a request made by someone holding it (nobody decides their own)",
    )


# --- the whole pack --------------------------------------------------------------------------------


class Pack(_Model):
    """A loaded, checked content pack."""

    meta: PackMeta
    strings: dict[Id, str]
    flows: list[Flow]
    plan: Plan
    directory: Directory
    visits: Visits | None = None
    version_hash: str = Field("", description="content hash of the files, set by the loader")

    def flow(self, flow_id: str) -> Flow | None:
        """The flow with this id, or None."""
        return next((f for f in self.flows if f.id == flow_id), None)

    def text(self, key: str) -> str:
        """The text of a `strings.*` key (the loader guarantees every referenced key exists)."""
        return self.strings[key.removeprefix("strings.")]

    @property
    def version(self) -> str:
        """The pack's version as stored with dialog state: declared version plus content hash."""
        return f"{self.meta.version}+{self.version_hash}"
