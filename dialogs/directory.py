"""The support-services directory: contact validation and ranked, typo-tolerant search.

Search ranks entries by how well the query's words match the entry's name, synonyms, category,
description and audience, in that order of weight. A word matches exactly, as a prefix ("fed"
for "federation") or with a typo ("counseling"). Validation flags contacts that are not what they
claim to be (an email with a space, a number that is not a UK number), so they are never shown as
if they were valid.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import phonenumbers
from email_validator import EmailNotValidError, validate_email
from pydantic import AnyHttpUrl, TypeAdapter, ValidationError
from rapidfuzz import fuzz

from dialogs.schema import DirectoryEntrySpec
from dialogs.understand import normalise

__all__ = ["Ranked", "Searchable", "contact_problems", "entry_record", "rank"]

#: Words that carry no meaning for search ("who can I talk to about counselling").
_STOPWORDS = frozenset(
    {
        "a", "about", "an", "and", "any", "are", "can", "could", "do", "for", "from", "get", "help",
        "i", "i'm", "im", "in", "is", "it", "me", "my", "need", "of", "on", "or", "please", "some",
        "the", "there", "to", "want", "what", "where", "who", "with", "would", "you",
    }
)  # fmt: skip
_URL = TypeAdapter(AnyHttpUrl)
_WEIGHTS = {"name": 1.0, "synonyms": 1.0, "category": 0.95, "description": 0.75, "for_whom": 0.6}
_MIN_SCORE = 75.0


class Searchable(Protocol):
    """What search needs of an entry (a pack entry or a stored one)."""

    @property
    def key(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def category(self) -> str: ...
    @property
    def description(self) -> str: ...
    @property
    def for_whom(self) -> str: ...
    @property
    def synonyms(self) -> Sequence[str]: ...


@dataclass(frozen=True)
class Ranked:
    """An entry key with its score (0-100) and the field that matched best."""

    key: str
    score: float
    field: str


def _words(text: str) -> list[str]:
    return normalise(text).split()


def _word_score(word: str, candidates: Sequence[str]) -> float:
    best = 0.0
    for candidate in candidates:
        if candidate == word:
            return 100.0
        if len(word) >= 3 and candidate.startswith(word):
            best = max(best, 90.0)
        elif len(word) >= 4:
            best = max(best, fuzz.ratio(word, candidate))
    return best


def _field_score(query_words: Sequence[str], text: str) -> float:
    words = _words(text)
    if not words or not query_words:
        return 0.0
    if query_words == words:
        return 100.0
    return sum(_word_score(w, words) for w in query_words) / len(query_words)


def query_words(query: str) -> list[str]:
    """The words of a query that carry meaning (none for "who can I", so nothing matches)."""
    return [w for w in _words(query) if w not in _STOPWORDS]


def score(entry: Searchable, words: Sequence[str], categories: Mapping[str, Sequence[str]]) -> Ranked:
    """How well `entry` matches the query words, and on which field."""
    fields: dict[str, list[str]] = {
        "name": [entry.name],
        "synonyms": list(entry.synonyms),
        "category": list(categories.get(entry.category, ())) + [entry.category.replace("_", " ")],
        "description": [entry.description],
        "for_whom": [entry.for_whom],
    }
    best = Ranked(entry.key, 0.0, "name")
    for field, texts in fields.items():
        for text in texts:
            value = _field_score(words, text) * _WEIGHTS[field]
            if value > best.score:
                best = Ranked(entry.key, value, field)
    return best


def rank(
    query: str,
    entries: Iterable[Searchable],
    categories: Mapping[str, Sequence[str]],
    *,
    min_score: float = _MIN_SCORE,
) -> list[Ranked]:
    """Entries matching `query`, best first (ties by key, so the order is stable)."""
    words = query_words(query)
    if not words:
        return []
    scored = (score(e, words, categories) for e in entries)
    return sorted((r for r in scored if r.score >= min_score), key=lambda r: (-r.score, r.key))


def contact_problems(phone: str | None, email: str | None, web: str | None) -> dict[str, str]:
    """What is wrong with each contact field, by field; empty when every given field is valid."""
    problems: dict[str, str] = {}
    if email:
        try:
            validate_email(email, check_deliverability=False)
        except EmailNotValidError as error:
            problems["email"] = str(error)
    if phone:
        try:
            number = phonenumbers.parse(phone, "GB")
            if not phonenumbers.is_valid_number(number):
                problems["phone"] = "not a valid UK phone number"
        except phonenumbers.NumberParseException as error:
            problems["phone"] = str(error)
    if web:
        address = web if "://" in web else f"https://{web}"
        try:
            url = _URL.validate_python(address)
            if not url.host or "." not in url.host:
                problems["web"] = "not a web address"
        except ValidationError:
            problems["web"] = "not a web address"
    return problems


def entry_record(spec: DirectoryEntrySpec) -> dict[str, Any]:
    """An entry as stored: its fields, with `flags` holding every problem found in its contacts.

    A person's note on a field (the pack's `flags`) explains more than a validator can, so it wins.
    """
    problems = contact_problems(spec.phone, spec.email, spec.web)
    flags: dict[str, str] = {field: f"invalid as printed: {why}" for field, why in problems.items()}
    flags.update({str(field): note for field, note in spec.flags.items()})
    return {**spec.model_dump(), "flags": flags}
