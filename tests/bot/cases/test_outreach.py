"""Points 9 and 10 done by the bot: the staff association told, the victim sent the leaflet.

Through the router, the sweep and delivery: email over a real SMTP server on loopback, chat through
the push-channel seam, the console's held messages, and the supervisor's reminders while the
points are open. The notice to an association never carries the account of the incident.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from bot.channels.email import EMAIL, parse_smtp_url
from bot.channels.email.adapter import EmailChannel
from bot.channels.outbound import Channel
from bot.channels.port import Visitor
from bot.conversation import RuntimePort
from bot.reminders.delivery import Deliverer, DeliveryReport
from bot.runtime import Runtime
from dialogs.render import fill
from dialogs.types import Reply
from store.models import Case, ChannelIdentity, Nudge
from tests.bot.cases.test_evidence import assign_io, bot_events, name, on_slack, person_id, shown
from tests.bot.helpers import IO, SUPERVISOR, VICTIM, add_leader, case, point, report, submit_report, sweep
from tests.channel import Conversation, FakePush, keys
from tests.conftest import START, FakeClock, make_runtime
from tests.dialogs.test_associations import edited_pack
from tests.dialogs.test_leaflet import SECTIONS
from tests.smtp_server import SmtpServer

FEDERATION = "westmidlandspf@polfed.org"
UNISON = "unison@west-midlands.pnn.police.uk"
REP = "fed.rep.lee@example.police.uk"
FIM = "insp.ola.fim@example.police.uk"
DUE = START + timedelta(hours=25)


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    server = SmtpServer()
    yield server
    server.close()


def deliver(runtime: Runtime, *channels: Channel) -> DeliveryReport:
    deliverer = Deliverer(
        pack=runtime.pack,
        sessions=runtime.sessions,
        clock=runtime.clock,
        channels={c.name: c for c in channels},
        worker="w1",
    )
    return asyncio.run(deliverer.run_once())


def email(smtp: SmtpServer, runtime: Runtime) -> EmailChannel:
    return EmailChannel(parse_smtp_url(smtp.url()), clock=runtime.clock)


def reminder_line(runtime: Runtime, code: str) -> Reply:
    """The supervisor's reminder line for point `code`, as it would be sent a day after the report."""
    runtime.clock.now = DUE  # type: ignore[attr-defined]
    sweep(runtime, DUE)
    slack = FakePush()
    on_slack(runtime, SUPERVISOR)
    deliver(runtime, slack)
    spec = runtime.pack.plan.point(code)
    assert spec is not None
    return next(
        r
        for user, _, replies in slack.sent
        for r in replies
        if r.key == "strings.nudge_point" and spec.title in r.text
    )


def contact_values(reply: Reply) -> str:
    return " ".join(f"{f.label} {f.value}" for f in reply.facts)


def mailbox_rows(runtime: Runtime) -> list[tuple[str, str]]:
    with runtime.sessions() as session:
        rows = session.scalars(select(Nudge).where(Nudge.kind == "association_notice")).all()
        return [(row.recipient.email, row.status) for row in rows]


# --- point 9: the staff association ---------------------------------------------------------------


def test_with_consent_the_federation_is_emailed_once_and_point_9_completes(
    runtime: Runtime, smtp: SmtpServer
) -> None:
    reference = report(runtime, tell_association="yes", consent="no")
    assert deliver(runtime, email(smtp, runtime)).sent == 1
    assert deliver(runtime, email(smtp, runtime)).sent == 0  # exactly once
    [received] = smtp.received
    assert received.rcpt_tos == [FEDERATION]
    body = received.body
    for shown_value in (reference, VICTIM, "Police officer", "Coventry", "Mon 23 Nov 2026"):
        assert shown_value in body, shown_value
    # Never the account of the incident: not where, not what (spitting), not the welfare answers.
    assert "Broad Street" not in body and "spit" not in body.lower() and "nothing" not in body
    told = point(runtime, reference, "staff_association_notified")
    assert (told.status, told.done_by_id) == ("done", None)
    [event] = [e for e in bot_events(runtime) if e["point"] == "staff_association_notified"]
    assert (event["evidence"], event["person"]) == ("association_notice", person_id(runtime, FEDERATION))
    spec = runtime.pack.plan.point("staff_association_notified")
    assert spec is not None
    line = shown(runtime, SUPERVISOR, reference, spec.title)
    assert fill(runtime.pack, "strings.evidence_association_notice", name=FEDERATION) in line
    with runtime.sessions() as session:  # the mailbox is reached by email only
        channels = session.scalars(
            select(ChannelIdentity.channel).where(ChannelIdentity.user_id == FEDERATION)
        ).all()
        assert channels == [EMAIL]


