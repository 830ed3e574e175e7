"""Safe YAML with positions: every value keeps the line and column it came from.

Built on PyYAML's composer (a node tree with marks) rather than its constructor, so that:
duplicate keys are reported instead of silently keeping the last one, anchors and aliases are
refused (no alias bomb can expand), and only plain scalars, sequences and mappings exist.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from yaml.events import AliasEvent
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from generator.errors import Problem, TopologyError

MAX_BYTES = 1024 * 1024


@dataclass(frozen=True)
class Spanned:
    """A YAML value and where it stands (1-based). Mappings hold Spanned values, keyed by str."""

    value: Any
    line: int
    column: int
    key_marks: dict[str, tuple[int, int]] = field(default_factory=dict, compare=False)

    @property
    def kind(self) -> str:
        return type_name(self.value)


def type_name(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return type(value).__name__


# libyaml's loader where PyYAML has it (15x faster to compose), else the pure-Python one
_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _first_alias(text: str) -> tuple[int, int] | None:
    """Where the first alias is: they are refused before anything is composed, so an alias
    bomb is never expanded."""
    if "*" not in text:
        return None
    for event in yaml.parse(text, Loader=_LOADER):
        if isinstance(event, AliasEvent) and event.start_mark is not None:
            return event.start_mark.line + 1, event.start_mark.column + 1
    return None


def read_text(path: Path) -> str:
    """The file's text, or a TopologyError that says plainly why it cannot be read."""
    shown = str(path)

    def fail(message: str) -> TopologyError:
        return TopologyError([Problem(shown, 1, 1, message)])

    if not path.exists():
        raise fail("no such file")
    if path.is_dir():
        raise fail("is a directory, not a topology file")
    try:
        size = path.stat().st_size
        if size > MAX_BYTES:
            raise fail(f"file is {size} bytes; topology files are limited to {MAX_BYTES} (1 MiB)")
        data = path.read_bytes()
    except OSError as exc:
        raise fail(f"cannot read: {exc.strerror or exc}") from exc
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise TopologyError(
            [Problem(shown, line, 1, f"not valid UTF-8 (byte {exc.start}); save the file as UTF-8")]
        ) from exc
    return text.removeprefix("\ufeff")


def load_spanned(path: Path) -> Spanned:
    """Parse a YAML file into Spanned values; raise TopologyError on any YAML-level problem."""
    text = read_text(path)
    shown = str(path)
    if not text.strip():
        raise TopologyError([Problem(shown, 1, 1, "file is empty; expected a topology mapping")])
    try:
        alias = _first_alias(text)
        if alias is not None:
            raise TopologyError([Problem(
                shown, *alias,
                "anchors and aliases (*name) are not supported; write the value out")])
        node = yaml.compose(text, Loader=_LOADER)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        raise TopologyError([Problem(shown, line, col, f"not valid YAML: {exc.problem}")]) from None
    except yaml.YAMLError as exc:
        raise TopologyError([Problem(shown, 1, 1, f"not valid YAML: {exc}")]) from None
    if node is None:
        raise TopologyError([Problem(shown, 1, 1, "file holds no YAML document")])
    problems: list[Problem] = []
    result = _convert(node, shown, problems)
    if problems:
        raise TopologyError(problems)
    return result


def _convert(node: Node, path: str, problems: list[Problem]) -> Spanned:
    line, col = node.start_mark.line + 1, node.start_mark.column + 1
    if isinstance(node, ScalarNode):
        return Spanned(_scalar(node, path, problems), line, col)
    if isinstance(node, SequenceNode):
        return Spanned([_convert(item, path, problems) for item in node.value], line, col)
    if isinstance(node, MappingNode):
        values: dict[str, Spanned] = {}
        marks: dict[str, tuple[int, int]] = {}
        for key_node, value_node in node.value:
            kl, kc = key_node.start_mark.line + 1, key_node.start_mark.column + 1
            key = _scalar(key_node, path, problems) if isinstance(key_node, ScalarNode) else None
            if not isinstance(key, str):
                problems.append(Problem(path, kl, kc, "keys must be plain strings"))
                continue
            if key in values:
                first = marks[key][0]
                message = f"duplicate key '{key}' (first at line {first})"
                problems.append(Problem(path, kl, kc, message))
                continue
            values[key] = _convert(value_node, path, problems)
            marks[key] = (kl, kc)
        return Spanned(values, line, col, marks)
    problems.append(Problem(path, line, col, "unsupported YAML node"))
    return Spanned(None, line, col)


_CONSTRUCTOR = yaml.SafeLoader("")


_PLAIN_TAGS = {f"tag:yaml.org,2002:{t}" for t in ("str", "int", "float", "bool", "null",
                                                 "timestamp")}


def _scalar(node: ScalarNode, path: str, problems: list[Problem]) -> Any:
    if node.tag not in _PLAIN_TAGS:
        line, col = node.start_mark.line + 1, node.start_mark.column + 1
        tag = node.tag.replace("tag:yaml.org,2002:", "!!")
        problems.append(Problem(path, line, col, f"unsupported YAML tag {tag}; write a plain "
                                                 "value"))
        return None
    try:
        return _CONSTRUCTOR.construct_object(node)
    except yaml.YAMLError as exc:
        line, col = node.start_mark.line + 1, node.start_mark.column + 1
        reason = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        problems.append(Problem(path, line, col, f"cannot read value: {reason}"))
        return None
