"""Reading a directory import: limits on size, entries and fields; duplicates refused, one line each."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dialogs.directory_import import MAX_ENTRIES, read_directory_import

CATEGORIES = {"wellbeing", "representation"}


def entry(key: str, **fields: object) -> dict[str, object]:
    return {
        "key": key,
        "name": f"Service {key}",
        "category": "wellbeing",
        "description": "Listens.",
        "for_whom": "Everyone",
        "source": "Force intranet",
        **fields,
    }


def write(tmp_path: Path, text: str, name: str = "import.yaml") -> Path:
    file = tmp_path / name
    file.write_text(text, encoding="utf-8")
    return file


def test_a_good_file_gives_its_entries(tmp_path: Path) -> None:
    file = write(tmp_path, json.dumps({"entries": [entry("one"), entry("two", phone="0121 496 0000")]}))
    read = read_directory_import(file, categories=CATEGORIES)
    assert read.problems == [] and [e.key for e in read.entries] == ["one", "two"]


def test_a_field_over_its_length_is_named_without_echoing_it(tmp_path: Path) -> None:
    file = write(tmp_path, json.dumps([entry("one"), entry("two", name="N" * 5_000)]))
    read = read_directory_import(file, categories=CATEGORIES)
    assert len(read.problems) == 1
    assert read.problems[0].endswith("entry 1: name: String should have at most 200 characters")
    assert "NNNN" not in read.problems[0]


def test_too_many_entries_are_refused_before_any_is_checked(tmp_path: Path) -> None:
    file = write(tmp_path, "- x\n" * 50_000)
    read = read_directory_import(file, categories=CATEGORIES)
    assert read.problems == [f"{file}:1: 50,000 entries: a directory holds at most {MAX_ENTRIES:,}"]
    assert read.entries == []


def test_a_file_too_big_is_refused_unread(tmp_path: Path) -> None:
    file = write(tmp_path, "- name: " + "n" * 5_000_000 + "\n")
    read = read_directory_import(file, categories=CATEGORIES)
    assert read.problems == [f"{file}:1: larger than 4,000,000 bytes"]


def test_duplicate_keys_inside_an_entry_are_refused_with_their_line(tmp_path: Path) -> None:
    text = (
        "- key: one\n  name: First\n  name: Second\n  category: wellbeing\n  description: d\n"
        "  for_whom: all\n  source: s\n"
    )
    read = read_directory_import(write(tmp_path, text), categories=CATEGORIES)
    assert len(read.problems) == 1 and read.problems[0].endswith(":3: duplicate key 'name'")


def test_two_entries_with_one_key_are_refused(tmp_path: Path) -> None:
    file = write(tmp_path, json.dumps([entry("one"), entry("two"), entry("one", name="Other")], indent=1))
    read = read_directory_import(file, categories=CATEGORIES)
    assert len(read.problems) == 1
    assert "entry 2: key 'one' is also entry 0's" in read.problems[0]


@pytest.mark.parametrize(
    ("text", "says"),
    [
        (
            "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(f"b{i}: [*a, *a, *a, *a]\n" for i in range(30)),
            "aliases",
        ),
        ("{x: 1}\n", "expected a list of entries"),
        ("- " + "[" * 20 + "]" * 20 + "\n", "nested more than 8 levels"),
        ("? [a]\n: 1\n", "a key must be a word or a number"),
    ],
)
def test_what_cannot_be_read_is_one_line(tmp_path: Path, text: str, says: str) -> None:
    read = read_directory_import(write(tmp_path, text), categories=CATEGORIES)
    assert len(read.problems) == 1 and says in read.problems[0] and "\n" not in read.problems[0]
