"""Reading a directory import (`hampshire directory import FILE`): limits first, then every entry.

A file is a list of entries, or a mapping with `entries:`, in YAML or JSON. It is refused whole,
with one line per problem, when it is too big, has more entries than a directory needs (each
search ranks them all), repeats a key inside an entry or an entry's `key`, or has an entry that is
not a valid `DirectoryEntrySpec` (field lengths included) or names an unknown category. Nothing is
imported from a file with a problem, so a fixed file can simply be imported again.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from dialogs.safe_yaml import Limits, YamlRefused, read_yaml_file
from dialogs.schema import DirectoryEntrySpec

__all__ = ["IMPORT_LIMITS", "MAX_ENTRIES", "DirectoryImport", "read_directory_import"]

#: The most entries a directory holds: a force lists tens of services, a national one hundreds.
MAX_ENTRIES = 2_000
#: A file of MAX_ENTRIES entries of the longest fields fits in a few MB.
IMPORT_LIMITS = Limits(max_bytes=4_000_000, max_depth=8, max_aliases=100, max_values=100_000)


@dataclass
class DirectoryImport:
    """The entries of an import file, or what is wrong with it (one line each)."""

    entries: list[DirectoryEntrySpec] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def read_directory_import(file: Path, *, categories: Collection[str]) -> DirectoryImport:
    """Read and check the import file `file` against the pack's `categories`.

    Raises:
        OSError: the file cannot be opened.
    """
    result = DirectoryImport()
    try:
        document = read_yaml_file(file, limits=IMPORT_LIMITS)
    except YamlRefused as error:
        result.problems.append(f"{file}:{error.line}: {error.reason}")
        return result
    result.problems += [f"{file}:{line}: duplicate key {key!r}" for line, key in document.duplicates]
    data: Any = document.data
    prefix: tuple[str, ...] = ()
    if isinstance(data, dict) and "entries" in data:
        data, prefix = data["entries"], ("entries",)
    if not isinstance(data, list):
        result.problems.append(f"{file}:1: expected a list of entries (or a mapping with `entries:`)")
        return result
    if len(data) > MAX_ENTRIES:
        result.problems.append(f"{file}:1: {len(data):,} entries: a directory holds at most {MAX_ENTRIES:,}")
        return result
    seen: dict[str, int] = {}
    for index, item in enumerate(data):
        line = document.lines.get((*prefix, index), 1)
        try:
            spec = DirectoryEntrySpec.model_validate(item)
        except ValidationError as error:
            result.problems += [
                f"{file}:{line}: entry {index}: {'.'.join(map(str, e['loc'])) or '(entry)'}: {e['msg']}"
                for e in error.errors()
            ]
            continue
        if spec.category not in categories:
            result.problems.append(
                f"{file}:{line}: entry {index} ({spec.key}): unknown category {spec.category!r}"
            )
        elif spec.key in seen:
            result.problems.append(
                f"{file}:{line}: entry {index}: key {spec.key!r} is also entry {seen[spec.key]}'s"
            )
        else:
            seen[spec.key] = index
            result.entries.append(spec)
    return result
