"""The perimeter policy of one on-premises network, as aerleon policy and definitions objects
(docs/design.md, "The plant's perimeter").

Terms, in this order (first match wins):
1. `replies`: aerleon's `established` option, for the stateless renderings only (iptables);
   the stateful platforms pass replies through their session tables, and some of aerleon's
   generators render an `established` term as "permit any any" (Cisco ASA);
2. explicit denies from the DMZ permanent standbys elsewhere, for every service the system
   uses, towards this network's servers; where this network holds a DMZ standby, denies of its
   server port and ICMP echo towards anywhere;
3. one allow per flow with one end a server in this network and the other outside it, with the
   exact addresses of both ends;
4. explicit denies of every service the system uses towards this network's servers, from
   anywhere;
5. then the platform's default (iptables: the FORWARD chain's DROP policy).
Traffic between two servers inside the network does not cross the perimeter and gets no term.
"""

from __future__ import annotations

import hashlib
import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from generator.intent.flows import GROUP, End, Flow, flows
from generator.intent.services import (
    ICMP,
    ICMPV6,
    SERVER_PORT,
    Ports,
    service_ports,
    system_services,
)
from generator.model import Network, Role, RoleGroup, System

NAME_LIMIT = 24  # aerleon's iptables chain names (F_<term>) stay within iptables' limit
EVERYWHERE = ("0.0.0.0/0", "::/0")
ICMP_PROTOCOLS = (ICMP, ICMPV6)
FAMILY = {ICMP: 4, ICMPV6: 6}  # the address family an ICMP term may name
STATELESS = ("iptables",)  # renderings that need the `replies` term


@dataclass
class Policy:
    """An aerleon policy (one filter) and its definitions, built for one network."""

    filename: str
    header: dict[str, Any]
    terms: list[dict[str, Any]] = field(default_factory=list)
    networks: dict[str, dict[str, Any]] = field(default_factory=dict)
    services: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    def policy(self) -> dict[str, Any]:
        return {"filename": self.filename,
                "filters": [{"header": self.header, "terms": self.terms}]}

    def definitions(self) -> dict[str, Any]:
        return {"networks": self.networks, "services": self.services}


def token(*parts: str) -> str:
    return "_".join(p.upper().replace("-", "_") for p in parts if p)


def term_name(*parts: str) -> str:
    """A term name of at most NAME_LIMIT characters: the parts, and where they are too long a
    short hash of them all, so names stay unique and do not depend on the order of terms."""
    full = "-".join(p for p in parts if p).lower().replace("_", "-")
    if len(full) <= NAME_LIMIT:
        return full
    digest = hashlib.sha256(full.encode()).hexdigest()[:5]
    return f"{full[:NAME_LIMIT - 6].rstrip('-')}-{digest}"


_GROUP_SHORT = {RoleGroup.REDUNDANT: "red", RoleGroup.PERMANENT_STANDBY: "ps",
                RoleGroup.DMZ_PERMANENT_STANDBY: "dmz"}


def short(end: End) -> str:
    """A far end in a term name: a partner by its network and role group, a client, an
    outstation or the monitor hosts by name."""
    if end.kind == "partner" and end.group is not None:
        network = end.name.removesuffix(f"-{end.group.slug}")
        return f"{network}-{_GROUP_SHORT[end.group]}"
    return end.name


def _ports_value(ports: Ports) -> list[dict[str, Any]]:
    return [{"port": lo if lo == hi else f"{lo}-{hi}"} for lo, hi in ports]


class _Builder:
    def __init__(self, view: System, headers: dict[str, str]) -> None:
        self.view = view
        name = f"{view.name}-{view.network}"
        self.policy = Policy(name, {"comment": f"scadafw: the Geo SCADA perimeter of "
                                              f"{view.network} ({view.name})",
                                    "targets": headers})
        self.local = {s.name for s in view.servers}

    def network(self, name: str, addresses: Iterable[Network | str], comment: str,
                family: int | None = None) -> str:
        """A named set of prefixes; for one family only (ICMP), where the party has both."""
        every = sorted({ipaddress.ip_network(a) for a in addresses},
                       key=lambda n: (n.version, n))
        chosen = [n for n in every if family in (None, n.version)]
        if chosen != every:
            name = f"{name}_IPV{family}"
        if chosen:
            self.policy.networks[name] = {"values": [{"address": str(n), "comment": comment}
                                                     for n in chosen]}
        return name

    def service(self, name: str, protocol: str, ports: Ports) -> str:
        self.policy.services[name] = [{**p, "protocol": protocol} for p in _ports_value(ports)]
        return name

    def group(self, group: RoleGroup, family: int | None = None) -> str:
        members = [a for s in self.view.members(group) for a in s.addresses]
        hosts = [f"{a}/{a.max_prefixlen}" for a in members]
        return self.network(token(group.value), hosts, f"{group.value} servers here", family)

    def far(self, end: End, family: int | None = None) -> str:
        return self.network(token(end.kind, end.name), end.networks, f"{end.kind} {end.name}",
                            family)

    def service_of(self, flow: Flow, far: End) -> dict[str, Any]:
        if flow.protocol in ICMP_PROTOCOLS:
            return {"protocol": flow.protocol, "icmp-type": ["echo-request"]}
        server_ports = service_ports(self.view, SERVER_PORT)[1]
        name = ("GEOSCADA_SERVER" if flow.protocol == "tcp" and flow.ports == server_ports
                else token(flow.service, far.kind, far.name))
        return {"protocol": flow.protocol,
                "destination-port": self.service(name, flow.protocol, flow.ports)}

    def term(self, name: str, comment: str, action: str, source: str | None,
             destination: str | None, match: dict[str, Any]) -> None:
        term: dict[str, Any] = {"name": name, "comment": comment}
        if source:
            term["source-address"] = source
        if destination:
            term["destination-address"] = destination
        term.update(match)
        term["action"] = action
        self.policy.terms.append(term)


