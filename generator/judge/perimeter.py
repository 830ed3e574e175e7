"""The plant's perimeter firewall as gates: the terms of one on-premises network's policy, as
read back by generator/sources/perimeter_policy.py.

Semantics (aerleon's policy model; docs/design.md, "The plant's perimeter"): terms in order,
the first that matches decides, then the platform's default, a drop. A term matches on
protocol, destination port (ICMP: the type), source and destination address; an end or port
left out matches anything. An `established` term matches replies only, never a new
connection, so it decides nothing here (the gates judge connections as they open).
The perimeter stands between this network and everything else: a far end that is a server
inside the same network never crosses it (the side's `own` addresses).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

from generator.judge.addresses import AddressSet
from generator.judge.gates import FirstMatch, Gate
from generator.judge.rules import Action, Rule
from generator.judge.sides import Link, Side
from generator.sources.perimeter_policy import PerimeterPolicy, Term

DEFAULT = "the perimeter's default (drop)"


def _holds(networks: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] | None,
           address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    return networks is None or any(address in n for n in networks)


def _peers(networks: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] | None
           ) -> AddressSet:
    return AddressSet.everything() if networks is None else AddressSet.of(*networks)


def perimeter_gate(policy: PerimeterPolicy, link: Link, inbound: bool) -> Gate:
    """The terms that apply to one side of one link: inbound, those whose destination holds
    the link's address (the far end is the source); outbound, those whose source does."""
    ordered = []
    for term in policy.terms:
        if term.established:
            continue
        near, far = (term.destination, term.source) if inbound else (term.source,
                                                                     term.destination)
        if not _holds(near, link.address):
            continue
        ordered.append(_rule(term, far, policy.path.name))
    return FirstMatch("perimeter", ordered, False, DEFAULT)


def _rule(term: Term, far: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] | None,
          file: str) -> Rule:
    return Rule(f"{file} term {term.name}", Action.ALLOW if term.allow else Action.DENY,
                None if term.protocol is None else frozenset({term.protocol}), term.ports,
                _peers(far))


def perimeter_sides(policy: PerimeterPolicy, links: Iterable[tuple[Link, AddressSet]],
                    inside: AddressSet) -> list[Side]:
    """Both sides of every link of the network; `inside`: its servers' addresses, which
    never cross the perimeter."""
    return [Side(link, inbound, [perimeter_gate(policy, link, inbound)], own | inside)
            for link, own in links for inbound in (True, False)]
