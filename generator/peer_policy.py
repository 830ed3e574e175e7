"""Beyond the server pair, as data: clients, web users, advise callbacks, ICMP monitors and
field devices (DOMAIN.md, "Beyond the server pair"), one row per line of that table.

A `PeerRow` says which role groups a kind of peer talks to, on which service, and who opens
the connection; `peer_flows` expands the rows for one system into `PeerFlow`s, one per role
group, peer and service, each naming the peer's networks. Rules are still written per role
group, never per server.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from functools import lru_cache

from generator.model import Address, ClientService, Network, RoleGroup, Server, System
from generator.policy import (
    FLOW_MATRIX,
    ICMP_ECHO_REQUEST,
    ICMPV6_ECHO_REQUEST,
    Flow,
    Purpose,
    Service,
    server_allows,
)
from generator.topology_peers import MONITORS_NAME

CLIENT, MONITOR, OUTSTATION, PARTNER = "client", "monitor", "outstation", "partner"
MONITORS_PEER = MONITORS_NAME  # the peer name of a role group's monitor hosts

# DOMAIN.md, "Beyond the server pair", row by row.
VIEWX = Purpose("ViewX and API clients",
                "ViewX, client tools, ODBC, COM and .NET API, OPC DA clients on the server port "
                "(KB 278603)")
WEB = Purpose("web clients", "web clients, web API and mimic scripts through IIS (2022 help)")
ADVISE = Purpose("server advise", "server advise callbacks to clients older than Geo SCADA "
                                  "2020 (2020 help)")
MONITOR_POLL = Purpose("ICMP monitor", "ICMP monitor hosts the server pings (2022 help)")
DRIVER_POLL = Purpose("driver polls", "drivers of the Main polling outstations (2021 help)")
UNSOLICITED = Purpose("unsolicited", "outstations connecting in on a channel listen port "
                                     "(2021 help)")


@dataclass(frozen=True)
class PeerRow:
    kind: str  # CLIENT | MONITOR | OUTSTATION
    service: str  # viewx | web | advise | icmp | poll | listen
    inbound: bool  # True: the peer opens the connection towards the server
    groups: str  # "connects_to" (the client's), "own" (the server's own hosts), "redundant"
    purpose: Purpose


PEER_MATRIX: tuple[PeerRow, ...] = (
    PeerRow(CLIENT, ClientService.VIEWX.value, True, "connects_to", VIEWX),
    PeerRow(CLIENT, ClientService.WEB.value, True, "connects_to", WEB),
    PeerRow(CLIENT, ClientService.ADVISE.value, False, "connects_to", ADVISE),
    PeerRow(MONITOR, "icmp", False, "own", MONITOR_POLL),
    # only the Main runs drivers, and any redundant server may be the Main; never a permanent
    # or DMZ standby
    PeerRow(OUTSTATION, "poll", False, "redundant", DRIVER_POLL),
    PeerRow(OUTSTATION, "listen", True, "redundant", UNSOLICITED),
)

Ports = tuple[tuple[int, int], ...]  # port ranges (low, high); ICMP: the type, twice


@dataclass(frozen=True, order=True)
class PeerFlow:
    """One service between the servers of a role group and one peer's networks."""

    group: RoleGroup
    inbound: bool
    kind: str
    peer: str
    service: str
    protocol: str  # tcp | udp | icmp | icmpv6
    ports: Ports
    networks: tuple[Network, ...]
    purpose: Purpose

    @property
    def is_icmp(self) -> bool:
        return self.protocol in ("icmp", "icmpv6")

    def port_text(self) -> str:
        if self.is_icmp:
            return f"echo-request (type {self.ports[0][0]})"
        return ", ".join(str(lo) if lo == hi else f"{lo}-{hi}" for lo, hi in self.ports)

    def description(self) -> str:
        """A rule description (AWS's character set, Azure's 140 characters)."""
        peer = f"{self.peer} (other network)" if self.kind == PARTNER else self.peer
        way = (f"{peer} to {self.group.slug}" if self.inbound
               else f"{self.group.slug} to {peer}")
        text = f"Geo SCADA {way}, {self.protocol.upper()} {self.port_text()}: {self.purpose.short}"
        return text[:140]


def _groups_for(row: PeerRow, system: System, reach: tuple[RoleGroup, ...]) -> list[RoleGroup]:
    wanted = reach if row.groups == "connects_to" else (
        (RoleGroup.REDUNDANT,) if row.groups == "redundant" else tuple(RoleGroup))
    return [g for g in system.groups if g in wanted]


def _client_flows(system: System, row: PeerRow) -> list[PeerFlow]:
    flows = []
    ports: Ports = {
        ClientService.VIEWX.value: ((system.port, system.port),),
        ClientService.WEB.value: tuple((p, p) for p in system.web_ports),
        ClientService.ADVISE.value: (system.advise_ports,),
    }[row.service]
    for client in system.clients:
        if ClientService(row.service) not in client.services:
            continue
        for group in _groups_for(row, system, client.connects_to):
            flows.append(PeerFlow(group, row.inbound, CLIENT, client.name, row.service, "tcp",
                                  ports, client.sources, row.purpose))
    return flows


