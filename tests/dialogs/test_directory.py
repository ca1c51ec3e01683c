"""The directory: contacts validated and flagged as printed, search tolerant of typos and synonyms."""

from __future__ import annotations

import random
import re
from collections import Counter

import pytest

from dialogs.directory import DirectoryIndex, contact_problems, entry_record, rank
from dialogs.schema import DirectoryEntrySpec, Pack


def categories(pack: Pack) -> dict[str, list[str]]:
    return {c.id: [c.label, *c.synonyms] for c in pack.directory.categories}


@pytest.mark.parametrize(
    ("query", "first"),
    [
        ("fed", "police_federation"),
        ("federation", "police_federation"),
        ("Police Federation", "police_federation"),
        ("counselling", "b_well"),
        ("counseling", "b_well"),
        ("I need someone to talk to", "b_well"),
        ("chaplain", "chaplaincy"),
        ("unison", "unison"),
        ("unite", "unite"),
        ("sikh association", "sikh_association"),
        ("benevolant fund", "benevolent_fund"),
        ("hospital payment", "hospital_payments"),
        ("lgbt", "lgbt_network"),
        ("op hampshire", "oscar_kilo"),
        ("court", "witness_care_unit"),
    ],
)
def test_search_ranks_the_right_entry_first(pack: Pack, query: str, first: str) -> None:
    found = rank(query, pack.directory.entries, categories(pack))
    assert found and found[0].key == first


@pytest.mark.parametrize("query", ["xyzzy", "the", "", "🚓"])
def test_search_finds_nothing_for_nonsense(pack: Pack, query: str) -> None:
    assert rank(query, pack.directory.entries, categories(pack)) == []


def test_union_finds_both_unions(pack: Pack) -> None:
    keys = [r.key for r in rank("union", pack.directory.entries, categories(pack))]
    assert {"unison", "unite"} <= set(keys[:3])


def test_contacts_as_printed_are_checked() -> None:
    assert contact_problems("0121 700 1200", "westmidlandspf@polfed.org", "www.wmpben.co.uk") == {}
    problems = contact_problems("0121 700", "sikh association@west-midlands.pnn.police.uk", "not a url")
    assert set(problems) == {"phone", "email", "web"}


def test_leaflet_entries_that_fail_are_kept_and_flagged(pack: Pack) -> None:
    records = {e.key: entry_record(e) for e in pack.directory.entries}
    flagged = {key for key, record in records.items() if record["flags"]}
    assert flagged == {"enable_network", "sikh_association", "victim_support", "chaplaincy"}
    assert records["victim_support"]["web"] == "www.victimsuport.org.uk"  # kept exactly as printed
    assert "misspelt" in records["victim_support"]["flags"]["web"]
    assert records["enable_network"]["email"] == "disability carers@west-midlands.pnn.police.uk"
    assert records["police_federation"]["flags"] == {}


@pytest.mark.parametrize("key", ["directory_none", "ask_directory_query", "next_support"])
def test_every_search_word_the_bot_suggests_finds_something(pack: Pack, key: str) -> None:
    text = pack.text(f"strings.{key}")
    listed = text.split("such as" if "such as" in text else "for example", 1)[1]
    quoted = re.findall(r'"([^"]+)"', listed)
    words = quoted or [w.strip(" ().\n") for w in re.split(r",| or ", listed)]
    assert len(words) >= 3
    categories = {c.id: [c.label, *c.synonyms] for c in pack.directory.categories}
    for word in words:
        assert rank(word, pack.directory.entries, categories), f"{key}: {word!r} finds nothing"


def _invented_directory(pack: Pack, count: int, seed: int) -> list[DirectoryEntrySpec]:
    """The pack's entries again and again with invented towns and words mixed in."""
    rng = random.Random(seed)
    towns = ["Ashford", "Ashbury", "Dunwick", "Dunfield", "North Elmley", "Kingsbury", "Langton"]
    extra = ["support", "advice", "services", "counseling", "polce", "network", "payments", "fund"]
    entries = []
    for number in range(count):
        spec = pack.directory.entries[number % len(pack.directory.entries)]
        town = rng.choice(towns)
        entries.append(
            spec.model_copy(
                update={
                    "key": f"{spec.key}_{number:03}",
                    "name": f"{spec.name} {town}" if number % 3 else spec.name,
                    "description": f"{spec.description} {' '.join(rng.sample(extra, 3))} in {town}.",
                    "synonyms": [*spec.synonyms, town.lower()][: rng.randrange(1, 6)],
                }
            )
        )
    return entries


