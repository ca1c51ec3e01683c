"""Transcripts: whole conversations through the router on a real database, asserting message ids.

Each `tests/transcripts/*.yaml` file lists turns: who speaks (`as`), what they type (`say`), press
(`pick`, a choice value or label) or do (`resume`, `start`), the messages the bot sent them unasked
(`notices: true`: prompts, notices), time passing (`advance`), and the string ids the bot must
answer with, in order (`expect`). `roles` gives people roles first (`welfare`, `fim`,
`slt:walsall`). Wording can change without breaking them.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.conversation import RuntimePort
from bot.runtime import Runtime
from store.people import add_role, ensure_person
from tests.channel import Conversation, Talker, keys
from tests.conftest import FakeClock

TRANSCRIPTS = sorted((Path(__file__).parent.parent / "transcripts").glob("*.yaml"))


def run_transcript(
    script: dict[str, Any],
    runtime: Runtime,
    clock: FakeClock,
    talk_as: Callable[[str], Talker] | None = None,
) -> None:
    """Play `script`; `talk_as(email)` gives each person's side (default: straight to the router)."""
    people: dict[str, str] = script.get("people", {})
    with runtime.sessions.begin() as session:
        for speaker, roles in script.get("roles", {}).items():
            person = ensure_person(session=session, email=people.get(speaker, speaker), now=clock())
            for role in roles:
                name, _, area = role.partition(":")
                add_role(session=session, person=person, role=name, area=area or None)
    conversations: dict[str, Talker] = {}
    talk_as = talk_as or (lambda email: Conversation(RuntimePort(runtime), email))
    speaker = None
    for number, turn in enumerate(script["turns"], start=1):
        if "advance" in turn:
            clock.advance(**turn["advance"])
            continue
        speaker = turn.get("as", speaker)
        assert speaker, f"turn {number}: nobody is speaking"
        email = people.get(speaker, speaker)
        if speaker not in conversations:
            conversations[speaker] = talk_as(email)
        conversation = conversations[speaker]
        if "say" in turn:
            replies = conversation.say(str(turn["say"]))
        elif "pick" in turn:
            replies = conversation.pick(str(turn["pick"]))
        elif "start" in turn:
            replies = conversation.start(turn["start"], turn.get("text", ""))
        elif turn.get("notices"):
            replies = conversation.notices()
        else:
            assert turn.get("resume"), f"turn {number}: say, pick, start, notices, resume or advance"
            replies = conversation.resume()
        said = turn.get(
            "say", turn.get("pick", turn.get("start", "(notices)" if "notices" in turn else "(resume)"))
        )
        assert keys(replies) == turn["expect"], f"{script['name']}, turn {number} ({speaker}: {said!r})"
        if "choices" in turn:
            assert conversation.choices() == turn["choices"], f"turn {number}: choices offered"


@pytest.mark.parametrize("path", TRANSCRIPTS, ids=[p.stem for p in TRANSCRIPTS])
def test_transcript(path: Path, runtime: Runtime, clock: FakeClock) -> None:
    run_transcript(yaml.safe_load(path.read_text(encoding="utf-8")), runtime, clock)
