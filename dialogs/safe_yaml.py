"""Read YAML that people write (content packs, directory imports) as plain data, within limits.

PyYAML's safe loader is safe from code execution but not from exhaustion: aliases expand without
bound (a "billion laughs" file of a few hundred bytes grows to gigabytes), deep nesting ends in a
RecursionError, and a list or mapping used as a key ends in a TypeError. Here libyaml composes the
document (aliases stay shared nodes, and libyaml refuses nesting deeper than 1,000), then the data
is built node by node with every limit counted on the way, so a hostile or mistaken file fails fast
with its line and one sentence. Duplicate keys are reported, never silently kept.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

__all__ = ["Document", "Limits", "YamlRefused", "read_yaml", "read_yaml_file"]

Path_ = tuple[str | int, ...]


@dataclass(frozen=True)
class Limits:
    """How big a document may be: bytes, nesting, alias uses and values after alias expansion."""

    max_bytes: int = 1_000_000
    max_depth: int = 32
    max_aliases: int = 100
    max_values: int = 200_000


@dataclass
class Document:
    """A document's data, the line of every path inside it, and its duplicate keys (line, key)."""

    data: Any
    lines: dict[Path_, int] = field(default_factory=dict)
    duplicates: list[tuple[int, Any]] = field(default_factory=list)


class YamlRefused(ValueError):
    """A document that cannot be read as plain data within the limits; `line` says where."""

    def __init__(self, line: int, reason: str) -> None:
        self.line = line
        self.reason = reason
        super().__init__(f"line {line}: {reason}")


if TYPE_CHECKING:
    _SafeLoader = yaml.SafeLoader
else:
    # libyaml's parser reads a pack about ten times faster than PyYAML's own, with the same nodes
    # and line numbers (`hampshire chat` loads the pack before its first prompt), and it bounds
    # nesting where PyYAML's composer would recurse until Python gives up.
    _SafeLoader = yaml.CSafeLoader if yaml.__with_libyaml__ else yaml.SafeLoader


class _Loader(_SafeLoader):
    """A safe loader where only true/false are booleans.

    YAML 1.1 reads yes, no, on and off as booleans, so a force writing `yes:` as a choice value or
    `no` in a word list would silently get True or False.
    """


_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
for _first in "tTfF":
    _Loader.add_implicit_resolver(
        "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), [_first]
    )


def read_yaml_file(file: Path, *, limits: Limits = Limits()) -> Document:
    """Read `file` within `limits` (its size is checked before any of it is parsed).

    Raises:
        YamlRefused: too big, not UTF-8, not YAML, or over a limit.
        OSError: the file cannot be read.
    """
    with file.open("rb") as handle:
        data = handle.read(limits.max_bytes + 1)
    if len(data) > limits.max_bytes:
        raise YamlRefused(1, f"larger than {limits.max_bytes:,} bytes")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise YamlRefused(data[: error.start].count(b"\n") + 1, "not UTF-8 text") from None
    return read_yaml(text, limits=limits)


def read_yaml(text: str, *, limits: Limits = Limits()) -> Document:
    """Read one YAML document from `text` within `limits`.

    Raises:
        YamlRefused: not YAML, or over a limit.
    """
    if len(text.encode("utf-8")) > limits.max_bytes:
        raise YamlRefused(1, f"larger than {limits.max_bytes:,} bytes")
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        document = Document(None)
        if node is not None:
            document.data = _Builder(loader, limits, document).build(node, (), 0)
        return document
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        reason = " ".join(str(p) for p in (error.context, error.problem) if p)
        raise YamlRefused(mark.line + 1 if mark else 1, f"not valid YAML: {reason}") from None
    except yaml.YAMLError as error:
        raise YamlRefused(1, f"not valid YAML: {' '.join(str(error).split())}") from None
    except RecursionError:
        # Only without libyaml: PyYAML's own composer recurses once per level of nesting.
        raise YamlRefused(1, f"nested more than {limits.max_depth} levels deep") from None
    finally:
        loader.dispose()


class _Builder:
    """Builds plain data from composed nodes, counting depth, alias uses and values."""

    def __init__(self, loader: _Loader, limits: Limits, document: Document) -> None:
        self.loader = loader
        self.limits = limits
        self.document = document
        #: Where each node was first met: (its parent's id, its position there).
        self.home: dict[int, tuple[int, int] | None] = {}
        self.aliases = 0
        self.values = 0

    def _count(self, node: yaml.Node, depth: int, slot: tuple[int, int] | None) -> None:
        line = node.start_mark.line + 1
        if depth > self.limits.max_depth:
            raise YamlRefused(line, f"nested more than {self.limits.max_depth} levels deep")
        self.values += 1
        if self.values > self.limits.max_values:
            raise YamlRefused(
                line, f"more than {self.limits.max_values:,} values (counting each alias in full)"
            )
        # The composer hands back the anchored node itself for every alias, so a node met in a
        # place other than where it was first met is an alias use, counted in full as expanded:
        # a billion laughs is stopped after a hundred of them, not after a billion.
        if self.home.setdefault(id(node), slot) != slot:
            self.aliases += 1
            if self.aliases > self.limits.max_aliases:
                raise YamlRefused(line, f"more than {self.limits.max_aliases} uses of aliases (*name)")

    def build(self, node: yaml.Node, path: Path_, depth: int, slot: tuple[int, int] | None = None) -> Any:
        """The plain data of `node` at `path` (its `slot` in its parent), its lines recorded."""
        self._count(node, depth, slot)
        document = self.document
        document.lines[path] = node.start_mark.line + 1
        if isinstance(node, yaml.MappingNode):
            result: dict[Any, Any] = {}
            for i, (key_node, value_node) in enumerate(node.value):
                line = key_node.start_mark.line + 1
                if not isinstance(key_node, yaml.ScalarNode):
                    kind = "list" if isinstance(key_node, yaml.SequenceNode) else "mapping"
                    raise YamlRefused(line, f"a key must be a word or a number, not a {kind}")
                key = self.loader.construct_object(key_node, deep=True)
                if key in result:
                    document.duplicates.append((line, key))
                result[key] = self.build(value_node, (*path, key), depth + 1, (id(node), i))
                document.lines[(*path, key)] = line
            return result
        if isinstance(node, yaml.SequenceNode):
            return [
                self.build(item, (*path, i), depth + 1, (id(node), i)) for i, item in enumerate(node.value)
            ]
        return self.loader.construct_object(node, deep=True)
