"""Point 10 as pack data: the leaflet by role, officer and hate-crime strand, and the guidance."""

from __future__ import annotations

import pytest

from dialogs.leaflet import guidance, handover_replies, leaflet_replies
from dialogs.schema import Pack

#: What the leaflet says before the officer and the contacts, in order (pack.yaml `leaflet`).
SECTIONS = [
    "strings.leaflet_intro",
    "strings.leaflet_process",
    "strings.leaflet_rights",
    "strings.leaflet_court",
    "strings.leaflet_hospital",
]


def test_an_officers_leaflet_before_an_io_is_assigned(pack: Pack) -> None:
    replies = leaflet_replies(pack, {"reference": "OH-2026-0042", "role": "officer", "hate_strand": None})
    assert [r.key for r in replies] == [*SECTIONS, "strings.leaflet_io_pending", "strings.leaflet_contacts"]
    assert "OH-2026-0042" in replies[0].text
    contacts = {f.label for f in replies[-1].facts}
    assert "West Midlands Police Federation" in contacts and "UNISON" not in contacts
    assert any("0121 700 1200" in f.value for f in replies[-1].facts)


def test_a_staff_victims_leaflet_names_their_officer_and_the_networks_of_the_strand(pack: Pack) -> None:
    payload = {
        "reference": "OH-2026-0042",
        "role": "staff",
        "hate_strand": "religion",
        "io_name": "Sgt Tom Reid",
        "io_email": "sgt.tom.reid@example.police.uk",
    }
    replies = leaflet_replies(pack, payload)
    assert [r.key for r in replies][-3:] == [
        "strings.leaflet_io",
        "strings.leaflet_contacts",
        "strings.leaflet_hate_crime",
    ]
    assert "Sgt Tom Reid" in replies[-3].text and "sgt.tom.reid@example.police.uk" in replies[-3].text
    assert {"UNISON", "Unite"} <= {f.label for f in replies[-2].facts}
    assert {f.label for f in replies[-1].facts} >= {"Sikh Association", "WMP Chaplaincy Service"}


def test_a_volunteer_gets_the_contacts_open_to_them(pack: Pack) -> None:
    replies = leaflet_replies(pack, {"reference": "OH-2026-0042", "role": "volunteer"})
    assert {f.label for f in replies[-1].facts} == {"WMP Chaplaincy Service", "Victim Support"}


@pytest.mark.parametrize(
    ("consented", "key"), [(False, "strings.leaflet_no_consent"), (True, "strings.leaflet_not_delivered")]
)
def test_the_reminder_says_hand_it_over(pack: Pack, consented: bool, key: str) -> None:
    [reply] = guidance(pack, {"consent_contact": consented})
    assert reply.key == key


def test_the_supervisor_is_asked_to_hand_it_over(pack: Pack) -> None:
    [reply] = handover_replies(pack, {"reference": "OH-2026-0042"})
    assert reply.key == "strings.leaflet_handover" and "OH-2026-0042" in reply.text
