"""The intent at the judge's grain: for every server address of a module (a link), the exact
addresses the topology names on each side, per protocol and ports.

A flow between role groups names every member's addresses; a flow with a client, an
outstation, monitor hosts or a partner in another network names its networks. A server that
lists no address is given a stand-in (`stand_ins`): a host in 198.18.0.0/15, the range kept
for benchmarking, outside every network the topology names, so that verify can judge a module
of a version-1 file without addresses by the same sets.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass, field

from generator.intent.flows import End, flows
from generator.intent.services import Ports, system_services
from generator.judge.addresses import AddressSet, union
from generator.judge.naming import Party
from generator.judge.sides import Link, Want
from generator.model import Address, Server, System

STAND_IN_RANGE = ipaddress.ip_network("198.18.0.0/15")


def stand_ins(system: System) -> dict[str, Address]:
    """A stand-in address for each server of `system` that lists none."""
    named = [n for c in system.clients for n in c.sources]
    named += [n for o in system.outstations for n in o.addresses]
    taken = {a for s in (*system.servers, *system.partners) for a in s.addresses}
    found: dict[str, Address] = {}
    hosts = STAND_IN_RANGE.hosts()
    for server in system.servers:
        if server.addresses:
            continue
        for candidate in hosts:
            if candidate not in taken and not any(candidate in n for n in named
                                                  if n.version == 4):
                found[server.name] = candidate
                break
    return found


def addresses_of(server: Server, stand_in: Mapping[str, Address]) -> tuple[Address, ...]:
    return server.addresses or ((stand_in[server.name],) if server.name in stand_in else ())


@dataclass
class LinkIntent:
    """What the judge compares with, for one module's view of a system."""

    links: list[tuple[Server, Link]]
    wants: dict[tuple[Link, bool], list[Want]] = field(default_factory=dict)
    scope: dict[str, Ports] = field(default_factory=dict)
    parties: list[Party] = field(default_factory=list)
    own: dict[str, AddressSet] = field(default_factory=dict)  # server -> its addresses

    def of(self, link: Link, inbound: bool) -> list[Want]:
        return self.wants.get((link, inbound), [])


def expand(view: System, stand_in: Mapping[str, Address] | None = None) -> LinkIntent:
    stand_in = stand_in or {}
    links = [(s, Link(s.name, a)) for s in view.servers for a in addresses_of(s, stand_in)]
    found = LinkIntent(links, scope=system_services(view))
    members = {g: union(AddressSet.of(link.address) for s, link in links if s.group is g)
               for g in view.groups}

    def addresses(end: End) -> AddressSet:
        if end.is_group and end.group is not None:
            return members.get(end.group, AddressSet())
        return AddressSet.of(*end.networks)

    for flow in flows(view):
        sources, destinations = addresses(flow.source), addresses(flow.destination)
        why = f"{flow.source.name} to {flow.destination.name}: {flow.why}"
        for server, link in links:
            if flow.destination.is_group and server.group is flow.destination.group:
                found.wants.setdefault((link, True), []).append(
                    Want(flow.protocol, flow.ports, sources, why))
            if flow.source.is_group and server.group is flow.source.group:
                found.wants.setdefault((link, False), []).append(
                    Want(flow.protocol, flow.ports, destinations, why))
    for server in view.servers:
        found.own[server.name] = AddressSet.of(*addresses_of(server, stand_in))
        found.parties.append(Party(server.name, found.own[server.name]))
    for partner in view.partners:
        found.parties.append(Party(partner.name, AddressSet.of(*partner.addresses)))
    found.parties += [Party(f"client {c.name}", AddressSet.of(*c.sources)) for c in view.clients]
    found.parties += [Party(f"outstation {o.name}", AddressSet.of(*o.addresses))
                      for o in view.outstations]
    for group in view.groups:
        hosts = AddressSet.of(*(h for s in view.members(group) for h in s.icmp_monitors))
        if hosts:
            found.parties.append(Party(f"ICMP monitor hosts of {group.value}", hosts))
    return found
