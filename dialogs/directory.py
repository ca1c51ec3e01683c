"""The support-services directory: contact validation and ranked, typo-tolerant search.

Search ranks entries by how well the query's words match the entry's name, synonyms, category,
description and audience, in that order of weight. A word matches exactly, as a prefix ("fed"
for "federation") or with a typo ("counseling"). Validation flags contacts that are not what they
claim to be (an email with a space, a number that is not a UK number), so they are never shown as
if they were valid.
"""

from __future__ import annotations

import heapq
import threading
from bisect import bisect_left
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import phonenumbers
from email_validator import EmailNotValidError, validate_email
from pydantic import AnyHttpUrl, TypeAdapter, ValidationError
from rapidfuzz import fuzz, process

from dialogs.schema import DirectoryEntrySpec
from dialogs.understand import normalise

__all__ = ["DirectoryIndex", "Ranked", "Searchable", "contact_problems", "entry_record", "rank", "score"]

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
#: Below this a word is not a typo of another but a different word ("vouchers" and "north" score
#: 31), so it counts for nothing rather than for a little.
_UNLIKE = 50.0
#: Texts scored between two checks of whether the first results are certain.
_CHUNK = 128
#: Leeway for bounds summed in another order than the scores they bound.
_ROUNDING = 1e-9
_FIELD_NAMES = tuple(_WEIGHTS)
_FIELD_WEIGHTS = tuple(_WEIGHTS.values())


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
            best = max(best, fuzz.ratio(word, candidate, score_cutoff=_UNLIKE))
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


def _fields(entry: Searchable, categories: Mapping[str, Sequence[str]]) -> dict[str, list[str]]:
    return {
        "name": [entry.name],
        "synonyms": list(entry.synonyms),
        "category": list(categories.get(entry.category, ())) + [entry.category.replace("_", " ")],
        "description": [entry.description],
        "for_whom": [entry.for_whom],
    }


def score(entry: Searchable, words: Sequence[str], categories: Mapping[str, Sequence[str]]) -> Ranked:
    """How well `entry` matches the query words, and on which field.

    This is the definition of a match, one entry at a time; `DirectoryIndex` computes the same
    scores for a whole directory at once.
    """
    best = Ranked(entry.key, 0.0, "name")
    for field, texts in _fields(entry, categories).items():
        for text in texts:
            value = _field_score(words, text) * _WEIGHTS[field]
            if value > best.score:
                best = Ranked(entry.key, value, field)
    return best


def _value(item: tuple[int, float]) -> float:
    return item[1]


