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


def _nobody(rest: AddressSet) -> list[str]:
    """What no party holds: as its prefixes, or as a whole family but a few prefixes."""
    out = []
    for version in (4, 6):
        part = rest.only(version)
        if not part:
            continue
        hole = AddressSet.everything(version) - part
        if len(hole.cidrs) < len(part.cidrs):
            out.append(f"every IPv{version} address but {hole}")
        else:
            out.append(str(part))
    return out


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