@dataclass(frozen=True)
class Scoped:
    """One service the system uses: the scope of the explicit denies."""

    label: str
    protocol: str
    ports: Ports
    match: dict[str, Any]


def _scope(b: _Builder) -> list[Scoped]:
    found = []
    families = {a.version for s in b.view.servers for a in s.addresses}
    for protocol, ports in sorted(system_services(b.view).items()):
        if protocol in ICMP_PROTOCOLS and FAMILY[protocol] not in families:
            continue
        if protocol in ICMP_PROTOCOLS:
            found.append(Scoped(protocol, protocol, ports,
                                {"protocol": protocol, "icmp-type": ["echo-request"]}))
            continue
        for low, high in ports:
            label = f"{protocol}-{low}" if low == high else f"{protocol}-{low}-{high}"
            name = b.service(token("SCOPE", label), protocol, ((low, high),))
            found.append(Scoped(label, protocol, ((low, high),),
                                {"protocol": protocol, "destination-port": name}))
    return found


def build_policy(view: System, headers: dict[str, str]) -> Policy:
    """The perimeter policy of `view` (the network's servers; the others as partners)."""
    b = _Builder(view, headers)
    b.term("replies", "replies to connections the terms below allow", "accept", None, None,
           {"option": ["established"], "platform": list(STATELESS)})
    hosts = [f"{a}/{a.max_prefixlen}" for s in view.servers for a in s.addresses]

    def here(protocol: str) -> str:
        return b.network("SERVERS_HERE", hosts, "Geo SCADA servers here", FAMILY.get(protocol))

    def anywhere(protocol: str) -> str:
        return b.network("ANY", EVERYWHERE, "anywhere", FAMILY.get(protocol))

    scope = _scope(b)
    server_ports = service_ports(view, SERVER_PORT)[1]
    dmz_far = [a for s in view.partners if s.role is Role.DMZ_PERMANENT_STANDBY
               for a in s.addresses]
    if dmz_far:
        for each in scope:
            source = b.network("DMZ_STANDBY", [f"{a}/{a.max_prefixlen}" for a in dmz_far],
                               "DMZ permanent standbys: they never initiate towards a server",
                               FAMILY.get(each.protocol))
            if source in b.policy.networks:
                b.term(term_name("dmz-deny", each.label), "the DMZ never opens the plant",
                       "deny", source, here(each.protocol), each.match)
    dmz_here = RoleGroup.DMZ_PERMANENT_STANDBY in view.groups
    if dmz_here:
        for each in scope:
            source = b.group(RoleGroup.DMZ_PERMANENT_STANDBY, FAMILY.get(each.protocol))
            if source in b.policy.networks and (each.protocol in ICMP_PROTOCOLS or (
                    each.protocol == "tcp" and each.ports[0] in server_ports)):
                b.term(term_name("dmz-out-deny", each.label), "a DMZ permanent standby never "
                       "initiates towards a server", "deny", source,
                       anywhere(each.protocol), each.match)
    for flow in flows(view):
        inbound = flow.destination.kind == GROUP and flow.source.kind != GROUP
        outbound = flow.source.kind == GROUP and flow.destination.kind != GROUP
        if not (inbound or outbound):
            continue  # inside this network: it does not cross the perimeter
        local, far = (flow.destination, flow.source) if inbound else (flow.source,
                                                                        flow.destination)
        assert local.group is not None
        family = FAMILY.get(flow.protocol)
        ends = (b.far(far, family), b.group(local.group, family))
        if not all(n in b.policy.networks for n in ends):
            continue  # an end without addresses: refused by the topology checks
        source, destination = ends if inbound else ends[::-1]
        why = "; ".join(p.text for p in flow.purposes)
        b.term(term_name("in" if inbound else "out", short(far), flow.service), why, "accept",
               source, destination, b.service_of(flow, far))
    for each in scope:
        b.term(term_name("deny", each.label), "every Geo SCADA service the terms above do not "
               "allow, from anywhere", "deny", anywhere(each.protocol), here(each.protocol),
               each.match)
    return b.policy