class DirectoryIndex:
    """Every entry's words, indexed once, so that a search touches only what it matches.

    Each distinct text (a name, a synonym, a category's label, a description) is split into words
    once; each distinct word knows the texts it occurs in and, per field, the entries that have it
    there. A search scores the query's words against the distinct words (rapidfuzz's
    `process.extract` over the precomputed vocabulary; prefixes by bisecting the sorted
    vocabulary), then works with sets of entries, best scores first, and stops once `limit`
    entries are certain. The scores are exactly those of `score`. Build a new index when the
    directory changes.
    """

    def __init__(self, entries: Iterable[Searchable], categories: Mapping[str, Sequence[str]]) -> None:
        self.keys: list[str] = []
        self._vocabulary: dict[str, int] = {}
        self._words: list[str] = []
        self._texts: dict[str, int] = {}
        #: per text, its distinct words; per word, the texts it occurs in
        self._text_words: list[frozenset[int]] = []
        self._postings: list[list[int]] = []
        #: per text and per word: field number -> the entries with it in that field
        self._text_users: list[dict[int, set[int]]] = []
        self._word_users: list[dict[int, set[int]]] = []
        # Numbered in key order, so that among equal scores the smaller number comes first.
        for entry in sorted(entries, key=lambda e: e.key):
            number = len(self.keys)
            self.keys.append(entry.key)
            for field, texts in enumerate(_fields(entry, categories).values()):
                for text in texts:
                    self._text_users[self._text_id(text)].setdefault(field, set()).add(number)
        for text_id, by_field in enumerate(self._text_users):
            for word_id in self._text_words[text_id]:
                for field, users in by_field.items():
                    self._word_users[word_id].setdefault(field, set()).update(users)
        self._sorted = sorted(self._vocabulary)
        #: per text, the first entry (in key order) that uses it
        self._text_first = [
            min(n for users in by_field.values() for n in users) for by_field in self._text_users
        ]

    def __len__(self) -> int:
        return len(self.keys)

    def _text_id(self, text: str) -> int:
        found = self._texts.get(text)
        if found is not None:
            return found
        text_id = self._texts[text] = len(self._text_words)
        ids = []
        for word in dict.fromkeys(_words(text)):
            word_id = self._vocabulary.get(word)
            if word_id is None:
                word_id = self._vocabulary[word] = len(self._words)
                self._words.append(word)
                self._postings.append([])
                self._word_users.append({})
            self._postings[word_id].append(text_id)
            ids.append(word_id)
        self._text_words.append(frozenset(ids))
        self._text_users.append({})
        return text_id

    def _word_scores(self, word: str, low: float) -> dict[int, float]:
        """Each vocabulary word's `_word_score` against `word`, for those scoring at least `low`."""
        scores: dict[int, float] = {}
        if len(word) >= 4:
            for _, value, word_id in process.extract(
                word, self._words, scorer=fuzz.ratio, score_cutoff=max(low, _UNLIKE), limit=None
            ):
                if value > 0:
                    scores[word_id] = value
        if len(word) >= 3:
            start = bisect_left(self._sorted, word)
            for candidate in self._sorted[start:]:
                if not candidate.startswith(word):
                    break
                scores[self._vocabulary[candidate]] = 90.0
        exact = self._vocabulary.get(word)
        if exact is not None:
            scores[exact] = 100.0
        return scores

    def search(self, query: str, *, min_score: float = _MIN_SCORE, limit: int | None = None) -> list[Ranked]:
        """Entries matching `query`, best first (ties by key): the same as `rank` over the entries.

        Args:
            limit: return only the first `limit` entries (the rest are not all scored).
        """
        words = query_words(query)
        if not words:
            return []
        count = len(words)
        # A text scores the mean of its best word per query word, so a word scoring less than
        # `low` cannot lift a text to `min_score` even if every other query word scores 100.
        low = max(0.0, count * min_score - (count - 1) * 100.0)
        scores = [self._word_scores(word, low) for word in words]
        if count == 1:  # a text scores its best word: go from words straight to entries
            groups = [
                (value * _FIELD_WEIGHTS[field], field, users)
                for word_id, value in scores[0].items()
                for field, users in self._word_users[word_id].items()
            ]
            return self._entries(groups, min_score, limit)
        return self._search_texts(scores, min_score, limit)

    def _entries(
        self, groups: list[tuple[float, int, set[int]]], min_score: float, limit: int | None
    ) -> list[Ranked]:
        """Each entry at its best group's score and field (the first field among equals)."""
        groups = sorted((g for g in groups if g[0] >= min_score), key=lambda g: (-g[0], g[1]))
        seen: set[int] = set()
        found: list[Ranked] = []
        for value, field, users in groups:
            if limit is not None and len(found) >= limit and value < found[-1].score:
                break  # every entry still to come ranks after the first `limit`
            new = users - seen
            if new:
                seen |= new
                kept = new if limit is None else heapq.nsmallest(limit, new)
                found += (Ranked(self.keys[n], value, _FIELD_NAMES[field]) for n in kept)
        ranked = sorted(found, key=lambda r: (-r.score, r.key))
        return ranked if limit is None else ranked[:limit]

    def _search_texts(
        self, scores: Sequence[Mapping[int, float]], min_score: float, limit: int | None
    ) -> list[Ranked]:
        """Entries matching several query words, each text scored as `_field_score` does."""
        count = len(scores)
        # Texts in order of the rarest query word's score, the others bounded by 100: once
        # `limit` entries score more than any text left could, the rest cannot displace them.
        lead = min(scores, key=lambda per_word: sum(len(self._postings[w]) for w in per_word))
        # A text that can reach `min_score` has a word scoring that much for some query word and,
        # unless it can do without one, a word for each (each set built by C loops).
        candidates = self._texts_with(w for p in scores for w, v in p.items() if v >= min_score)
        if count * min_score > (count - 1) * 100.0:
            for per_word in scores:
                candidates &= self._texts_with(per_word)
        levels: dict[float, set[int]] = {}
        for word_id, value in lead.items():
            levels.setdefault(value, set()).update(self._postings[word_id])
        levels[0.0] = candidates  # what is left: texts without the lead word
        others = sum(max(p.values(), default=0.0) for p in scores if p is not lead)
        # With two words, a text at the lead word's `level` needs the other word's best in it to
        # score `2 * min_score - level`: one look-up instead of scoring a text that cannot match.
        other_best: dict[int, float] | None = None
        if count == 2:
            other_best = {}
            for word_id, value in sorted(next(p for p in scores if p is not lead).items(), key=_value):
                other_best.update(dict.fromkeys(self._postings[word_id], value))  # the best last
        done: set[int] = set()
        best: dict[int, tuple[float, int]] = {}
        for level in sorted(levels, reverse=True):
            bound = (level + others) / count  # the most a text not yet scored can score
            if bound < min_score - _ROUNDING:
                break  # no text left can match
            fresh = (levels[level] & candidates) - done
            done |= fresh
            need = count * min_score - level - _ROUNDING
            texts = (
                list(fresh) if other_best is None else [t for t in fresh if other_best.get(t, 0.0) >= need]
            )
            if limit is not None:  # entries in key order, so that a tie with the last one can end it too
                texts.sort(key=self._text_first.__getitem__)
            for start in range(0, len(texts), _CHUNK):
                if limit is not None and len(best) >= limit:
                    number = heapq.nsmallest(limit, best, key=lambda n: (-best[n][0], n))[-1]
                    last = best[number][0]
                    if last > bound + _ROUNDING or (
                        last >= bound - _ROUNDING and self._text_first[texts[start]] > number
                    ):
                        return self._ranked(best, limit)
                for text in texts[start : start + _CHUNK]:
                    self._score_text(text, scores, min_score, best)
        return self._ranked(best, limit)

    def _score_text(
        self,
        text: int,
        scores: Sequence[Mapping[int, float]],
        min_score: float,
        best: dict[int, tuple[float, int]],
    ) -> None:
        """Raise each entry using `text` to the text's score in that field, if it is better."""
        words = self._text_words[text]
        score = sum(max(map(p.__getitem__, p.keys() & words), default=0.0) for p in scores) / len(scores)
        for field, users in self._text_users[text].items():
            value = score * _FIELD_WEIGHTS[field]
            if value < min_score:
                continue
            for number in users:
                held = best.get(number)
                if held is None or value > held[0] or (value == held[0] and field < held[1]):
                    best[number] = (value, field)

    def _ranked(self, best: Mapping[int, tuple[float, int]], limit: int | None) -> list[Ranked]:
        chosen: Iterable[int] = best
        if limit is not None and len(best) > limit:  # numbers are in key order: no keys needed
            chosen = heapq.nsmallest(limit, best, key=lambda n: (-best[n][0], n))
        return sorted(
            (Ranked(self.keys[n], best[n][0], _FIELD_NAMES[best[n][1]]) for n in chosen),
            key=lambda r: (-r.score, r.key),
        )

    def _texts_with(self, word_ids: Iterable[int]) -> set[int]:
        texts: set[int] = set()
        for word_id in word_ids:
            texts.update(self._postings[word_id])
        return texts


