"""A person's home page: their open cases with the points still outstanding, and closing a point.

Channel-neutral: an adapter renders `HomeCase`s (Slack's App Home tab) and passes button presses
back; those values live with the port (`bot.channels.port`), so no adapter loads this module.
Everything runs through the conversation's own effects (`list_my_cases`, `show_case`,
`mark_point_*`), so need-to-know access and the audit trail are exactly the conversation's.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, Literal

from pydantic import JsonValue
from sqlalchemy.orm import Session

from bot.channels.port import HomeCase, HomePoint, Visitor
from bot.people.identity import identify
from bot.runtime import Runtime
from dialogs.render import RENDERERS, point_fact
from dialogs.types import DialogState, Effect, EffectResult
from store.models import Person

__all__ = ["Home", "HomeCase", "HomePoint", "Visitor"]


class Home:
    """Reads and changes what a person's home page shows (synchronous: run it off the event loop)."""

    def __init__(self, runtime: Runtime) -> None:
        self.pack = runtime.pack
        self.sessions = runtime.sessions
        self.clock = runtime.clock
        self.effects = runtime.router.effects

    def _person(self, session: Session, visitor: Visitor, now: datetime) -> Person:
        return identify(session=session, account=visitor, now=now)

    def _run(
        self,
        name: str,
        args: dict[str, JsonValue],
        *,
        session: Session,
        person: Person,
        surface: str,
        now: datetime,
    ) -> EffectResult:
        effect = Effect(name=name, instance=f"home:{now.isoformat()}", args=args)
        return self.effects.run(effect, session=session, actor=person, surface=surface, now=now)

    def cases(self, visitor: Visitor) -> list[HomeCase]:
        """The visitor's open cases (reported or investigating), each listing and view audited."""
        now = self.clock()
        found = []
        with self.sessions.begin() as session:
            person = self._person(session, visitor, now)
            context: dict[str, Any] = {
                "session": session,
                "person": person,
                "surface": visitor.channel,
                "now": now,
            }
            listed = self._run("list_my_cases", {}, **context).data.get("cases")
            for case in listed if isinstance(listed, list) else []:
                if not isinstance(case, dict):
                    continue
                shown = self._run("show_case", {"case": case.get("reference")}, **context)
                if shown.outcome == "ok":
                    found.append(self._case(case, shown.data, now))
        return found

    def _case(
        self, summary: Mapping[str, JsonValue], shown: Mapping[str, JsonValue], now: datetime
    ) -> HomeCase:
        state = DialogState(results={"list_my_cases": {"cases": [dict(summary)]}})
        line = RENDERERS["my_cases"](self.pack, state, now)[0].value
        points = shown.get("points")
        outstanding = []
        for point in points if isinstance(points, list) else []:
            point_id = point.get("id") if isinstance(point, dict) else None
            if isinstance(point, dict) and isinstance(point_id, int) and point.get("status") == "open":
                fact = point_fact(self.pack, point, now)
                outstanding.append(HomePoint(id=point_id, title=fact.label, line=fact.value))
        return HomeCase(reference=str(summary.get("reference")), summary=line, points=tuple(outstanding))

    def mark(
        self,
        visitor: Visitor,
        *,
        reference: str,
        point_id: int,
        status: Literal["done", "not_applicable"],
        reason: str | None = None,
    ) -> str:
        """Close a point of a case as done or not applicable; the effect's outcome (`done`, `denied`…)."""
        now = self.clock()
        name = "mark_point_done" if status == "done" else "mark_point_not_applicable"
        args: dict[str, JsonValue] = {"case": reference, "point": str(point_id), "reason": reason}
        with self.sessions.begin() as session:
            person = self._person(session, visitor, now)
            return self._run(
                name, args, session=session, person=person, surface=visitor.channel, now=now
            ).outcome