def test_an_email_the_server_defers_is_retried_and_arrives_once(
    runtime: Runtime, smtp: SmtpServer, clock: FakeClock
) -> None:
    reference = report(runtime, tell_association="yes", consent="no")
    smtp.script.append("451 4.3.0 Try again later")
    assert deliver(runtime, email(smtp, runtime)).retrying == 1
    assert point(runtime, reference, "staff_association_notified").status == "open"
    clock.advance(minutes=5)
    assert deliver(runtime, email(smtp, runtime)).sent == 1
    assert len(smtp.received) == 1
    assert point(runtime, reference, "staff_association_notified").status == "done"


def test_staff_pick_their_union_and_unison_is_emailed(runtime: Runtime, smtp: SmtpServer) -> None:
    report(runtime, role="staff", association="unison", tell_association="yes", consent="no")
    deliver(runtime, email(smtp, runtime))
    assert [r.rcpt_tos for r in smtp.received] == [[UNISON]]


def test_without_consent_nobody_is_told_and_the_reminder_says_what_to_do(runtime: Runtime) -> None:
    reference = report(runtime, tell_association="no", consent="no")
    assert mailbox_rows(runtime) == []
    line = reminder_line(runtime, "staff_association_notified")
    association = fill(runtime.pack, "strings.association_police_federation")
    assert fill(runtime.pack, "strings.association_no_consent", association=association) in line.text
    assert "0121 700 1200" in contact_values(line) and FEDERATION in contact_values(line)
    assert [c.value for c in line.choices] == ["done", "not_applicable", "snooze"]
    assert point(runtime, reference, "staff_association_notified").status == "open"


def test_a_union_with_no_contact_is_left_to_the_supervisor_with_its_phone_and_website(
    runtime: Runtime,
) -> None:
    report(runtime, role="staff", association="unite", tell_association="yes", consent="no")
    assert mailbox_rows(runtime) == []  # the leaflet prints no email for Unite
    line = reminder_line(runtime, "staff_association_notified")
    assert fill(runtime.pack, "strings.association_no_contact", association="Unite") in line.text
    assert "0121 553 6051" in contact_values(line) and "wmp-unite.com" in contact_values(line)


def test_a_colleague_in_no_union_or_a_volunteer_has_no_point_9(runtime: Runtime) -> None:
    none = report(runtime, role="staff", association="none", consent="no")
    volunteer = report(runtime, victim="pcso.kim.day@example.police.uk", role="volunteer", consent="no")
    for reference in (none, volunteer):
        assert "staff_association_notified" not in {p.code for p in case(runtime, reference).points}
    assert (case(runtime, none).association, case(runtime, volunteer).association) == ("none", "none")


def test_a_special_constable_is_asked_whether_they_belong_to_the_federation(runtime: Runtime) -> None:
    reference = report(runtime, role="special_constable", association="police_federation", consent="no")
    found = case(runtime, reference)
    assert (found.association, found.consent_association) == ("police_federation", False)
    assert point(runtime, reference, "staff_association_notified").status == "open"


@pytest.fixture
def rep_runtime(engine: Engine, clock: FakeClock, tmp_path: Path) -> Runtime:
    """A force whose Federation has a named rep the bot tells in chat, and no mailbox."""
    old = "      directory: police_federation\n      directory_email: true\n"
    folder = edited_pack(tmp_path, old, f"      directory: police_federation\n      people: [{REP}]\n")
    return make_runtime(engine, clock, pack_dir=folder)


def test_a_rep_is_told_in_chat_and_that_completes_point_9(rep_runtime: Runtime) -> None:
    runtime = rep_runtime
    reference = report(runtime, tell_association="yes", consent="no")
    on_slack(runtime, REP)
    slack = FakePush()
    assert deliver(runtime, slack).sent == 1
    [(_, _, replies)] = slack.sent
    assert keys(replies) == ["strings.association_notice"] and reference in replies[0].text
    assert point(runtime, reference, "staff_association_notified").status == "done"
    assert name(runtime, REP) in shown(
        runtime, SUPERVISOR, reference, "Police Federation (officers) or UNISON or Unite (staff) notified"
    )