QUERIES = [
    "support",
    "suport",
    "fed",
    "counselling ashford",
    "addvice serivces",
    "police north dunwick",
    "polce polce",
    "legal advice kingsbury",
    "union payments fund north",
    "support advice services fund",
    "staff network langton elmley",
    "talk to someone",
    "xyzzy support",
    "xyzzy plugh",
    "hospital",
]


@pytest.mark.parametrize("seed", [1, 2])
def test_the_index_scores_exactly_as_one_entry_at_a_time(pack: Pack, seed: int) -> None:
    entries = _invented_directory(pack, 300, seed)
    index = DirectoryIndex(entries, categories(pack))
    for query in QUERIES:
        expected = rank(query, iter(entries), categories(pack))  # an iterator: scored one by one
        assert index.search(query) == expected, query
        for limit in (1, 3, 4, 10):
            assert index.search(query, limit=limit) == expected[:limit], (query, limit)


def _crowded_directory(pack: Pack, count: int) -> list[DirectoryEntrySpec]:
    """Entries in towns that share words ("North", "South", "...field"), as a national directory has:
    a query of several words then matches thousands of texts equally well."""
    towns = [
        f"{side} {onset}{coda}"
        for side in ("North", "South")
        for onset in ("Ash", "Dun", "Fair")
        for coda in ("field", "ton", "bury")
    ]
    kinds = ["branch", "office", "team", "hub"]
    entries = []
    for number in range(count):
        spec = pack.directory.entries[number % len(pack.directory.entries)]
        town = towns[number // len(pack.directory.entries) % len(towns)]
        entries.append(
            spec.model_copy(
                update={
                    "key": f"{spec.key}_{number:04}",
                    "name": f"{spec.name} {town} {kinds[number % len(kinds)]}",
                    "description": f"{spec.description} Covers {town} and nearby stations.",
                    "synonyms": [*spec.synonyms, town.lower()],
                }
            )
        )
    return entries


#: The shapes that were slowest at 10,000 entries: a word with a typo and a town, or two typos.
CROWDED_QUERIES = [
    "vouchers north ashton",
    "vouchers north fairfield",
    "west compennsation",
    "well caerr",
    "counselor north fairbury",
    "care loan",
    "nattional laons",
    "craer rep",
    "hmapshire well",
    "services north ashford",
    "chirstian chrristian",
    "assocaition gneder",
    "north",
    "south dunton branch",
    "support advice north south",
    "polce polce polce",
    "fed north",
]


def test_the_index_scores_exactly_as_one_entry_at_a_time_when_thousands_tie(pack: Pack) -> None:
    entries = _crowded_directory(pack, 360)
    index = DirectoryIndex(entries, categories(pack))
    rng = random.Random(13)
    vocabulary = sorted(
        {w for e in entries for w in f"{e.name} {e.description}".lower().split() if w.isalpha()}
    )
    invented = [" ".join(rng.sample(vocabulary, rng.randrange(2, 5))) for _ in range(12)]
    tied = 0  # the most results sharing one score: what made the old search slow
    for query in CROWDED_QUERIES + invented:
        expected = rank(query, iter(entries), categories(pack))
        assert index.search(query) == expected, query
        tied = max([tied, *Counter(r.score for r in expected).values()])
        for limit in (1, 6, 7):
            assert index.search(query, limit=limit) == expected[:limit], (query, limit)
    for query in ("care loan", "south dunton branch"):  # another threshold: other texts are in play
        assert index.search(query, min_score=55) == rank(query, iter(entries), categories(pack), min_score=55)
    assert tied >= 100


def test_an_empty_index_finds_nothing(pack: Pack) -> None:
    assert DirectoryIndex([], categories(pack)).search("federation") == []
