"""The intent as one server's host sees it: every service it listens on, and the exact
networks that may open it (docs/geo-scada.md, the flow matrix and "Beyond the server pair").

What the Windows Defender Firewall target writes as inbound Allow rules, and what the
ports-and-services baseline lists (`scadafw flows --format ports`): the same rows.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator
from dataclasses import dataclass

from generator.intent.flows import End, Flow, flows
from generator.intent.services import ICMP, ICMPV6, Ports, Purpose
from generator.model import Network, Server, System


@dataclass(frozen=True)
class HostService:
    """One service a server listens on, and who may open it."""

    server: Server
    peer: str  # who opens it, as a name part: a role group, `client-ops`, ...
    flow: Flow
    sources: tuple[Network, ...]  # exact networks; servers by their host addresses

    @property
    def protocol(self) -> str:
        return self.flow.protocol

    @property
    def ports(self) -> Ports:
        return self.flow.ports

    @property
    def purposes(self) -> tuple[Purpose, ...]:
        return self.flow.purposes


def _family(protocol: str) -> int | None:
    return {ICMP: 4, ICMPV6: 6}.get(protocol)


def _sources(view: System, end: End, server: Server, protocol: str) -> tuple[Network, ...]:
    if end.is_group and end.group is not None:
        found = [ipaddress.ip_network(a) for s in view.members(end.group) if s.name != server.name
                 for a in s.addresses]
    else:
        found = list(end.networks)
    family = _family(protocol)
    return tuple(sorted({n for n in found if family in (None, n.version)},
                        key=lambda n: (n.version, n)))


def _unaddressed(view: System, end: End, server: Server) -> tuple[str, ...]:
    if not end.is_group or end.group is None:
        return ()
    return tuple(s.name for s in view.members(end.group)
                 if s.name != server.name and not s.addresses)


def _peer(end: End) -> str:
    return end.name.replace("_", "-") if end.is_group else f"{end.kind}-{end.name}"


def _ending(view: System) -> Iterator[tuple[Server, Flow]]:
    """For every server of `view`, in name order, each flow that ends at it; an ICMP flow only
    where the server has an address of that family (or lists none)."""
    ending = [f for f in flows(view) if f.destination.is_group]
    for server in sorted(view.servers, key=lambda s: s.name):
        for flow in ending:
            family = _family(flow.protocol)
            if flow.destination.group is server.group and (
                    family is None or not server.addresses
                    or any(a.version == family for a in server.addresses)):
                yield server, flow


def inbound_services(view: System) -> Iterator[HostService]:
    """Each service a server of `view` listens on, with the exact sources that may open it."""
    for server, flow in _ending(view):
        if not server.addresses:
            continue
        sources = _sources(view, flow.source, server, flow.protocol)
        if sources:
            yield HostService(server, _peer(flow.source), flow, sources)


PORT_FIELDS = ("server", "protocol", "port", "sources", "purpose")


def port_rows(view: System) -> list[dict[str, str]]:
    """The ports-and-services baseline: one row per server, inbound service and port (or
    range; ICMP: the type), with the exact source prefixes and the Geo SCADA purpose. A
    server that lists no address stands in `sources` by its name."""
    rows = []
    for server, flow in _ending(view):
        sources = [str(n) for n in _sources(view, flow.source, server, flow.protocol)]
        sources += _unaddressed(view, flow.source, server)
        if not sources:
            continue
        icmp = flow.protocol in (ICMP, ICMPV6)
        spans = flow.ports[:1] if icmp else flow.ports
        for low, high in spans:
            rows.append({"server": server.name, "protocol": flow.protocol,
                         "port": str(low) if low == high else f"{low}-{high}",
                         "sources": " ".join(sources),
                         "purpose": "; ".join(p.text for p in flow.purposes)})
    return rows