def test_without_email_configured_the_notice_waits_and_the_reminder_says_so(runtime: Runtime) -> None:
    report(runtime, tell_association="yes", consent="no")
    assert deliver(runtime, FakePush()).held == 1  # no email channel: nobody to push to
    line = reminder_line(runtime, "staff_association_notified")
    association = fill(runtime.pack, "strings.association_police_federation")
    assert fill(runtime.pack, "strings.association_not_delivered", association=association) in line.text


# --- point 10: the leaflet ------------------------------------------------------------------------


def test_with_consent_the_victim_gets_the_leaflet_and_point_10_completes(runtime: Runtime) -> None:
    reference = report(runtime, consent="yes")
    on_slack(runtime, SUPERVISOR)
    on_slack(runtime, VICTIM)
    slack = FakePush()
    deliver(runtime, slack)
    [leaflet] = [replies for user, _, replies in slack.sent if replies[0].key == "strings.leaflet_intro"]
    assert keys(leaflet) == [*SECTIONS, "strings.leaflet_io_pending", "strings.leaflet_contacts"]
    assert reference in leaflet[0].text
    contacts = [f.label for f in leaflet[-1].facts]
    assert "West Midlands Police Federation" in contacts and "UNISON" not in contacts
    done = point(runtime, reference, "leaflet_given")
    assert (done.status, done.done_by_id) == ("done", None)
    [event] = [e for e in bot_events(runtime) if e["point"] == "leaflet_given"]
    assert (event["evidence"], event["person"]) == ("victim_leaflet", person_id(runtime, VICTIM))
    assert not [r for _, _, replies in slack.sent for r in replies if r.key == "strings.leaflet_handover"]


def test_consent_recorded_later_sends_the_leaflet_with_the_io_and_the_hate_crime_networks(
    runtime: Runtime,
) -> None:
    reference = report(runtime, role="staff", association="none", consent="no", kind="hate_crime")
    assign_io(runtime, reference)
    on_slack(runtime, VICTIM)
    assert deliver(runtime, FakePush()).sent == 0  # no consent: nothing for the victim
    supervisor = Conversation(RuntimePort(runtime), SUPERVISOR)
    supervisor.say(f"update case {reference}")
    supervisor.pick("consent")
    assert keys(supervisor.say("yes")) == ["strings.consent_recorded", "strings.anything_else"]
    slack = FakePush()
    assert deliver(runtime, slack).sent == 1
    [(_, _, leaflet)] = slack.sent
    assert keys(leaflet) == [
        *SECTIONS,
        "strings.leaflet_io",
        "strings.leaflet_contacts",
        "strings.leaflet_hate_crime",
    ]
    assert name(runtime, IO) in leaflet[5].text and IO in leaflet[5].text
    assert {"UNISON", "Unite"} <= {f.label for f in leaflet[6].facts}
    assert [f.label for f in leaflet[7].facts] == ["Black and Asian Police Association (BAPA)"]
    assert point(runtime, reference, "leaflet_given").status == "done"
    assert case(runtime, reference).consent_contact is True


def test_a_victim_not_on_the_bot_gets_it_on_first_contact_and_the_supervisor_is_asked_to_hand_it_over(
    runtime: Runtime, clock: FakeClock
) -> None:
    reference = report(runtime, consent="yes")
    on_slack(runtime, SUPERVISOR)
    slack = FakePush()
    first = deliver(runtime, slack)
    assert first.held == 1  # the leaflet: the victim has never used the bot
    deliver(runtime, slack)
    [(to, _, handover)] = slack.sent
    assert keys(handover) == ["strings.leaflet_handover"] and reference in handover[0].text
    deliver(runtime, slack)
    assert len(slack.sent) == 1  # asked once, however long the leaflet waits
    # The victim's first message to the bot, on Slack: the leaflet goes at the next delivery.
    Conversation(RuntimePort(runtime), VICTIM, channel="slack", tenant="T0FORCE").say("hello")
    assert deliver(runtime, slack).sent == 1
    assert keys(slack.sent[-1][2])[0] == "strings.leaflet_intro"
    assert point(runtime, reference, "leaflet_given").status == "done"


def test_in_the_console_the_victim_sees_the_leaflet_when_they_open_it(runtime: Runtime) -> None:
    reference = report(runtime, consent="yes")
    port = RuntimePort(runtime)
    shown_now = port.held_reminders(Visitor(channel="console", tenant="", user_id=VICTIM, email=VICTIM))
    assert keys(shown_now)[: len(SECTIONS)] == SECTIONS
    assert point(runtime, reference, "leaflet_given").status == "done"


