"""Refusals found on a topology's flows rather than its keys (generator/intent/conflicts.py):
a party's networks holding a server's address where that gives the server a flow its role
forbids, and two entries that would write one rule twice. Each is reported at the network in
the file that causes it, naming both parties."""

from __future__ import annotations

import ipaddress

from generator.intent.conflicts import conflicts, duplicates
from generator.intent.matrix import CLIENT, MONITOR, OUTSTATION
from generator.model import Network, System
from generator.topology.checker import Checker
from generator.topology.yaml_source import Spanned

_LISTS = {CLIENT: ("clients", "sources"), OUTSTATION: ("outstations", "addresses"),
          MONITOR: ("servers", "icmp_monitors")}
_WORDS = {CLIENT: "client", OUTSTATION: "outstation", MONITOR: "icmp_monitors of server"}


def _entry(top: dict[str, Spanned], kind: str, name: str) -> Spanned | None:
    section = top.get(_LISTS[kind][0])
    if section is None or not isinstance(section.value, list):
        return None
    for entry in section.value:
        label = entry.value.get("name") if isinstance(entry.value, dict) else None
        if isinstance(label, Spanned) and label.value == name:
            found: Spanned = entry
            return found
    return None


def _item(top: dict[str, Spanned], kind: str, name: str, network: Network) -> Spanned | None:
    """Where `network` is written in the entry of party `name`."""
    entry = _entry(top, kind, name)
    items = entry.value.get(_LISTS[kind][1]) if entry is not None else None
    if items is None or not isinstance(items.value, list):
        return entry
    for item in items.value:
        try:
            same = ipaddress.ip_network(str(item.value), strict=False) == network
        except ValueError:
            continue
        if same and isinstance(item, Spanned):
            return item
    return entry


def overlaps(check: Checker, top: dict[str, Spanned], system: System) -> None:
    for found in conflicts(system):
        where = _item(top, found.kind, found.party, found.network)
        check.at(where or (1, 1), f"{_WORDS[found.kind]} {found.party}: {found.message}")
    kinds = {c.name: CLIENT for c in system.clients} | {o.name: OUTSTATION
                                                        for o in system.outstations}
    for dup in duplicates(system):
        # reported at the entry that comes later in the file, naming the earlier one
        entries = {n: _entry(top, kinds[n], n) for n in (dup.first, dup.second)}
        first, second = sorted((dup.first, dup.second),
                               key=lambda n: getattr(entries[n], "line", 0))
        where = _item(top, kinds[second], second, dup.network)
        earlier = entries[first]
        line = f" (line {earlier.line})" if earlier is not None else ""
        check.at(where or (1, 1), f"{_WORDS[kinds[second]]} {second}: {dup.rule} is also "
                                  f"{_WORDS[kinds[first]]} {first}'s{line}: one rule would be "
                                  "written twice (AWS refuses the second as a duplicate); give "
                                  "the network to one entry")
