"""One flow type: a party opens a service towards another party.

An `End` is the servers of one role group (in the module's view), or a party that is not such
a group: the servers of a role group in another network (a partner, named by its addresses), a
client, the ICMP monitor hosts of a role group, an outstation. `flows(view)` expands the two
matrices (generator/intent/matrix.py) for one system as one module sees it; every target
translates these flows into its own rules, and the judge expands them to addresses
(generator/intent/links.py).
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, replace
from functools import cached_property, lru_cache

from generator.intent.matrix import (
    CLIENT,
    MONITOR,
    OUTSTATION,
    PARTNER,
    PEER_MATRIX,
    SERVER_MATRIX,
    SERVER_SERVICES,
    PeerRow,
    server_allows,
    server_purposes,
)
from generator.intent.services import (
    ICMP,
    ICMPV6,
    SERVER_PORT,
    Ports,
    Purpose,
    service_label,
    service_ports,
)
from generator.model import MONITORS_NAME, ClientService, Network, RoleGroup, Server, System

GROUP = "group"


@dataclass(frozen=True, order=True)
class End:
    """One end of a flow: `group` is the servers' role group (for GROUP and PARTNER ends),
    `networks` the addresses of a party that is not a group of this module."""

    kind: str  # GROUP | PARTNER | CLIENT | MONITOR | OUTSTATION
    name: str
    group: RoleGroup | None = None
    networks: tuple[Network, ...] = ()

    @classmethod
    def of(cls, group: RoleGroup) -> End:
        return cls(GROUP, group.value, group)

    @property
    def is_group(self) -> bool:
        return self.kind == GROUP


@dataclass(frozen=True, order=True)
class Flow:
    source: End
    destination: End
    service: str  # a service key (generator/intent/services.py)
    protocol: str  # tcp | udp | icmp | icmpv6
    ports: Ports
    purposes: tuple[Purpose, ...]

    @cached_property
    def between_groups(self) -> bool:
        return self.source.is_group and self.destination.is_group

    @cached_property
    def groups(self) -> tuple[RoleGroup, RoleGroup]:
        """The source's and the destination's role groups, of a flow between groups."""
        src, dst = self.source.group, self.destination.group
        if src is None or dst is None:
            raise ValueError(f"not a flow between role groups: {self}")
        return src, dst

    # A flow with one role group of this module and one other party ("peer"):
    @property
    def inbound(self) -> bool:
        """The peer opens the connection towards the module's servers."""
        return self.destination.is_group

    @property
    def local(self) -> End:
        return self.destination if self.inbound else self.source

    @property
    def far(self) -> End:
        return self.source if self.inbound else self.destination

    @property
    def group(self) -> RoleGroup:
        group = self.local.group
        assert group is not None
        return group

    @property
    def kind(self) -> str:
        return self.far.kind

    @property
    def peer(self) -> str:
        return self.far.name

    @property
    def networks(self) -> tuple[Network, ...]:
        return self.far.networks

    @property
    def direction(self) -> str:
        """Azure's word for the side of the module's servers the flow crosses."""
        return "Inbound" if self.inbound else "Outbound"

    def on(self, ports: tuple[int, int]) -> Flow:
        """The same flow on one of its port ranges (a rule per port, where a target needs)."""
        return replace(self, ports=(ports,))

    def with_peer_named(self, name: str) -> Flow:
        """The same flow with the peer under another name (what a renamed peer's was)."""
        far = replace(self.far, name=name)
        return replace(self, source=far) if self.inbound else replace(self, destination=far)

    @cached_property
    def is_icmp(self) -> bool:
        return self.protocol in (ICMP, ICMPV6)

    @cached_property
    def label(self) -> str:
        return service_label(self.protocol, self.ports)

    def port_text(self) -> str:
        if self.is_icmp:
            return f"echo-request (type {self.ports[0][0]})"
        return ", ".join(str(lo) if lo == hi else f"{lo}-{hi}" for lo, hi in self.ports)

    @property
    def why(self) -> str:
        return ", ".join(p.short for p in self.purposes)

    def description(self) -> str:
        """A rule description (AWS's character set, Azure's 140 characters)."""
        if self.between_groups:
            src, dst = self.groups
            return f"Geo SCADA {src.slug} to {dst.slug}, {self.label}: {self.why}"
        peer = f"{self.peer} (other network)" if self.kind == PARTNER else self.peer
        way = f"{peer} to {self.group.slug}" if self.inbound else f"{self.group.slug} to {peer}"
        text = f"Geo SCADA {way}, {self.protocol.upper()} {self.port_text()}: {self.why}"
        return text[:140]


def former_name(system: System, flow: Flow) -> str:
    """The name a flow's client or outstation had before (`renamed_from`), or ""."""
    entries = (system.clients if flow.kind == CLIENT else
               system.outstations if flow.kind == OUTSTATION else ())
    return next((e.renamed_from for e in entries if e.name == flow.peer), "")


# The flows between role groups depend on which role groups hold servers, how many of them,
# which speak IPv6, and the server ports: nothing else of a system (no name, no address). A
# fleet has a handful of such shapes, so each is worked out once per run, and the systems that
# share it share its flows (and what is derived from them: the rules, generator/targets/).
_SHAPES: dict[tuple[object, ...], tuple[Flow, ...]] = {}


def _server_flows(system: System) -> list[Flow]:
    shape = (tuple(sorted((s.group.index, s.has_ipv6) for s in system.servers)),
             system.server_ports)
    found = _SHAPES.get(shape)
    if found is None:
        if len(_SHAPES) >= 1024:
            _SHAPES.clear()
        found = _SHAPES[shape] = tuple(server_flows_of(system))
    return list(found)