def test_without_consent_the_reminder_asks_the_supervisor_to_hand_it_over(runtime: Runtime) -> None:
    report(runtime, consent="no")
    line = reminder_line(runtime, "leaflet_given")
    assert fill(runtime.pack, "strings.leaflet_no_consent") in line.text


def test_only_the_supervisor_or_io_records_consent_and_only_once(runtime: Runtime) -> None:
    reference = report(runtime, consent="yes")
    supervisor = Conversation(RuntimePort(runtime), SUPERVISOR)
    supervisor.say(f"update case {reference}")
    supervisor.pick("consent")
    assert keys(supervisor.say("yes"))[0] == "strings.consent_already"
    victim = Conversation(RuntimePort(runtime), VICTIM)
    assert keys(victim.say(f"update case {reference}"))[0] == "strings.case_denied"
    # A stranger is told there is no such case, as for a reference that names none.
    stranger = Conversation(RuntimePort(runtime), "pc.nosy.parker@example.police.uk")
    assert keys(stranger.say(f"update case {reference}"))[0] == "strings.case_not_found_by_reference"
    with runtime.sessions() as session:
        assert session.scalar(select(Case.consent_contact)) is True


# --- points 9 and 10 with the victim's own path (issue 9, both halves together) -----------------


def test_a_victim_who_told_the_bot_gets_the_leaflet_once_when_the_case_opens(runtime: Runtime) -> None:
    # The victim told the bot on Slack themselves, so it can reach them: nothing is held.
    victim = Conversation(RuntimePort(runtime), VICTIM, channel="slack", tenant="T0FORCE")
    victim.say("I was spat at on duty")
    victim.say("yes")
    victim.pick("default")
    assert keys(victim.say(SUPERVISOR))[0] == "strings.supervisor_told"
    reference = report(runtime, consent="yes")
    on_slack(runtime, SUPERVISOR)
    slack = FakePush()
    deliver(runtime, slack)
    deliver(runtime, slack)
    leaflets = [replies for _, _, replies in slack.sent if keys(replies)[0] == "strings.leaflet_intro"]
    assert len(leaflets) == 1
    assert "strings.leaflet_handover" not in {k for _, _, replies in slack.sent for k in keys(replies)}
    assert point(runtime, reference, "leaflet_given").status == "done"
    # Consent confirmed again later sends nothing more.
    supervisor = Conversation(RuntimePort(runtime), SUPERVISOR)
    supervisor.say(f"update case {reference}")
    supervisor.pick("consent")
    assert keys(supervisor.say("yes"))[0] == "strings.consent_already"
    assert deliver(runtime, slack).sent == 0
    with runtime.sessions() as session:
        assert len(session.scalars(select(Nudge).where(Nudge.kind == "victim_leaflet")).all()) == 1


#: What happened, as the supervisor told it: none of it may reach the FIM or the association.
ACCOUNT = ("Kestrel Road layby", "Cracked cheekbone", "Shaken and tearful", "Counselling on Thursday")


def test_the_fim_and_association_notices_never_carry_the_account(
    runtime: Runtime, smtp: SmtpServer, caplog: pytest.LogCaptureFixture
) -> None:
    add_leader(runtime, FIM, area=None, role="fim")
    location, injury, how, support = ACCOUNT
    answers = [VICTIM, "yes", "officer", "2 hours ago", location, "coventry", "spitting", "no"]
    answers += ["moderate", injury, "hospital", "yes", "no", "skip", "none", how, support, "none"]
    reference = submit_report(runtime, [*answers, "no", "yes"])  # no leaflet; the Federation told
    fim = Conversation(RuntimePort(runtime), FIM)
    assert deliver(runtime, email(smtp, runtime)).sent == 1
    [notice] = fim.notices()
    assert notice.key == "strings.fim_hospital" and reference in notice.text
    [received] = smtp.received
    assert reference in received.body
    with runtime.sessions() as session:
        payloads = [
            str(n.payload)
            for n in session.scalars(
                select(Nudge).where(Nudge.kind.in_(["fim_hospital", "association_notice"]))
            )
        ]
    assert len(payloads) == 2
    told = [notice.text, *(f.label + f.value for f in notice.facts), received.body, *payloads]
    for words in (*ACCOUNT, "spitting", "cheekbone"):
        for text in told:
            assert words.lower() not in text.lower(), words
        assert words.lower() not in caplog.text.lower(), words  # nor any log line
