"""Safe YAML with positions: every value keeps the line and column it came from.

Built on PyYAML's composer (a node tree with marks) rather than its constructor, so that:
duplicate keys are reported instead of silently keeping the last one, anchors and aliases are
refused (no alias bomb can expand), and only plain scalars, sequences and mappings exist.
"""

from __future__ import annotations

import ipaddress
import math
import re
from dataclasses import dataclass, field
from functools import lru_cache
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

# YAML 1.2 core schema: how a plain scalar resolves (yaml.org/spec/1.2.2, 10.3.2). PyYAML reads
# YAML 1.1, where `no` is false, `05461` is octal and `1:31:21` is base 60; scadafw reads 1.2, and
# refuses the numbers the two versions read differently (README, "The topology file (version 1)").
_NULL = re.compile(r"~|null|Null|NULL|")
_TRUE = re.compile(r"true|True|TRUE")
_FALSE = re.compile(r"false|False|FALSE")
_INT10 = re.compile(r"[-+]?[0-9]+")
_INT8 = re.compile(r"0o[0-7]+")
_INT16 = re.compile(r"0x[0-9a-fA-F]+")
_FLOAT = re.compile(r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?")
_INF = re.compile(r"[-+]?\.(inf|Inf|INF)")
_NAN = re.compile(r"\.nan|\.NaN|\.NAN")
_LEADING_ZERO = re.compile(r"[-+]?0[0-9_]+")
_SEXAGESIMAL = re.compile(r"[-+]?[0-9][0-9_]*(:[0-5]?[0-9])+(\.[0-9_]*)?")


def core_value(text: str) -> Any:
    """A plain scalar's value under the YAML 1.2 core schema."""
    if _NULL.fullmatch(text):
        return None
    if _TRUE.fullmatch(text):
        return True
    if _FALSE.fullmatch(text):
        return False
    if _INT10.fullmatch(text):
        return int(text, 10)
    if _INT8.fullmatch(text):
        return int(text[2:], 8)
    if _INT16.fullmatch(text):
        return int(text[2:], 16)
    if _FLOAT.fullmatch(text):
        return float(text)
    if _INF.fullmatch(text):
        return float("-inf") if text.startswith("-") else float("inf")
    if _NAN.fullmatch(text):
        return float("nan")
    return text


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _ambiguous(text: str, old: Any, new: Any) -> str | None:
    """Why a plain scalar is refused: a number with a leading zero, or one that YAML 1.1 and
    YAML 1.2 read differently."""
    quoted = f"'{text}' (quoted) if you mean text"
    if _LEADING_ZERO.fullmatch(text):
        sign = "-" if text.startswith("-") else ""
        plain = f"{sign}{text.lstrip('+-0_') or '0'}"
        read = f"the octal number {old}" if _is_number(old) else "text"
        return (f"{text} has a leading zero: YAML 1.1 tools read it as {read}, YAML 1.2 tools "
                f"as {new}; write {plain}, or {quoted}")
    if not (_is_number(old) or _is_number(new)) or _same(old, new):
        return None
    if _SEXAGESIMAL.fullmatch(text):
        if _is_address(text):
            return (f"{text} is an IPv6 address, but YAML 1.1 tools read it as the base-60 "
                    f"number {old}; quote it ('{text}')")
        return (f"{text} is read as the base-60 number {old} by YAML 1.1 tools and as text by "
                f"YAML 1.2 ones; write {old} if you mean the number, or {quoted}")
    shown_old = "text" if isinstance(old, str) else f"the number {old}"
    shown_new = "text" if isinstance(new, str) else f"the number {new}"
    return (f"{text} is read as {shown_old} by YAML 1.1 tools and as {shown_new} by YAML 1.2 "
            f"ones; write the number in plain decimal, or {quoted}")


def _same(old: Any, new: Any) -> bool:
    if type(old) is not type(new):
        return False
    return bool(old == new or (isinstance(old, float) and math.isnan(old) and math.isnan(new)))


def _is_address(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def _scalar(node: ScalarNode, path: str, problems: list[Problem]) -> Any:
    value, refusals = _read_scalar(node.value, node.tag, node.style)
    line, col = node.start_mark.line + 1, node.start_mark.column + 1
    problems.extend(Problem(path, line, col, why) for why in refusals)
    return value


@lru_cache(maxsize=4096)
def _read_scalar(text: str, tag: str, style: str | None) -> tuple[Any, tuple[str, ...]]:
    """What a scalar reads as, and why it is refused where it is: a function of its text, tag
    and style alone, so the keys and words every topology repeats are read once per run."""
    if tag not in _PLAIN_TAGS:
        shown = tag.replace("tag:yaml.org,2002:", "!!")
        return None, (f"unsupported YAML tag {shown}; write a plain value",)
    implicit = _CONSTRUCTOR.resolve(ScalarNode, text, (True, False))  # type: ignore[no-untyped-call]
    old, refusals = _construct(text, tag, style)
    if not style and tag == implicit:  # plain ('' from libyaml, None from PyYAML)
        new = core_value(text)
        why = _ambiguous(text, old, new)
        if why is not None:
            return None, (*refusals, why)
        return new, refusals
    return old, refusals


def _construct(text: str, tag: str, style: str | None) -> tuple[Any, tuple[str, ...]]:
    try:
        return _CONSTRUCTOR.construct_object(ScalarNode(tag, text, style=style)), ()
    except yaml.YAMLError as exc:
        reason = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        return None, (f"cannot read value: {reason}",)
