"""Azure rules for the peers of topology version 2, and the denies that cover what they open.

Priorities depend only on what a rule is (docs/design.md), in bands beside the server-to-server
allows (1111-1332) and denies (4010, 4020):
- 1400 + 50 * network slot + 10 * group + service: partners in other networks (group: redundant
  1, permanent_standby 2, dmz_permanent_standby 3; service: server port 1, ICMP 2, ICMPv6 3;
  a network's slot, 0-9, comes from its name as below)
- 1901 / 1902: outbound ICMP to the role group's monitor hosts (IPv4 / IPv6)
- 2000 + 10 * slot + service: clients (service: viewx 1, web 2, advise 3)
- 3000 + 10 * slot + service: outstations (poll 1, listen 2)
- 4030 / 4040: inbound deny, from anywhere, of every TCP (but the server port) / UDP port the
  system uses, in every module (web, advise, outstation poll and listen ports)
A client's or outstation's slot (0-99), and a network's (0-9), is its `azure_slot` or comes from
its name alone (CRC-32 modulo 100, or 10); the topology refuses two that meet (topology/slots.py).
Priorities outside 1100-4049 stay free for the user's own rules.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from generator.intent.flows import Flow, former_name, partner_name, peer_flows
from generator.intent.matrix import CLIENT, MONITOR, PARTNER
from generator.intent.services import system_services
from generator.model import RoleGroup, System

PARTNER_BASE = 1400
MONITOR_BASE = 1900
CLIENT_BASE = 2000
OUTSTATION_BASE = 3000
_PARTNER_SERVICE = {"tcp": 1, "icmp": 2, "icmpv6": 3}
PEER_DENY = {"tcp": 4030, "udp": 4040}
_SERVICE_OFFSET = {"viewx": 1, "web": 2, "advise": 3, "poll": 1, "listen": 2, "icmp": 1,
                   "icmpv6": 2}
_PROTOCOL = {"tcp": "Tcp", "udp": "Udp", "icmp": "Icmp", "icmpv6": "Icmp"}


@dataclass(frozen=True)
class PeerNsgRule:
    """One `azurerm_network_security_rule` to or from networks outside the system."""

    group: RoleGroup
    name: str  # resource name
    rule_name: str  # name inside the NSG
    direction: str  # Inbound | Outbound
    access: str
    protocol: str  # Tcp | Udp | Icmp
    priority: int
    ports: tuple[str, ...]  # destination port ranges; ("*",) for ICMP
    prefixes: tuple[str, ...]  # the peer's networks; ("*",) for a deny
    description: str
    former: str = ""  # the resource name it had before its peer was renamed
    renamed: str = ""  # which peer was renamed, in words

    @property
    def to_peer(self) -> bool:
        return self.direction == "Outbound"


def _ident(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")


def _names(flow: Flow) -> tuple[str, str]:
    """The rule's resource name and its name inside the NSG."""
    way, link = ("in", "from") if flow.inbound else ("out", "to")
    peer = "icmp-monitor" if flow.kind == MONITOR else f"{flow.kind}-{flow.peer}"
    return (f"{flow.group.value}_{way}_{link}_{_ident(peer)}_{flow.service}",
            f"allow-{flow.direction.lower()}-{link}-{peer}-{flow.service}")


def _allow(flow: Flow, priority: int, former: str = "") -> PeerNsgRule:
    """A peer renamed from `former` keeps its rules' names inside the NSG (Azure replaces a rule
    whose name changes); their resources move to the new name's address (moves.py)."""
    name, rule_name = _names(flow)
    old_name, old_rule_name = _names(flow.with_peer_named(former)) if former else ("", rule_name)
    ports = ("*",) if flow.is_icmp else tuple(
        str(lo) if lo == hi else f"{lo}-{hi}" for lo, hi in flow.ports)
    return PeerNsgRule(
        flow.group, name, old_rule_name, flow.direction, "Allow", _PROTOCOL[flow.protocol],
        priority, ports, tuple(str(n) for n in flow.networks), flow.description(), old_name,
        f"{flow.kind} {former} is now {flow.peer}" if former else "")


def _inbound_services(system: System) -> tuple[tuple[str, tuple[tuple[int, int], ...]], ...]:
    """Every TCP port besides the server port, and every UDP port, the system uses (web,
    advise and outstation ports), whichever module opens them: what the inbound denies beneath
    the allows cover, in every module, so that `AllowVNetInBound` admits none of them."""
    used = system_services(system)
    tcp = tuple(p for p in used.get("tcp", ()) if p[0] != p[1] or p[0] not in system.server_ports)
    found = (("tcp", tcp), ("udp", tuple(used.get("udp", ()))))
    return tuple((protocol, ports) for protocol, ports in found if ports)


@lru_cache(maxsize=256)
def peer_nsg_rules(system: System) -> tuple[PeerNsgRule, ...]:
    client_slot = {c.name: c.slot for c in system.clients}
    station_slot = {o.name: o.slot for o in system.outstations}
    network_slot = {n.name: n.slot for n in system.networks}
    groups = {partner_name(s): s for s in system.partners}
    rules = []
    shift = system.azure.priority_offset
    for flow in peer_flows(system):
        offset = _SERVICE_OFFSET.get(flow.service, 0) + shift
        if flow.kind == PARTNER:
            remote = groups[flow.peer]
            priority = (PARTNER_BASE + 50 * network_slot[remote.network]
                        + 10 * remote.group.index + _PARTNER_SERVICE[flow.protocol] + shift)
        elif flow.kind == MONITOR:
            priority = MONITOR_BASE + offset
        elif flow.kind == CLIENT:
            priority = CLIENT_BASE + 10 * client_slot[flow.peer] + offset
        else:
            priority = OUTSTATION_BASE + 10 * station_slot[flow.peer] + offset
        rules.append(_allow(flow, priority, former_name(system, flow)))
    opened = _inbound_services(system)
    for group in system.groups:
        for protocol, ports in opened:
            texts = tuple(str(lo) if lo == hi else f"{lo}-{hi}" for lo, hi in ports)
            rules.append(PeerNsgRule(
                group, f"{group.value}_in_deny_{protocol}_peer_ports",
                f"deny-inbound-{protocol}-peer-ports", "Inbound", "Deny", _PROTOCOL[protocol],
                PEER_DENY[protocol] + shift, texts, ("*",),
                f"Geo SCADA: deny {protocol.upper()} {', '.join(texts)} from anything not "
                "allowed above"[:140]))
    return tuple(sorted(rules, key=lambda r: (r.group.index, r.direction, r.priority)))

