"""What a topology may not say, found on its flows: a party's networks that hold a server's
address where that gives the server a flow its role forbids, and two entries that would write
one rule twice.

A server inside a client's, outstation's or monitor's networks is that party as far as any
firewall can tell: every flow the party has, the server has. That is harmless where the server
matrix gives the server the same flow anyway (a control-room network holding the redundant
servers, ViewX on the server port to redundant and permanent standbys) and wrong anywhere else
(the DMZ standby inside a jump-host network that reaches the redundant servers).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from generator.intent.flows import Flow, flows
from generator.intent.matrix import CLIENT, MONITOR, OUTSTATION, server_allows
from generator.intent.services import ICMP, ICMPV6, SERVER_PORT, service_ports
from generator.model import Network, Server, System


@dataclass(frozen=True)
class Conflict:
    kind: str  # CLIENT | OUTSTATION | MONITOR: the party whose networks hold the server
    party: str  # its name (for monitors: the server whose `icmp_monitors` name the address)
    network: Network
    server: Server
    message: str


def _matrix_service(system: System, protocol: str, ports: tuple[tuple[int, int], ...]) -> str:
    """The server-matrix service these ports are, or "" where they are none of them."""
    if protocol == "icmp":
        return ICMP
    if protocol == "icmpv6":
        return ICMPV6
    if protocol == "tcp" and ports == service_ports(system, SERVER_PORT)[1]:
        return SERVER_PORT
    return ""


def _owner(flow: Flow, system: System) -> str:
    """Whose `icmp_monitors` a monitor flow's networks come from, for the message."""
    hosts = set(flow.networks)
    for server in system.members(flow.group):
        if any(n.network_address in server.icmp_monitors for n in hosts):
            return server.name
    return flow.group.value


def conflicts(system: System) -> Iterator[Conflict]:
    for flow in flows(system):
        if flow.between_groups or flow.kind not in (CLIENT, OUTSTATION, MONITOR):
            continue
        service = _matrix_service(system, flow.protocol, flow.ports)
        for network in flow.networks:
            for server in system.servers:
                inside = [a for a in server.addresses if a.version == network.version
                          and a in network]
                if not inside:
                    continue
                others = [t for t in system.members(flow.group) if t.name != server.name]
                if flow.inbound:
                    wrong = [t for t in others
                             if not (service and server_allows(server, t, service))]
                else:
                    wrong = [t for t in others
                             if not (service and server_allows(t, server, service))]
                if not wrong:
                    continue
                party = _owner(flow, system) if flow.kind == MONITOR else flow.peer
                towards = ", ".join(t.name for t in wrong)
                way = (f"{server.name} would open {flow.label} to {towards}" if flow.inbound
                       else f"{towards} would open {flow.label} to {server.name}")
                yield Conflict(flow.kind, party, network, server, (
                    f"{network} holds server {server.name} ({inside[0]}, "
                    f"{server.role.value}): {way}, which the server matrix never allows; "
                    f"name the {'hosts' if flow.kind == MONITOR else 'networks'} without it"))


@dataclass(frozen=True)
class Duplicate:
    first: str  # the party that has the rule first (in flow order)
    second: str  # the one that would write it again
    network: Network
    rule: str  # "TCP 5481 from 10.1.0.0/24 to redundant servers"


def duplicates(system: System) -> Iterator[Duplicate]:
    """Two parties whose flows would write one rule twice: the same role group, direction,
    protocol, port range and network (AWS refuses the second as a duplicate)."""
    seen: dict[tuple[object, ...], str] = {}
    reported: set[tuple[str, str, Network]] = set()
    for flow in flows(system):
        if flow.between_groups or flow.kind not in (CLIENT, OUTSTATION):
            continue
        for network in flow.networks:
            for ports in flow.ports:
                key = (flow.group, flow.inbound, flow.protocol, ports, network)
                first = seen.setdefault(key, flow.peer)
                if first == flow.peer or (first, flow.peer, network) in reported:
                    continue
                reported.add((first, flow.peer, network))
                low, high = ports
                text = f"{flow.protocol.upper()} {low}" + ("" if low == high else f"-{high}")
                way = (f"from {network} to {flow.group.slug} servers" if flow.inbound
                       else f"from {flow.group.slug} servers to {network}")
                yield Duplicate(first, flow.peer, network, f"{text} {way}")
