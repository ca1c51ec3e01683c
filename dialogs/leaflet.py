"""Point 10: the "what happens next" leaflet the bot sends the victim, and the supervisor's part.

Pure functions of the pack's `leaflet` (pack.yaml): the leaflet itself (the process, their rights,
their investigating officer once assigned, the contacts that fit their role and, for a hate crime,
the staff networks of its strand), the note asking the supervisor to hand it over while the bot
cannot reach the victim, and what the supervisor's reminder says while the point is open.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dialogs.render import directory_facts, fill
from dialogs.schema import Pack
from dialogs.types import Reply

__all__ = ["guidance", "handover_replies", "leaflet_replies"]

Payload = Mapping[str, Any]


def _reply(pack: Pack, key: str, **values: Any) -> Reply:
    return Reply(key=key, text=fill(pack, key, **values))


def leaflet_replies(pack: Pack, payload: Payload) -> list[Reply]:
    """The leaflet for the victim of case `payload["reference"]`, as it stands when it is sent.

    The payload names the case, the victim's role, the hate-crime strand (if any) and their
    investigating officer (if one was assigned when it was queued).
    """
    leaflet = pack.meta.leaflet
    assert leaflet is not None
    reference = payload["reference"]
    replies = [_reply(pack, section.text, reference=reference) for section in leaflet.sections]
    if payload.get("io_name"):
        replies.append(
            _reply(pack, leaflet.io.text, io_name=payload["io_name"], io_email=payload.get("io_email", ""))
        )
    else:
        replies.append(_reply(pack, leaflet.io_pending.text, reference=reference))
    contacts = directory_facts(pack, leaflet.contacts.get(str(payload.get("role")), []))
    if contacts:
        intro = _reply(pack, leaflet.contacts_intro.text, reference=reference)
        replies.append(intro.model_copy(update={"facts": tuple(contacts)}))
    strand = payload.get("hate_strand")
    networks = directory_facts(pack, pack.meta.signposts.get(str(strand), [])) if strand else []
    if networks:
        hate = _reply(pack, leaflet.hate_crime.text, reference=reference)
        replies.append(hate.model_copy(update={"facts": tuple(networks)}))
    return replies


def handover_replies(pack: Pack, payload: Payload) -> list[Reply]:
    """To the supervisor: the bot cannot reach the victim yet, so please hand the leaflet over."""
    return [_reply(pack, "strings.leaflet_handover", reference=payload["reference"])]


def guidance(pack: Pack, about: Payload) -> list[Reply]:
    """What the supervisor's reminder of point 10 says to do: without consent, hand it over; with
    it, the bot is waiting to reach the victim, so hand it over meanwhile."""
    leaflet = pack.meta.leaflet
    if leaflet is None:
        return []
    guide = leaflet.guidance
    return [_reply(pack, (guide.not_delivered if about.get("consent_contact") else guide.no_consent).text)]
