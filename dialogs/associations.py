"""Point 9: the staff association a victim's role points to, whom the bot tells, and what it says.

Pure functions of the pack's `associations` (pack.yaml): which association follows from a role
(one, a choice the reporter makes, or none), the contacts the bot tells, the notice they get
(reference, the colleague's name and contact, role, area and date: never the account of the
incident) and what the supervisor's reminder says while the point is open.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from dialogs.dates import when_text
from dialogs.render import directory_facts, fill
from dialogs.schema import Pack
from dialogs.types import Fact, Reply

__all__ = [
    "NONE",
    "AssociationContacts",
    "association_name",
    "association_of",
    "contacts_of",
    "guidance",
    "notice_replies",
    "role_outcome",
]

#: The reporter's answer when the colleague belongs to none of their role's associations.
NONE = "none"

Payload = Mapping[str, Any]


@dataclass(frozen=True)
class AssociationContacts:
    """Whom the bot tells for an association: people in chat (work emails) and mailboxes by email."""

    people: tuple[str, ...]
    emails: tuple[str, ...]

    def __bool__(self) -> bool:
        return bool(self.people or self.emails)


def role_outcome(pack: Pack, role: str) -> Literal["one", "ask", "none"]:
    """Whether `role` has one association, a choice for the reporter to make, or none."""
    rules = pack.meta.associations
    rule = rules.by_role.get(role) if rules else None
    if rule is None or not rule.bodies:
        return "none"
    return "ask" if rule.ask or len(rule.bodies) > 1 else "one"


def association_of(pack: Pack, role: str, answer: object) -> str | None:
    """The association of a colleague with `role`, given the reporter's answer (if they were asked).

    `NONE` when they belong to none (or their role has none); None when it is not known (the
    reporter was not asked, e.g. after changing the role at the summary).
    """
    outcome = role_outcome(pack, role)
    if outcome == "none":
        return NONE
    assert pack.meta.associations is not None
    bodies = pack.meta.associations.by_role[role].bodies
    if outcome == "one":
        return bodies[0]
    return answer if isinstance(answer, str) and (answer in bodies or answer == NONE) else None


def contacts_of(pack: Pack, association: str) -> AssociationContacts:
    """Whom the bot tells for `association`: its people, its mailboxes and (if the pack says so) the
    directory entry's email, unless a person has flagged that email as wrong."""
    rules = pack.meta.associations
    body = rules.bodies.get(association) if rules else None
    if body is None:
        return AssociationContacts((), ())
    emails = list(body.emails)
    entry = next((e for e in pack.directory.entries if e.key == body.directory), None)
    if body.directory_email and entry is not None and entry.email and "email" not in entry.flags:
        emails.append(entry.email)
    unique = tuple(dict.fromkeys(e.strip().lower() for e in emails))
    return AssociationContacts(tuple(p.strip().lower() for p in body.people), unique)


def association_name(pack: Pack, association: str) -> str:
    """How the pack names `association` in a sentence ("the Police Federation")."""
    rules = pack.meta.associations
    body = rules.bodies.get(association) if rules else None
    return pack.text(body.name) if body else association


def notice_replies(pack: Pack, payload: Payload) -> list[Reply]:
    """The notice an association's contact gets: who, which case, where and when; never what happened."""
    rules = pack.meta.associations
    assert rules is not None
    key = rules.notice.text
    text = fill(
        pack,
        key,
        reference=payload["reference"],
        association=association_name(pack, str(payload["association"])),
        victim_name=payload["victim_name"],
        victim_email=payload["victim_email"],
        role=pack.strings.get(f"role_{payload['role']}", str(payload["role"])),
        area=pack.strings.get(f"area_{payload['area']}", str(payload["area"])),
        date=when_text(pack, payload["occurred"]),
        reporter_name=payload["reporter_name"],
        reporter_email=payload["reporter_email"],
    )
    return [Reply(key=key, text=text)]


def guidance(pack: Pack, about: Payload) -> list[Reply]:
    """What the supervisor's reminder of point 9 says to do, with the contacts to use.

    `about` is what the sweep read of the case: the victim's role, their association (None: not
    known) and whether they consented.
    """
    rules = pack.meta.associations
    if rules is None:
        return []
    role, association = str(about.get("victim_role")), about.get("association")
    if not isinstance(association, str):
        why = "not_chosen"
        rule = rules.by_role.get(role)
        bodies = list(rule.bodies) if rule else []
    else:
        if not about.get("consent_association"):
            why = "no_consent"
        elif not contacts_of(pack, association):
            why = "no_contact"
        else:
            why = "not_delivered"
        bodies = [association] if association in rules.bodies else []
    key = getattr(rules.guidance, why).text
    name = association_name(pack, association) if isinstance(association, str) else ""
    facts: list[Fact] = directory_facts(pack, [rules.bodies[b].directory for b in bodies])
    return [Reply(key=key, text=fill(pack, key, association=name), facts=tuple(facts))]
