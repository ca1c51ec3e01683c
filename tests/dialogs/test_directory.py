"""The directory: contacts validated and flagged as printed, search tolerant of typos and synonyms."""

from __future__ import annotations

import random
import re

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
