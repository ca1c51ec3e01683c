"""A report's answers: validated once, into the facts and the case to store."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from bot.cases.answers import ReportAnswers

ANSWERS: dict[str, object] = {
    "victim_email": "pc.amy.hart@example.police.uk",
    "victim_role": "staff",
    "occurred_at": "2026-11-23T07:00:00+00:00",
    "location": "Broad Street",
    "area": "coventry",
    "kind": "verbal_abuse",
    "injury_level": "moderate",
    "suspect_arrested": "unknown",
    "colleagues_present": None,
    "welfare_how": "shaken",
    "welfare_support": "a call",
    "welfare_handover": "none",
    "consent_contact": "no",
    "hate_motivated": "yes",
    "hate_strand": "race",
    "hospitalised": "yes",
    "summary": "confirm",  # other answers on the way are ignored
}


def test_answers_become_the_facts_and_the_draft() -> None:
    answers = ReportAnswers.model_validate(ANSWERS)
    assert answers.occurred_at == datetime(2026, 11, 23, 7, 0, tzinfo=UTC)
    facts = answers.facts()
    assert (facts["hate_crime"], facts["enhanced_rights"], facts["injured"], facts["hospitalised"]) == (
        True,
        True,
        True,
        True,
    )
    assert facts["colleagues_present"] is False
    draft = answers.draft()
    assert (draft.hate_crime, draft.hate_strand, draft.consent_contact, draft.colleagues_present) == (
        True,
        "race",
        False,
        [],
    )
    assert draft.crime_reference is None and draft.injury_detail is None


def test_a_strand_without_a_hate_crime_is_not_stored() -> None:
    draft = ReportAnswers.model_validate({**ANSWERS, "hate_motivated": "no"}).draft()
    assert (draft.hate_crime, draft.hate_strand) == (False, None)


@pytest.mark.parametrize(
    ("field", "value"),
    [("occurred_at", "last Tuesday"), ("consent_contact", "maybe"), ("victim_email", None)],
)
def test_answers_the_flow_could_not_have_given_are_refused(field: str, value: object) -> None:
    with pytest.raises(ValidationError):
        ReportAnswers.model_validate({**ANSWERS, field: value})
