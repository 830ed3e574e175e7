"""A Terraform module as python-hcl2 reads it: resources by type and name, references resolved.

Only the emitted files are read, never the generator's objects, so a module edited by hand is
judged by what it says.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from generator.errors import ScadafwError
from generator.sources.hcl_read import parse_text

_REFERENCE = re.compile(r"^\$\{([a-z0-9_]+)\.([A-Za-z0-9_-]+)\.([a-z_]+)\}$")
_DECLARES_RESOURCES = re.compile(r"^\s*(resource|output)\s", re.MULTILINE)
_INTERFACE_OWNER = re.compile(r'lookup\(var\.network_interface_ids,\s*"([^"]+)"')


class ModuleReadError(ScadafwError):
    """A module folder is missing or holds HCL that cannot be parsed."""


@dataclass(frozen=True)
class Resource:
    type: str
    name: str
    attrs: dict[str, Any] = field(compare=False)
    file: str = ""

    @property
    def address(self) -> str:
        return f"{self.type}.{self.name}"


@dataclass
class Module:
    path: Path
    resources: dict[str, dict[str, Resource]] = field(default_factory=dict)
    document: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # per file
    outputs: dict[str, Any] = field(default_factory=dict)  # output name -> its value expression

    def of_type(self, resource_type: str) -> list[Resource]:
        return list(self.resources.get(resource_type, {}).values())

    def get(self, resource_type: str, name: str) -> Resource | None:
        return self.resources.get(resource_type, {}).get(name)


def parse_file(path: Path, text: str | None = None) -> dict[str, Any]:
    try:
        return parse_text(path.read_text(encoding="utf-8") if text is None else text)
    except Exception as exc:  # python-hcl2 raises lark's many exception types
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ModuleReadError(f"{path}: not valid HCL: {first}") from exc


def resource_blocks(doc: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """(type, name, attributes) of every resource in a python-hcl2 document."""
    for block in doc.get("resource", []):
        for rtype, named in block.items():
            for name, attrs in named.items():
                yield rtype, name, attrs


def resources_in(text: str) -> dict[str, dict[str, Any]]:
    """Resource address -> attributes, for HCL text scadafw itself rendered."""
    doc = parse_text(text)
    return {f"{rtype}.{name}": attrs for rtype, name, attrs in resource_blocks(doc)}


def moved_blocks(text: str) -> list[dict[str, Any]]:
    """The `moved` blocks of HCL text: [{"from": ..., "to": ...}]."""
    if "moved" not in text:
        return []
    doc = parse_text(text)
    return [dict(block) for block in doc.get("moved", [])]


def read_module(path: Path) -> Module:
    if not path.is_dir():
        raise ModuleReadError(f"{path}: no module folder here (run `scadafw generate` first?)")
    module = Module(path)
    files = sorted(path.glob("*.tf"))
    if not files:
        raise ModuleReadError(f"{path}: holds no .tf files")
    for file in files:
        text = file.read_text(encoding="utf-8", errors="replace")
        if not _DECLARES_RESOURCES.search(text):
            continue  # variables, versions: nothing to evaluate, and parsing is slow
        doc = parse_file(file, text)
        module.document[file.name] = [doc]
        for rtype, name, attrs in resource_blocks(doc):
            module.resources.setdefault(rtype, {})[name] = Resource(rtype, name, attrs, file.name)
        for block in doc.get("output", []):
            module.outputs.update({k: v.get("value") for k, v in block.items()})
    return module


def groups_by_server(module: Module, output: str, resource_type: str) -> dict[str, list[str]]:
    """Server name -> the names of the module's `resource_type` resources a by-server output
    (`{ "scada-a" = [aws_security_group.redundant.id] }`) gives it."""
    value = module.outputs.get(output)
    found: dict[str, list[str]] = {}
    if isinstance(value, dict):
        for server, refs in value.items():
            names = [referenced_name(ref, resource_type) for ref in as_list(refs)]
            found[str(server)] = [n for n in names if n is not None]
    return found


def reference(value: object) -> tuple[str, str, str] | None:
    """`${aws_security_group.x.id}` -> ("aws_security_group", "x", "id"); else None."""
    if isinstance(value, str):
        match = _REFERENCE.match(value.strip())
        if match:
            return match.group(1), match.group(2), match.group(3)
    return None


def referenced_name(value: object, resource_type: str) -> str | None:
    ref = reference(value)
    return ref[1] if ref and ref[0] == resource_type else None


def interface_owner(resource: Resource) -> str | None:
    """The server whose interfaces an attachment resource iterates over (from its for_each)."""
    match = _INTERFACE_OWNER.search(str(resource.attrs.get("for_each", "")))
    return match.group(1) if match else None


def as_list(value: object) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list | tuple) else [value]
