"""The support-services directory: contact validation and ranked, typo-tolerant search.

Search ranks entries by how well the query's words match the entry's name, synonyms, category,
description and audience, in that order of weight. A word matches exactly, as a prefix ("fed"
for "federation") or with a typo ("counseling"). Validation flags contacts that are not what they
claim to be (an email with a space, a number that is not a UK number), so they are never shown as
if they were valid.
"""

from __future__ import annotations

import threading
from bisect import bisect_left
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

import phonenumbers
from email_validator import EmailNotValidError, validate_email
from pydantic import AnyHttpUrl, TypeAdapter, ValidationError
from rapidfuzz import fuzz, process

from dialogs.schema import DirectoryEntrySpec
from dialogs.understand import normalise

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

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
    # Added one by one, as the index adds its arrays: from Python 3.12 `sum` compensates for
    # rounding, which would part the two by a last bit and reorder ties.
    total = 0.0
    for word in query_words:
        total += _word_score(word, words)
    return total / len(query_words)


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
    """Every entry's words, indexed once, so that a search is a few array operations.

    Each distinct text (a name, a synonym, a category's label, a description) is split into words
    once; each distinct word knows the texts it occurs in, and each text the entries that use it
    and in which field. A search scores the query's words against the distinct words (rapidfuzz's
    `process.extract` over the vocabulary; prefixes by bisecting the sorted vocabulary), then
    scores every text at once with numpy: per query word, each text's best word (the word scores
    scattered over the texts they occur in), summed in query order and divided as `_field_score`
    does, so the scores are exactly those of `score`. Only texts that can match are expanded to
    their entries. Build a new index when the directory changes.
    """

    def __init__(self, entries: Iterable[Searchable], categories: Mapping[str, Sequence[str]]) -> None:
        # Imported here: the engine imports this module, and a console that never searches a
        # stored directory should not pay numpy's import at start-up.
        import numpy as np

        self.keys: list[str] = []
        self._vocabulary: dict[str, int] = {}
        self._words: list[str] = []
        texts: dict[str, int] = {}
        postings: list[list[int]] = []
        #: per text, the (entry, field) pairs that use it
        users: list[dict[tuple[int, int], None]] = []
        # Numbered in key order, so that among equal scores the smaller number comes first.
        for entry in sorted(entries, key=lambda e: e.key):
            number = len(self.keys)
            self.keys.append(entry.key)
            for field, field_texts in enumerate(_fields(entry, categories).values()):
                for text in field_texts:
                    text_id = texts.get(text)
                    if text_id is None:
                        text_id = texts[text] = len(users)
                        users.append({})
                        for word in dict.fromkeys(_words(text)):
                            word_id = self._vocabulary.setdefault(word, len(self._words))
                            if word_id == len(self._words):
                                self._words.append(word)
                                postings.append([])
                            postings[word_id].append(text_id)
                    users[text_id][number, field] = None
        self._sorted = sorted(self._vocabulary)
        self._text_count = len(users)
        self._postings = [np.array(p, dtype=np.intp) for p in postings]
        lengths = np.array([len(u) for u in users], dtype=np.intp)
        self._user_start = np.cumsum(lengths) - lengths
        self._user_count = lengths
        pairs = [pair for by_text in users for pair in by_text]
        self._user_entry = np.array([n for n, _ in pairs], dtype=np.intp)
        self._user_field = np.array([f for _, f in pairs], dtype=np.intp)
        self._field_weight = np.array(_FIELD_WEIGHTS, dtype=np.float64)

    def __len__(self) -> int:
        return len(self.keys)

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
            limit: return only the first `limit` entries.
        """
        import numpy as np

        words = query_words(query)
        if not words:
            return []
        count = len(words)
        # A text scores the mean of its best word per query word, so a word scoring less than
        # `low` cannot lift a text to `min_score` even if every other query word scores 100.
        low = max(0.0, count * min_score - (count - 1) * 100.0)
        per_word: dict[str, NDArray[np.float64]] = {}
        total = np.zeros(self._text_count)
        for word in words:  # in query order, so that the sum is `_field_score`'s to the last bit
            best = per_word.get(word)
            if best is None:
                best = per_word[word] = np.zeros(self._text_count)
                # The best word of each text is the one written last.
                for word_id, value in sorted(self._word_scores(word, low).items(), key=_value):
                    best[self._postings[word_id]] = value
            total += best
        text_score = total / count
        # A weight is at most 1, so a text below `min_score` matches in no field.
        texts = np.flatnonzero(text_score >= min_score)
        counts = self._user_count[texts]
        # Each text's (entry, field) pairs: its run of the pair arrays, all runs side by side.
        runs = np.repeat(self._user_start[texts] - np.cumsum(counts) + counts, counts)
        at = runs + np.arange(runs.size)
        fields = self._user_field[at]
        values = np.repeat(text_score[texts], counts) * self._field_weight[fields]
        kept = values >= min_score
        entries, values, fields = self._user_entry[at][kept], values[kept], fields[kept]
        # Each entry at its best score, in the first field among equals (as `score` keeps it).
        order = np.lexsort((fields, -values, entries))
        entries, values, fields = entries[order], values[order], fields[order]
        first = np.ones(entries.size, dtype=bool)
        first[1:] = entries[1:] != entries[:-1]
        entries, values, fields = entries[first], values[first], fields[first]
        order = np.lexsort((entries, -values))[:limit]  # entries are numbered in key order
        return [
            Ranked(self.keys[n], v, _FIELD_NAMES[f])
            for n, v, f in zip(
                entries[order].tolist(), values[order].tolist(), fields[order].tolist(), strict=True
            )
        ]


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