def _monitor_flows(system: System, row: PeerRow) -> list[PeerFlow]:
    """A role group may ping the monitor hosts of any of its servers: any of them may hold the
    role whose monitors those are after a failover (inferred; rules are per role group)."""
    flows = []
    for group in system.groups:
        hosts = sorted({h for s in system.members(group) for h in s.icmp_monitors},
                       key=lambda a: (a.version, a))
        for version, protocol, icmp_type in ((4, "icmp", ICMP_ECHO_REQUEST),
                                             (6, "icmpv6", ICMPV6_ECHO_REQUEST)):
            chosen = tuple(_host_network(h) for h in hosts if h.version == version)
            if chosen:
                flows.append(PeerFlow(group, row.inbound, MONITOR, MONITORS_PEER, protocol,
                                      protocol, ((icmp_type, icmp_type),), chosen, row.purpose))
    return flows


def _host_network(address: Address) -> Network:
    """A host address as the /32 or /128 network a rule names."""
    return ipaddress.ip_network(address)


def _outstation_flows(system: System, row: PeerRow) -> list[PeerFlow]:
    flows = []
    for station in system.outstations:
        ports = station.ports if row.service == "poll" else station.listen_ports
        if not ports:
            continue
        for group in _groups_for(row, system, ()):
            flows.append(PeerFlow(group, row.inbound, OUTSTATION, station.name, row.service,
                                  station.protocol, tuple((p, p) for p in ports),
                                  station.addresses, row.purpose))
    return flows


def partner_name(server: Server) -> str:
    """How a module names servers of another network: by network and role group."""
    return f"{server.network}-{server.group.slug}"


def _partner_flows(system: System) -> list[PeerFlow]:
    """The server flow matrix between this module's servers and those of other networks, named
    by their host addresses (topology version 2 with `networks`; DESIGN: partners elsewhere)."""
    found: dict[tuple[RoleGroup, bool, str, str], set[Network]] = {}
    purposes: dict[tuple[RoleGroup, bool, str, str], tuple[Purpose, ...]] = {}
    for local in system.servers:
        for remote in system.partners:
            for service in Service:
                for inbound, (src, dst) in ((False, (local, remote)), (True, (remote, local))):
                    if not server_allows(src, dst, service):
                        continue
                    protocol, version = {Service.SERVER_PORT: ("tcp", 0),
                                         Service.ICMP_ECHO: ("icmp", 4),
                                         Service.ICMPV6_ECHO: ("icmpv6", 6)}[service]
                    hosts = {_host_network(a) for a in remote.addresses
                             if version in (0, a.version)}
                    if not hosts:
                        continue
                    key = (local.group, inbound, partner_name(remote), protocol)
                    found.setdefault(key, set()).update(hosts)
                    rule = next(r for r in FLOW_MATRIX
                                if r.source is src.group and r.destination is dst.group)
                    purposes[key] = Flow(src.group, dst.group, service,
                                         rule.purposes).service_purposes
    flows = []
    for key, hosts in found.items():
        group, inbound, peer, protocol = key
        port = (system.port if protocol == "tcp" else
                ICMP_ECHO_REQUEST if protocol == "icmp" else ICMPV6_ECHO_REQUEST)
        why = purposes[key]
        flows.append(PeerFlow(group, inbound, PARTNER, peer, protocol, protocol, ((port, port),),
                              tuple(sorted(hosts, key=lambda n: (n.version, n))),
                              Purpose(", ".join(p.short for p in why),
                                      "; ".join(p.text for p in why))))
    return flows


@lru_cache(maxsize=256)
def peer_flows(system: System) -> tuple[PeerFlow, ...]:
    """Every flow between the system's role groups and its peers, in a stable order."""
    flows: list[PeerFlow] = _partner_flows(system)
    for row in PEER_MATRIX:
        expand = {CLIENT: _client_flows, MONITOR: _monitor_flows,
                  OUTSTATION: _outstation_flows}[row.kind]
        flows += expand(system, row)
    return tuple(sorted(flows, key=lambda f: (f.group.index, not f.inbound, f.kind, f.peer,
                                              f.service)))


def inbound_services(system: System) -> tuple[tuple[str, Ports], ...]:
    """Every (protocol, ports) the module opens inbound from outside the system, beyond the
    server port and ICMP: what the Azure denies must cover."""
    found: dict[str, set[tuple[int, int]]] = {}
    for flow in peer_flows(system):
        if flow.inbound and not flow.is_icmp:
            found.setdefault(flow.protocol, set()).update(flow.ports)
    found.get("tcp", set()).discard((system.port, system.port))
    return tuple((p, tuple(sorted(found[p]))) for p in ("tcp", "udp") if found.get(p))
