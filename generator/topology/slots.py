"""Azure priority slots: the rules for a client, an outstation or another network sit at
priorities derived from its slot, and its slot comes from its name alone, or from its
`azure_slot`. So adding or removing one never moves another's priorities (docs/design.md,
"Azure priorities"). Two that meet are refused at the later one, naming both, with a free slot
to give it: scadafw never picks a slot that depends on which other entries exist."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Protocol

from generator.model import NETWORK_SLOTS, PEER_SLOTS, System, Target, name_slot
from generator.topology.checker import Checker
from generator.topology.yaml_source import Spanned


class Slotted(Protocol):
    @property
    def name(self) -> str: ...

    @property
    def azure_slot(self) -> int | None: ...

    @property
    def slot(self) -> int: ...


def check_slots(check: Checker, top: dict[str, Spanned], system: System) -> None:
    if Target.AZURE not in system.targets:
        return  # only Azure rules have priorities
    for key, what, items, count in (("clients", "client", system.clients, PEER_SLOTS),
                                    ("outstations", "outstation", system.outstations,
                                     PEER_SLOTS),
                                    ("networks", "network", system.networks, NETWORK_SLOTS)):
        places = _places(top.get(key))
        _meet(check, what, items, count, places)


def _places(section: Spanned | None) -> dict[str, tuple[Spanned, Spanned | None]]:
    """Name -> (where the entry is named, its azure_slot if given)."""
    if section is None:
        return {}
    found: dict[str, tuple[Spanned, Spanned | None]] = {}
    if isinstance(section.value, dict):  # networks: name -> {cloud, azure_slot}
        for name, entry in section.value.items():
            line, col = section.key_marks.get(name, (section.line, section.column))
            fields = entry.value if isinstance(entry.value, dict) else {}
            found[name] = (Spanned(name, line, col), fields.get("azure_slot"))
    elif isinstance(section.value, list):
        for entry in section.value:
            fields = entry.value if isinstance(entry.value, dict) else {}
            name = fields.get("name")
            if name is not None and isinstance(name.value, str):
                found[name.value] = (name, fields.get("azure_slot"))
    return found


def _meet(check: Checker, what: str, items: Sequence[Slotted], count: int,
          places: dict[str, tuple[Spanned, Spanned | None]]) -> None:
    holders: dict[int, list[Slotted]] = defaultdict(list)
    # a slot given in the file is deliberate: it keeps its slot, a name's slot gives way
    for item in sorted(items, key=lambda i: (i.azure_slot is None, i.name)):
        holders[item.slot].append(item)
    taken = set(holders)
    for slot, found in sorted(holders.items()):
        first = found[0]
        for later in found[1:]:
            named, given = places[later.name]
            where = given if later.azure_slot is not None and given is not None else named
            how = "its azure_slot" if later.azure_slot is not None else "its name"
            free = _free_slot(later.name, count, taken, _probed([i.name for i in items], count))
            taken.add(free)
            line = places[first.name][0].line
            check.at(where, f"{what} '{later.name}' takes Azure priority slot {slot} from "
                            f"{how}, and {what} '{first.name}' (line {line}) has it too: give "
                            f"'{later.name}' a slot of its own: `azure_slot: {free}` (free, "
                            "and where an earlier scadafw put its rules); a rule's priority "
                            "depends only on what the rule is, so scadafw does not pick one")


def _probed(names: list[str], count: int) -> dict[str, int]:
    """The slots scadafw gave before it refused collisions: in name order, a name whose slot
    was held took the next free one. Suggesting these keeps deployed priorities where they are."""
    held: set[int] = set()
    found = {}
    for name in sorted(names):
        slot = name_slot(name, count)
        while slot in held:
            slot = (slot + 1) % count
        held.add(slot)
        found[name] = slot
    return found


def _free_slot(name: str, count: int, taken: set[int], probed: dict[str, int]) -> int:
    """The slot the entry had before, if nothing holds it now, else the next free one."""
    if probed[name] not in taken:
        return probed[name]
    start = name_slot(name, count)
    for step in range(count):
        slot = (start + step) % count
        if slot not in taken:
            return slot
    return start  # every slot held: the topology's limits keep this from happening
