"""Reading YAML people write: plain data within limits, every refusal one sentence with its line."""

from __future__ import annotations

import tracemalloc
from pathlib import Path

import pytest

from dialogs.safe_yaml import Limits, YamlRefused, read_yaml, read_yaml_file

#: The classic "billion laughs": nine aliases to the level below, nine levels deep (9**9 strings).
BILLION_LAUGHS = 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n' + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [{','.join(['*' + chr(97 + i)] * 9)}]\n" for i in range(8)
)


def test_plain_data_with_the_line_of_every_path() -> None:
    document = read_yaml("title: Plan\nsteps:\n  - id: one\n    say: hello\n  - id: two\n")
    assert document.data == {"title": "Plan", "steps": [{"id": "one", "say": "hello"}, {"id": "two"}]}
    assert document.lines[("steps", 1, "id")] == 5
    assert document.lines[("steps", 0, "say")] == 4
    assert document.duplicates == []


def test_yes_and_no_are_words() -> None:
    assert read_yaml("[yes, no, on, off, true, False]").data == ["yes", "no", "on", "off", True, False]


def test_duplicate_keys_are_reported_with_their_line() -> None:
    assert read_yaml("a: 1\nb: 2\na: 3\n").duplicates == [(3, "a")]


def test_a_billion_laughs_fails_fast_in_little_memory() -> None:
    tracemalloc.start()
    try:
        with pytest.raises(YamlRefused, match=r"more than 100 uses of aliases") as refused:
            read_yaml(BILLION_LAUGHS)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert refused.value.line >= 2
    assert peak < 5_000_000


def test_expansion_is_counted_even_with_few_aliases() -> None:
    wide = "a: &a [" + ", ".join(["x"] * 5_000) + "]\nb: [*a, *a, *a]\n"
    with pytest.raises(YamlRefused, match="more than 10,000 values"):
        read_yaml(wide, limits=Limits(max_values=10_000))
    assert len(read_yaml(wide).data["b"]) == 3


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("[" * 40 + "]" * 40, "nested more than 32 levels deep"),
        (
            "".join(f"{'  ' * i}k{i}:\n" for i in range(40)) + "  " * 40 + "end\n",
            "nested more than 32 levels",
        ),
        ("[" * 20_000 + "]" * 20_000, "not valid YAML"),
        ("? [a, b]\n: 1\n", "a key must be a word or a number, not a list"),
        ("{a: 1}: x\n", "a key must be a word or a number, not a mapping"),
        ("a: [1, 2\nb: 3\n", "not valid YAML"),
        ("a: !!python/object:os.system x\n", "not valid YAML"),
    ],
    ids=["deep flow", "deep block", "deeper than libyaml allows", "list key", "mapping key", "broken", "tag"],
)
def test_what_cannot_be_read_is_one_sentence_with_a_line(text: str, says: str) -> None:
    with pytest.raises(YamlRefused) as refused:
        read_yaml(text)
    assert says in refused.value.reason
    assert "\n" not in str(refused.value) and refused.value.line >= 1


def test_a_file_over_the_size_limit_is_refused_before_it_is_parsed(tmp_path: Path) -> None:
    file = tmp_path / "big.yaml"
    file.write_bytes(b"a: " + b"x" * 2_000 + b"\n" + b"[" * 100)  # invalid past the limit: never read
    with pytest.raises(YamlRefused, match="larger than 1,000 bytes") as refused:
        read_yaml_file(file, limits=Limits(max_bytes=1_000))
    assert refused.value.line == 1


def test_a_file_that_is_not_utf8_says_its_line(tmp_path: Path) -> None:
    file = tmp_path / "latin.yaml"
    file.write_bytes(b"a: 1\nb: caf\xe9\n")
    with pytest.raises(YamlRefused, match="not UTF-8") as refused:
        read_yaml_file(file)
    assert refused.value.line == 2
