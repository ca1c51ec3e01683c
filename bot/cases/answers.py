"""A confirmed report's answers as one typed model, validated once when the case is opened."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, JsonValue, field_validator

from dialogs.associations import NONE
from dialogs.plan import FactValue, case_facts
from store.cases import CaseDraft

__all__ = ["ReportAnswers"]

YesNo = Literal["yes", "no"]


class ReportAnswers(BaseModel):
    """What the report flow collected (`dialogs.effects.REPORT_SLOTS` and `REPORT_OPTIONAL`).

    Other answers given on the way (the flow passes them all) are ignored.
    """

    model_config = ConfigDict(extra="ignore", frozen=True)

    victim_email: str
    victim_role: str
    occurred_at: datetime
    location: str
    area: str
    kind: str
    injury_level: str
    suspect_arrested: str
    colleagues_present: list[str] = Field(default_factory=list)
    welfare_how: str
    welfare_support: str
    welfare_handover: str
    consent_contact: YesNo
    hate_motivated: YesNo | None = None
    hate_strand: str | None = None
    injury_detail: str | None = None
    medical_care: str | None = None
    hospitalised: YesNo | None = None
    crime_reference: str | None = None
    association: str | None = None
    consent_association: YesNo | None = None

    @field_validator("colleagues_present", mode="before")
    @classmethod
    def _none_is_nobody(cls, value: object) -> object:
        return value or []

    def facts(self) -> dict[str, FactValue]:
        """The facts plan conditions test (`dialogs.plan.case_facts`)."""
        answers: dict[str, JsonValue] = self.model_dump(mode="json", exclude_none=True)
        return case_facts(answers)

    def draft(self, *, association: str | None = None) -> CaseDraft:
        """The case to store, with the victim's staff association as the pack resolved it.

        Consent to tell the association counts only when there is one to tell.
        """
        facts = self.facts()
        return CaseDraft(
            victim_email=self.victim_email,
            victim_role=self.victim_role,
            occurred_at=self.occurred_at,
            location=self.location,
            area=self.area,
            kind=self.kind,
            hate_crime=bool(facts["hate_crime"]),
            hate_strand=self.hate_strand if facts["hate_crime"] else None,
            enhanced_rights=bool(facts["enhanced_rights"]),
            injury_level=self.injury_level,
            injury_detail=self.injury_detail or None,
            medical_care=self.medical_care or None,
            hospitalised=bool(facts["hospitalised"]),
            suspect_arrested=self.suspect_arrested,
            crime_reference=self.crime_reference or None,
            colleagues_present=list(self.colleagues_present),
            consent_contact=self.consent_contact == "yes",
            welfare_how=self.welfare_how,
            welfare_support=self.welfare_support,
            welfare_handover=self.welfare_handover,
            association=association,
            consent_association=self.consent_association == "yes" and association not in (None, NONE),
        )
