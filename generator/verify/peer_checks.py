"""Exactness for the peers of topology version 2: clients, ICMP monitors, outstations, and a
host that is none of them.

Probes stand for each peer: one address inside each of its networks, and an outsider, an
address in no named network. Inbound, every probe is tried against every server on every
port and protocol the module opens inbound anywhere (the server port, the web ports, the
listen ports, ICMP echo): it must pass exactly where a flow names the probe's network, the
server's role group and that traffic, so a client reaches exactly its services on exactly its
groups, and the outsider reaches nothing. Outbound (advise callbacks, monitor pings, driver
polls), every expected flow must pass; an unexpected one counts only where the module is what
refuses it: on AWS when the module's groups are the servers' only groups (`strict_outbound`),
and for the DMZ standby's server port and ICMP, which its Azure NSG denies to anything.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from dataclasses import dataclass

from generator.intent.flows import Flow as PeerFlow
from generator.intent.flows import peer_flows
from generator.intent.matrix import MONITOR
from generator.intent.services import ICMP_ECHO_REQUEST
from generator.model import Address, Network, RoleGroup, System
from generator.verify.reachability import Check, Decision, Endpoint, Traffic

Decide = Callable[[Endpoint, Endpoint, Traffic], Decision]
_OUTSIDERS = ("10.255.255.200", "172.31.255.200", "192.168.255.200", "100.127.255.200")


@dataclass(frozen=True)
class Probe:
    endpoint: Endpoint
    flows: tuple[PeerFlow, ...]  # the flows whose networks hold the probe's address


def _inside(network: Network) -> Address:
    """A host address inside `network`: the first usable one, or the address itself."""
    if network.num_addresses > 2:
        return network.network_address + 1
    return network.network_address


def _holds(flow: PeerFlow, address: Address) -> bool:
    return any(address.version == n.version and address in n for n in flow.networks)


def probes(system: System) -> list[Probe]:
    flows = peer_flows(system)
    found: dict[Address, str] = {}
    partners = {a: s.name for s in system.partners for a in s.addresses}
    for flow in flows:
        for network in flow.networks:
            label = flow.peer if flow.kind != MONITOR else "icmp monitor"
            address = _inside(network)
            found.setdefault(address, partners.get(address, label))
    for partner in system.partners:  # every server elsewhere, with a flow here or not
        for address in partner.addresses:
            found.setdefault(address, partner.name)
    named = [n for f in flows for n in f.networks]
    servers = {a for s in system.servers for a in s.addresses}
    for text in _OUTSIDERS:
        outsider = ipaddress.ip_address(text)
        if outsider not in servers and not any(outsider in n for n in named
                                               if n.version == 4):
            found[outsider] = "outsider"
            break
    return [Probe(Endpoint(f"{label} {address}", (address,)),
                  tuple(f for f in flows if _holds(f, address)))
            for address, label in sorted(found.items(), key=lambda i: (i[0].version, i[0]))]


def _matches(flow: PeerFlow, traffic: Traffic) -> bool:
    if flow.protocol != traffic.protocol:
        return False
    return any(lo <= traffic.port <= hi for lo, hi in flow.ports)


def _inbound_traffic(system: System) -> list[Traffic]:
    opened = {Traffic("tcp", system.port), Traffic("icmp", ICMP_ECHO_REQUEST)}
    for flow in peer_flows(system):
        if flow.inbound:
            opened.update(Traffic(flow.protocol, lo) for lo, _ in flow.ports)
    return sorted(opened, key=lambda t: (t.protocol, t.port))


def _outbound_traffic(system: System) -> list[Traffic]:
    sent = {Traffic("tcp", system.port), Traffic("icmp", ICMP_ECHO_REQUEST)}
    for flow in peer_flows(system):
        if not flow.inbound:
            sent.update(Traffic(flow.protocol, lo) for lo, _ in flow.ports)
            sent.update(Traffic(flow.protocol, hi) for _, hi in flow.ports)
    return sorted(sent, key=lambda t: (t.protocol, t.port))


def _fits(traffic: Traffic, address: Address) -> bool:
    """ICMP is one address family, ICMPv6 the other."""
    if traffic.protocol == "icmp":
        return address.version == 4
    if traffic.protocol == "icmpv6":
        return address.version == 6
    return True


def peer_checks(system: System, target: str, decide: Decide, strict_outbound: bool,
                dmz_outbound_denied: bool) -> list[Check]:
    """`strict_outbound`: the module's groups are all the servers have (AWS in moto without
    Terraform), so every unexpected outbound flow counts. `dmz_outbound_denied`: the module
    denies the DMZ standby's server port and ICMP to anything (Azure)."""
    checks: list[Check] = []
    inbound, outbound = _inbound_traffic(system), _outbound_traffic(system)
    for probe in probes(system):
        (address,) = probe.endpoint.addresses
        for server in system.servers:
            here = Endpoint.of(server)
            for traffic in (t for t in inbound if _fits(t, address)):
                expected = any(f.inbound and f.group is server.group and _matches(f, traffic)
                               for f in probe.flows)
                checks.append(_check(target, probe.endpoint, here, traffic, expected,
                                     decide(probe.endpoint, here, traffic)))
            for traffic in (t for t in outbound if _fits(t, address)):
                expected = any(not f.inbound and f.group is server.group
                               and _matches(f, traffic) for f in probe.flows)
                dmz_refuses = (dmz_outbound_denied
                               and server.group is RoleGroup.DMZ_PERMANENT_STANDBY
                               and traffic in (Traffic("tcp", system.port),
                                               Traffic("icmp", ICMP_ECHO_REQUEST)))
                if expected or strict_outbound or dmz_refuses:
                    checks.append(_check(target, here, probe.endpoint, traffic, expected,
                                         decide(here, probe.endpoint, traffic)))
    return checks


def _check(target: str, src: Endpoint, dst: Endpoint, traffic: Traffic, expected: bool,
           decision: Decision) -> Check:
    return Check(target, src.name, dst.name, traffic.label, expected, decision.allowed,
                 decision.because)

