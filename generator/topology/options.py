"""Topology keys about a system's history and its Azure placement, in both versions:
`renamed_from` (system, server, client and outstation) and `azure` (`nsgs`, `priority_offset`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from generator.errors import did_you_mean
from generator.model import AzureOptions, NsgMode, Server
from generator.topology.yaml_source import Spanned

AZURE_KEYS = ("nsgs", "priority_offset")
# Every priority scadafw writes lies in 1111-4040; shifted, they must stay in Azure's 100-4096.
PRIORITY_OFFSETS = (-1000, 50)


class Checker(Protocol):
    def at(self, where: Spanned | tuple[int, int], message: str) -> None: ...

    def name(self, value: Spanned, field: str) -> str | None: ...

    def unknown_keys(self, mapping: Spanned, allowed: tuple[str, ...], what: str,
                     later: tuple[str, ...] = ()) -> None: ...


def renamed_from(check: Checker, value: Spanned | None, what: str) -> str:
    if value is None:
        return ""
    return check.name(value, f"renamed_from of the {what}" if what == "system"
                      else "renamed_from") or ""


def renames(check: Checker, top: dict[str, Spanned], servers: list[Server]) -> None:
    """A server's former name is no other server's name, and no two servers had one name."""
    names = {s.name for s in servers}
    entries = {e.value["name"].value: e for e in top["servers"].value
               if isinstance(e.value, dict) and "name" in e.value}
    seen: dict[str, str] = {}
    for server in servers:
        old = server.renamed_from
        if not old:
            continue
        mark = entries[server.name].value["renamed_from"]
        if old == server.name:
            check.at(mark, f"server '{server.name}' is renamed from its own name; drop "
                           "renamed_from")
        elif old in names:
            check.at(mark, f"renamed_from '{old}' is the name of another server of this "
                           "system; a rename needs a name no server has now")
        elif old in seen:
            check.at(mark, f"servers '{seen[old]}' and '{server.name}' are both renamed from "
                           f"'{old}'")
        seen.setdefault(old, server.name)


class Renamed(Protocol):
    @property
    def name(self) -> str: ...

    @property
    def renamed_from(self) -> str: ...


def peer_renames(check: Checker, section: Spanned | None, what: str,
                 items: Sequence[Renamed]) -> None:
    """A client's or outstation's former name is no current one of its kind, and no two of a
    kind had one name: each old rule address moves to exactly one new one."""
    if section is None or not isinstance(section.value, list):
        return
    marks = {e.value["name"].value: e.value.get("renamed_from") for e in section.value
             if isinstance(e.value, dict) and "name" in e.value}
    names = {i.name for i in items}
    seen: dict[str, str] = {}
    for item in items:
        old, mark = item.renamed_from, marks.get(item.name)
        if not old or mark is None:
            continue
        if old in names:
            check.at(mark, f"renamed_from '{old}' is the name of another {what} of this "
                           f"system; a rename needs a name no {what} has now")
        elif old in seen:
            check.at(mark, f"{what}s '{seen[old]}' and '{item.name}' are both renamed from "
                           f"'{old}'")
        seen.setdefault(old, item.name)


def azure(check: Checker, value: Spanned | None) -> AzureOptions:
    """`azure: {nsgs: create | existing, priority_offset: N}`."""
    if value is None:
        return AzureOptions()
    if not isinstance(value.value, dict):
        check.at(value, f"azure must be a mapping with keys {', '.join(AZURE_KEYS)}, "
                        f"got {value.kind}")
        return AzureOptions()
    check.unknown_keys(value, AZURE_KEYS, "azure")
    fields: dict[str, Spanned] = value.value
    mode = NsgMode.CREATE
    if "nsgs" in fields:
        allowed = tuple(m.value for m in NsgMode)
        given = fields["nsgs"].value
        if isinstance(given, str) and given in allowed:
            mode = NsgMode(given)
        else:
            hint = did_you_mean(given, allowed) if isinstance(given, str) else ""
            check.at(fields["nsgs"], f"azure.nsgs must be one of: {', '.join(allowed)}, got "
                                     f"{given!r}{hint}")
    offset = 0
    if "priority_offset" in fields:
        given = fields["priority_offset"].value
        low, high = PRIORITY_OFFSETS
        if type(given) is not int or not low <= given <= high:
            check.at(fields["priority_offset"], f"azure.priority_offset must be a whole number "
                                                f"from {low} to {high} (scadafw's priorities, "
                                                f"1111-4040, shifted, stay within Azure's "
                                                f"100-4096), got {given!r}")
        else:
            offset = given
    return AzureOptions(mode, offset)
