"""Understanding typed text: global commands, picking a choice, routing free text to a flow.

Matching is deliberately forgiving (typos, synonyms, a choice's number) because the people typing
may be tired or shaken; it is never so loose that an unclear answer is silently accepted.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from typing import Literal

from rapidfuzz import fuzz
from rapidfuzz.utils import default_process

from dialogs.schema import Commands, IntentSpec
from dialogs.types import Choice

__all__ = [
    "Command",
    "clean_text",
    "intent_scores",
    "is_skip",
    "is_yes",
    "match_choice",
    "match_command",
    "normalise",
    "route_intent",
    "says_first_person",
]

Command = Literal["help", "cancel", "start_over", "menu"]

#: Scores are rapidfuzz's 0-100.
_COMMAND_SCORE = 90
_CHOICE_SCORE = 86
_INTENT_SCORE = 80
_KEYWORD_SCORE = 88

#: Terminal escape sequences (CSI and OSC), removed whole so no fragment like "[31m" is left.
_ESCAPES = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[@-_]")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069]")


def clean_text(text: str) -> str:
    """Strip control and bidi-override characters, normalise Unicode, keep newlines and tabs.

    Terminal escape sequences and invisible direction overrides must never reach a stored answer or
    another person's screen.
    """
    text = unicodedata.normalize("NFC", text.replace("\r\n", "\n").replace("\r", "\n"))
    return _CONTROL.sub("", _ESCAPES.sub("", text)).strip()


def normalise(text: str) -> str:
    """Lower-case, strip punctuation and collapse spaces (rapidfuzz's default processing)."""
    return str(default_process(text))


def _is_one_of(text: str, words: Iterable[str], score: int) -> bool:
    raw = text.strip().casefold()
    if any(raw == word.casefold() for word in words):  # punctuation-only words such as "?"
        return True
    said = normalise(text)
    if not said:
        return False
    for word in words:
        target = normalise(word)
        if said == target:
            return True
        # Fuzzy only for words long enough that a typo cannot turn one word into another.
        if len(target) >= 5 and fuzz.ratio(said, target) >= score:
            return True
    return False


def match_command(text: str, commands: Commands) -> Command | None:
    """The global command `text` asks for, if any ("help", "cancel", "start over", "menu")."""
    if len(text) > 40:
        return None
    names: tuple[Command, ...] = ("help", "cancel", "start_over", "menu")
    return next((name for name in names if _is_one_of(text, getattr(commands, name), _COMMAND_SCORE)), None)


def is_yes(text: str, commands: Commands) -> bool | None:
    """True for yes, False for no, None when the text is neither."""
    stripped = text.strip()
    if stripped in {"👍", "✅", "✔️"}:
        return True
    if stripped in {"👎", "❌", "✖️"}:
        return False
    if _is_one_of(text, commands.yes, _COMMAND_SCORE):
        return True
    if _is_one_of(text, commands.no, _COMMAND_SCORE):
        return False
    return None


def is_skip(text: str, commands: Commands) -> bool:
    """Whether the text declines an optional question ("skip", "not known")."""
    return _is_one_of(text, commands.skip, _COMMAND_SCORE)


def _word_hit(word: str, label_words: Sequence[str]) -> bool:
    return any(
        candidate == word
        or (len(word) >= 3 and candidate.startswith(word))
        or (len(word) >= 4 and fuzz.ratio(word, candidate) >= _CHOICE_SCORE)
        for candidate in label_words
    )


def match_choice(text: str, choices: Sequence[Choice]) -> Choice | None:
    """The choice `text` names: its number, value or label, the start of a label's words, or a
    close spelling of them ("verbal" for "Verbal abuse or threats", "Conventry" for "Coventry").

    Returns None when nothing matches or when more than one choice matches equally well.
    """
    said = text.strip()
    if said.isdigit():
        index = int(said) - 1
        return choices[index] if 0 <= index < len(choices) else None
    said_norm = normalise(said)
    if not said_norm:
        return None
    for candidates in (
        [c for c in choices if said_norm in (normalise(c.label), normalise(c.value.replace("_", " ")))],
        [c for c in choices if all(_word_hit(w, normalise(c.label).split()) for w in said_norm.split())],
        [c for c in choices if fuzz.ratio(said_norm, normalise(c.label)) >= _CHOICE_SCORE],
    ):
        if candidates:
            return candidates[0] if len(candidates) == 1 else None
    return None


def intent_scores(text: str, intents: dict[str, IntentSpec]) -> dict[str, float]:
    """How well `text` matches each intent, 0-100: best phrase, or a keyword found among its words."""
    said = normalise(text)
    words = said.split()
    scores: dict[str, float] = {}
    for name, spec in intents.items():
        # One word is a phrase only when it is the whole phrase: token sets would make "no" a
        # perfect match for "no further action".
        score = fuzz.ratio if len(words) == 1 else fuzz.token_set_ratio
        best = max((score(said, normalise(p)) for p in spec.phrases), default=0.0)
        for keyword in spec.keywords:
            key = normalise(keyword)
            if " " in key:
                # partial_ratio aligns the shorter text: "a" would be found inside "hate crime".
                hit = len(said) >= len(key) and fuzz.partial_ratio(key, said) >= _KEYWORD_SCORE
            else:
                hit = any(w == key or (len(key) >= 5 and fuzz.ratio(w, key) >= _KEYWORD_SCORE) for w in words)
            if hit:
                best = max(best, float(_KEYWORD_SCORE))
        scores[name] = best
    return scores


def says_first_person(text: str, markers: Sequence[str]) -> bool:
    """Whether the text speaks of the speaker themselves: one of `markers` ("me", "i was") is in it
    as whole words."""
    said = f" {normalise(text)} "
    return any(f" {normalise(marker)} " in said for marker in markers if normalise(marker))


def route_intent(text: str, intents: dict[str, IntentSpec]) -> tuple[str, float] | None:
    """The flow free text asks for and its score, or None when no intent is clear enough.

    An intent with `first_person` markers counts only when the text has one, and then wins a tie
    against the intents it is `instead_of`: "I was spat at" is a colleague telling of their own
    assault, not a supervisor's report; "I was assaulted, what happens next" still asks that.
    """
    spoken = {
        n for n, spec in intents.items() if spec.first_person and says_first_person(text, spec.first_person)
    }
    scores = {
        name: score
        for name, score in intent_scores(text, intents).items()
        if score >= _INTENT_SCORE and (name in spoken or not intents[name].first_person)
    }
    if not scores:
        return None
    best = max(scores.values())
    tied = [n for n, score in scores.items() if score == best]  # in the pack's order
    for name in tied:
        if name in spoken and all(o == name or o in intents[name].instead_of for o in tied):
            return name, best
    name = next((n for n in tied if n not in spoken), tied[0])
    return name, best
