"""Address sets told in the topology's words: which part is which server, client, outstation or
monitor host, and what is nobody's ("anyone else"), each part as exact prefixes."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from generator.judge.addresses import AddressSet


@dataclass(frozen=True)
class Party:
    name: str  # "scada-b", "client corporate", "outstation wells-dnp3", ...
    addresses: AddressSet


def _span(part: AddressSet) -> AddressSet:
    """The fewest prefixes around `part` (one family): its hull, widened to whole prefixes."""
    spans = part.v4 or part.v6
    low, high = spans[0][0], spans[-1][1]
    bits = 32 if part.v4 else 128
    size = 1
    while size < bits and (low >> size) != (high >> size):
        size += 1
    start, end = (low >> size) << size, ((high >> size) << size) + (1 << size) - 1
    whole = AddressSet(((start, end),), ()) if part.v4 else AddressSet((), ((start, end),))
    return whole if len(whole.cidrs) == 1 else part


def told(part: AddressSet) -> str:
    """One family's addresses, the shorter way: as prefixes, or as the prefix around them
    but its holes ("10.10.0.0/16 but 10.10.1.10/32"; "every IPv4 address but ...")."""
    around = _span(part)
    holes = around - part
    if holes and len(holes.cidrs) + 1 < len(part.cidrs):
        if around == AddressSet.everything(4) or around == AddressSet.everything(6):
            return f"every IPv{4 if part.v4 else 6} address but {holes}"
        return f"{around} but {holes}"
    return str(part)


def _nobody(rest: AddressSet) -> list[str]:
    """What no party holds, family by family."""
    return [told(rest.only(v)) for v in (4, 6) if rest.only(v)]


def describe(peers: AddressSet, parties: Sequence[Party]) -> str:
    """`peers` as "scada-b 10.10.2.10/32, client corporate 172.16.0.0/16, anyone else ..."."""
    parts: list[str] = []
    rest = peers
    for party in parties:
        hit = rest & party.addresses
        if hit:
            parts.append(f"{party.name} {hit}")
            rest = rest - hit
    if rest:
        parts += [f"anyone else: {text}" if parts else text for text in _nobody(rest)]
    return "; ".join(parts) or "nothing"
