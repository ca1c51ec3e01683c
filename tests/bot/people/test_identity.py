"""One work-email policy and one way to know a channel account, for every channel."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from bot.channels.inbound import Inbound
from bot.channels.port import Visitor
from bot.people.identity import identify, linked_person, person_by_work_email, work_email
from dialogs.schema import Pack
from store.models import ChannelIdentity, Person

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
AMY = "pc.amy.hart@example.police.uk"


@pytest.mark.parametrize(
    ("candidates", "expected"),
    [
        ((" PC.Amy.Hart@Example.Police.UK ",), AMY),
        (("amy@gmail.com",), None),
        (("not an email",), None),
        ((None, ""), None),
        ((123, AMY), AMY),
        # Teams: the email is a personal address, the user principal name the work one.
        (("amy.hart@outlook.com", "PC.Amy.Hart@example.police.uk"), AMY),
        (("amy.hart@police.uk.evil.com",), None),
    ],
)
def test_work_email_is_the_first_candidate_in_a_work_domain(
    pack: Pack, candidates: tuple[object, ...], expected: str | None
) -> None:
    assert work_email(*candidates, pack=pack) == expected


def test_which_domains_count_is_the_packs(pack: Pack) -> None:
    other = pack.model_copy(
        update={"meta": pack.meta.model_copy(update={"work_email_domains": ["*.pnn.gov.uk"]})}
    )
    assert work_email(AMY, pack=other) is None
    assert work_email("amy@west.pnn.gov.uk", pack=other) == "amy@west.pnn.gov.uk"


def test_every_kind_of_account_reaches_the_same_person(engine: Engine) -> None:
    accounts = [
        Inbound(channel="console", tenant="", user_id=AMY, email=AMY),
        Inbound(channel="slack", tenant="T1", user_id="U1", email=AMY, display_name="Amy Hart"),
        Visitor(
            channel="msteams", tenant="t", user_id="aad-1", email=AMY, address={"serviceUrl": "https://x"}
        ),
    ]
    with Session(engine) as session, session.begin():
        people = {identify(session=session, account=account, now=NOW).id for account in accounts}
        assert len(people) == 1
        identities = session.scalars(select(ChannelIdentity).order_by(ChannelIdentity.channel)).all()
        assert [(i.channel, i.user_id) for i in identities] == [
            ("console", AMY),
            ("msteams", "aad-1"),
            ("slack", "U1"),
        ]
        assert identities[1].address == {"serviceUrl": "https://x"}
        assert session.scalar(select(Person)).display_name == "Amy Hart"  # type: ignore[union-attr]


def test_an_account_whose_email_changed_follows_the_new_person(engine: Engine) -> None:
    new = "pc.amy.stone@example.police.uk"
    with Session(engine) as session, session.begin():
        before = identify(
            session=session, account=Inbound(channel="slack", tenant="T1", user_id="U1", email=AMY), now=NOW
        )
        later = NOW + timedelta(days=1)
        after = identify(
            session=session, account=Inbound(channel="slack", tenant="T1", user_id="U1", email=new), now=later
        )
        assert before.id != after.id and after.email == new
        assert linked_person(session=session, channel="slack", tenant="T1", user_id="U1") is after


def test_linked_person_is_none_for_an_account_never_seen(engine: Engine) -> None:
    with Session(engine) as session, session.begin():
        identify(
            session=session, account=Inbound(channel="slack", tenant="T1", user_id="U1", email=AMY), now=NOW
        )
        assert linked_person(session=session, channel="slack", tenant="T2", user_id="U1") is None
        assert linked_person(session=session, channel="msteams", tenant="T1", user_id="U1") is None


def test_person_by_work_email_refuses_an_address_outside_the_force(engine: Engine, pack: Pack) -> None:
    with Session(engine) as session, session.begin():
        assert person_by_work_email(session=session, email="amy@gmail.com", pack=pack, now=NOW) is None
        amy = person_by_work_email(
            session=session, email=" PC.Amy.Hart@example.police.uk", pack=pack, now=NOW
        )
        assert amy is not None and amy.email == AMY
        again = person_by_work_email(session=session, email=AMY, pack=pack, now=NOW, display_name="Amy Hart")
        assert again is amy and amy.display_name == "Amy Hart"
        assert session.scalars(select(Person)).all() == [amy]