def rank(
    query: str,
    entries: Iterable[Searchable],
    categories: Mapping[str, Sequence[str]],
    *,
    min_score: float = _MIN_SCORE,
) -> list[Ranked]:
    """Entries matching `query`, best first (ties by key, so the order is stable).

    Scores each entry in turn. A list or tuple of entries (a pack's, read-only once loaded) is
    indexed on first use and searched through its `DirectoryIndex` after that, with the same
    answer: the engine routes a conversation's first words through the pack's directory.
    """
    if isinstance(entries, list | tuple):
        return _index_of(entries, categories).search(query, min_score=min_score)
    words = query_words(query)
    if not words:
        return []
    scored = (score(e, words, categories) for e in entries)
    return sorted((r for r in scored if r.score >= min_score), key=lambda r: (-r.score, r.key))


#: The indexes of the last few entry sequences `rank` was given, with the sequence itself (so that
#: its id cannot be reused while cached) and the categories.
_RECENT: dict[int, tuple[Sequence[Searchable], object, DirectoryIndex]] = {}
_RECENT_SIZE = 8
#: Turns run on several threads (Slack's listener pool, the asyncio thread pool).
_RECENT_LOCK = threading.Lock()


def _index_of(entries: Sequence[Searchable], categories: Mapping[str, Sequence[str]]) -> DirectoryIndex:
    frozen = tuple((category, tuple(words)) for category, words in sorted(categories.items()))
    cached = _RECENT.get(id(entries))
    if cached is not None and cached[0] is entries and cached[1] == frozen:
        return cached[2]
    index = DirectoryIndex(entries, categories)
    with _RECENT_LOCK:
        if len(_RECENT) >= _RECENT_SIZE:
            _RECENT.pop(next(iter(_RECENT)))
        _RECENT[id(entries)] = (entries, frozen, index)
    return index


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
