"""The Windows Defender Firewall rules of one server (docs/design.md, "The host firewall"):

- inbound, an Allow per service the server listens on (generator/intent/hosts.py), on its
  local port or ICMP type, scoped to the exact addresses of the parties that may open it;
- outbound, on a DMZ permanent standby only: a Block of the server port and ICMP echo towards
  every other server of the system, since it never opens anything towards them.
Windows allows outbound by default and blocks inbound by default; a Block wins over an Allow.
"""

from __future__ import annotations

from dataclasses import dataclass

from generator.intent.hosts import inbound_services
from generator.intent.services import (
    ICMP,
    ICMP_ECHO_REQUEST,
    ICMPV6,
    ICMPV6_ECHO_REQUEST,
    SERVER_PORT,
    Ports,
    service_ports,
)
from generator.model import Network, Role, Server, System

PROTOCOL = {"tcp": "TCP", "udp": "UDP", ICMP: "ICMPv4", ICMPV6: "ICMPv6"}


@dataclass(frozen=True)
class HostRule:
    """One `New-NetFirewallRule`: `name` is the rule's part after `scadafw-<system>-<server>-`."""

    name: str
    display: str
    description: str
    direction: str  # Inbound | Outbound
    action: str  # Allow | Block
    protocol: str  # TCP | UDP | ICMPv4 | ICMPv6
    local_ports: Ports = ()
    remote_ports: Ports = ()
    icmp_type: int | None = None
    remote: tuple[Network, ...] = ()


def _ports_text(ports: Ports) -> str:
    return ", ".join(str(lo) if lo == hi else f"{lo}-{hi}" for lo, hi in ports)


def _others(system: System, server: Server, family: int | None) -> tuple[Network, ...]:
    import ipaddress  # noqa: PLC0415

    found = {ipaddress.ip_network(a) for s in (*system.servers, *system.partners)
             if s.name != server.name for a in s.addresses if family in (None, a.version)}
    return tuple(sorted(found, key=lambda n: (n.version, n)))


def host_rules(view: System, server: Server) -> list[HostRule]:
    rules = []
    for entry in inbound_services(view):
        if entry.server.name != server.name:
            continue
        flow = entry.flow
        icmp = flow.protocol in (ICMP, ICMPV6)
        what = flow.label if icmp else f"{flow.protocol.upper()} {_ports_text(flow.ports)}"
        rules.append(HostRule(
            name=f"in-{flow.service}-{entry.peer}",
            display=f"Geo SCADA {what} from {entry.peer}",
            description="; ".join(p.text for p in flow.purposes),
            direction="Inbound", action="Allow", protocol=PROTOCOL[flow.protocol],
            local_ports=() if icmp else flow.ports,
            icmp_type=flow.ports[0][0] if icmp else None,
            remote=entry.sources))
    if server.role is Role.DMZ_PERMANENT_STANDBY:
        rules += _dmz_blocks(view, server)
    return rules


def _dmz_blocks(view: System, server: Server) -> list[HostRule]:
    why = ("a DMZ permanent standby only receives from the Main; it never opens the server "
           "port or sends the ICMP poll to another server (defence in depth)")
    found = []
    _, ports = service_ports(view, SERVER_PORT)
    servers = _others(view, server, None)
    if servers:
        found.append(HostRule("out-block-tcp-servers",
                              f"Geo SCADA: block TCP {_ports_text(ports)} to the servers",
                              why, "Outbound", "Block", "TCP", remote_ports=ports,
                              remote=servers))
    for protocol, kind, family in ((ICMP, ICMP_ECHO_REQUEST, 4),
                                   (ICMPV6, ICMPV6_ECHO_REQUEST, 6)):
        hosts = _others(view, server, family)
        if hosts and any(a.version == family for a in server.addresses):
            found.append(HostRule(f"out-block-{protocol}-servers",
                                  f"Geo SCADA: block {PROTOCOL[protocol]} echo to the servers",
                                  why, "Outbound", "Block", PROTOCOL[protocol],
                                  icmp_type=kind, remote=hosts))
    return found
