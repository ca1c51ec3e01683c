"""People and identities: one person per work email, across channels."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from store.people import add_role, ensure_identity, ensure_person, find_person, people_with_role

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def test_one_person_per_email_whatever_the_case(engine: Engine) -> None:
    with Session(engine) as session, session.begin():
        first = ensure_person(session=session, email="PC.Amy.Hart@example.police.uk", now=NOW)
        again = ensure_person(
            session=session, email="pc.amy.hart@example.police.uk ", now=NOW, display_name="Amy Hart"
        )
        assert first.id == again.id and again.name == "Amy Hart"
        assert find_person(session=session, email="pc.amy.hart@EXAMPLE.police.uk") is first


def test_identities_link_channels_to_the_same_person(engine: Engine) -> None:
    with Session(engine) as session, session.begin():
        amy = ensure_person(session=session, email="pc.amy.hart@example.police.uk", now=NOW)
        slack = ensure_identity(
            session=session, person=amy, channel="slack", tenant="T1", user_id="U1", now=NOW
        )
        teams = ensure_identity(
            session=session,
            person=amy,
            channel="msteams",
            tenant="t",
            user_id="aad",
            now=NOW,
            address={"serviceUrl": "https://smba.trafficmanager.net/uk/"},
        )
        assert slack.person_id == teams.person_id == amy.id
        again = ensure_identity(
            session=session,
            person=amy,
            channel="slack",
            tenant="T1",
            user_id="U1",
            now=NOW,
            address={"channel": "D1"},
        )
        assert again.id == slack.id and again.address == {"channel": "D1"}


def test_roles_by_area(engine: Engine) -> None:
    with Session(engine) as session, session.begin():
        slt = ensure_person(session=session, email="supt.lou.grant@example.police.uk", now=NOW)
        chief = ensure_person(session=session, email="acc.kim.west@example.police.uk", now=NOW)
        add_role(session=session, person=slt, role="slt", area="coventry")
        add_role(session=session, person=slt, role="slt", area="coventry")
        add_role(session=session, person=chief, role="slt")
        assert people_with_role(session=session, role="slt", area="coventry") == [chief, slt]
        assert people_with_role(session=session, role="slt", area="walsall") == [chief]