def server_flows_of(system: System) -> list[Flow]:
    """Between the module's role groups: a flow exists when at least one ordered pair of
    distinct servers needs it, so no rule is emitted that no server pair would use."""
    found = []
    for row in SERVER_MATRIX:
        for service in SERVER_SERVICES:
            if any(server_allows(a, b, service) for a in system.members(row.source)
                   for b in system.members(row.destination)):
                protocol, ports = service_ports(system, service)
                purposes = server_purposes(row.source, row.destination, service) or ()
                found.append(Flow(End.of(row.source), End.of(row.destination), service,
                                  protocol, ports, purposes))
    return found


def _between(local: RoleGroup, inbound: bool, far: End, service: str, protocol: str,
             ports: Ports, purpose: Purpose) -> Flow:
    here = End.of(local)
    src, dst = (far, here) if inbound else (here, far)
    return Flow(src, dst, service, protocol, ports, (purpose,))


def _groups_for(row: PeerRow, system: System, reach: tuple[RoleGroup, ...]) -> list[RoleGroup]:
    wanted = reach if row.groups == "connects_to" else (
        (RoleGroup.REDUNDANT,) if row.groups == "redundant" else tuple(RoleGroup))
    return [g for g in system.groups if g in wanted]


def _client_flows(system: System, row: PeerRow) -> list[Flow]:
    found = []
    protocol, ports = service_ports(system, row.service)
    for client in system.clients:
        if ClientService(row.service) not in client.services:
            continue
        far = End(CLIENT, client.name, networks=client.sources)
        for group in _groups_for(row, system, client.connects_to):
            found.append(_between(group, row.inbound, far, row.service, protocol, ports,
                                  row.purpose))
    return found


def _host(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> Network:
    """A host address as the /32 or /128 network a rule names."""
    return ipaddress.ip_network(address)


def _monitor_flows(system: System, row: PeerRow) -> list[Flow]:
    """A role group may ping the monitor hosts of any of its servers: any of them may hold the
    role whose monitors those are after a failover (inferred; rules are per role group)."""
    found = []
    for group in system.groups:
        hosts = sorted({h for s in system.members(group) for h in s.icmp_monitors},
                       key=lambda a: (a.version, a))
        for version, service in ((4, ICMP), (6, ICMPV6)):
            chosen = tuple(_host(h) for h in hosts if h.version == version)
            if chosen:
                protocol, ports = service_ports(system, service)
                far = End(MONITOR, MONITORS_NAME, networks=chosen)
                found.append(_between(group, row.inbound, far, service, protocol, ports,
                                      row.purpose))
    return found


def _outstation_flows(system: System, row: PeerRow) -> list[Flow]:
    found = []
    for station in system.outstations:
        protocol, ports = service_ports(system, row.service, station)
        if not ports:
            continue
        far = End(OUTSTATION, station.name, networks=station.addresses)
        for group in _groups_for(row, system, ()):
            found.append(_between(group, row.inbound, far, row.service, protocol, ports,
                                  row.purpose))
    return found


def partner_name(server: Server) -> str:
    """How a module names servers of another network: by network and role group."""
    return f"{server.network}-{server.group.slug}"


def _partner_flows(system: System) -> list[Flow]:
    """The server matrix between this module's servers and those of other networks, named by
    their host addresses (topology version 2 with `networks`)."""
    hosts: dict[tuple[RoleGroup, bool, str, str], set[Network]] = {}
    groups: dict[str, RoleGroup] = {}
    purposes: dict[tuple[RoleGroup, bool, str, str], tuple[Purpose, ...]] = {}
    for local in system.servers:
        for remote in system.partners:
            for service in SERVER_SERVICES:
                for inbound, (src, dst) in ((False, (local, remote)), (True, (remote, local))):
                    if not server_allows(src, dst, service):
                        continue
                    version = {SERVER_PORT: 0, ICMP: 4, ICMPV6: 6}[service]
                    found = {_host(a) for a in remote.addresses if version in (0, a.version)}
                    if not found:
                        continue
                    key = (local.group, inbound, partner_name(remote), service)
                    hosts.setdefault(key, set()).update(found)
                    groups[partner_name(remote)] = remote.group
                    purposes[key] = server_purposes(src.group, dst.group, service) or ()
    flows = []
    for key, networks in hosts.items():
        group, inbound, name, service = key
        protocol, ports = service_ports(system, service)
        why = purposes[key]
        far = End(PARTNER, name, groups[name],
                  tuple(sorted(networks, key=lambda n: (n.version, n))))
        merged = Purpose(", ".join(p.short for p in why), "; ".join(p.text for p in why))
        flows.append(_between(group, inbound, far, service, protocol, ports, merged))
    return flows


def _order(flow: Flow) -> tuple[object, ...]:
    if flow.between_groups:
        src, dst = flow.groups
        return (0, src.index, dst.index, SERVER_SERVICES.index(flow.service))
    return (1, flow.group.index, not flow.inbound, flow.kind, flow.peer, flow.service)


@lru_cache(maxsize=256)
def flows(system: System) -> tuple[Flow, ...]:
    """Every flow of one module's view of a system, in a stable order: between its role
    groups first, then with every other party."""
    found = _server_flows(system) + _partner_flows(system)
    for row in PEER_MATRIX:
        expand = {CLIENT: _client_flows, MONITOR: _monitor_flows,
                  OUTSTATION: _outstation_flows}[row.kind]
        found += expand(system, row)
    return tuple(sorted(found, key=_order))


def group_flows(system: System) -> tuple[Flow, ...]:
    """The flows between the module's role groups (a security group or ASG reference)."""
    return tuple(f for f in flows(system) if f.between_groups)


def peer_flows(system: System) -> tuple[Flow, ...]:
    """The flows between a role group and a party named by its addresses."""
    return tuple(f for f in flows(system) if not f.between_groups)
