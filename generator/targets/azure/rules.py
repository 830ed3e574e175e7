"""The rules between the role groups of an Azure module: allows between ASGs, then explicit
denies beneath them, so that Azure's AllowVNetInBound (65000) admits nothing else and no
server opens the server port or sends ICMP to anything a flow does not name.

Priorities are literal and depend only on what a rule is (docs/design.md), never on which
other rules exist:
- allow:  1000 + 100 * source group + 10 * destination group + service  (1111 ... 1332)
- deny:   4000 + 10 * service  (4010: server port, 4020: ICMP), inbound and outbound
Group numbers: redundant 1, permanent_standby 2, dmz_permanent_standby 3; services: server
port 1, ICMP 2. Priorities 100-999 and 2000-3999 stay free for the user's own rules.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property, lru_cache

from generator.intent.flows import Flow, group_flows
from generator.intent.services import (
    ICMP,
    SERVER_PORT,
    SERVER_SERVICES_ORDER,
    service_label,
    service_ports,
)
from generator.model import RoleGroup, System

ALLOW_BASE = 1000
DENY_BASE = 4000
# Azure's protocol "Icmp" cannot select an ICMP type (docs/geo-scada.md), so one rule stands for
# echo; it is taken to cover ICMPv6 echo as well (inferred: the NSG protocol list has no ICMPv6).
AZURE_SERVICES = (SERVER_PORT, ICMP)


@dataclass(frozen=True)
class NsgRule:
    """One `azurerm_network_security_rule` in the NSG of `group`."""

    group: RoleGroup
    direction: str  # "Inbound" | "Outbound"
    access: str  # "Allow" | "Deny"
    service: str  # SERVER_PORT | ICMP
    priority: int
    description: str
    peer: RoleGroup | None = None  # the other end of an allow rule

    @cached_property
    def name(self) -> str:
        """Resource name: stable and semantic, like the rule's `name` in the NSG."""
        way = "in" if self.direction == "Inbound" else "out"
        if self.peer is None:
            return f"{self.group.value}_{way}_deny_{self.service}"
        link = "from" if self.direction == "Inbound" else "to"
        return f"{self.group.value}_{way}_{link}_{self.peer.value}_{self.service}"

    @cached_property
    def rule_name(self) -> str:
        """The rule's name inside its NSG (unique per NSG)."""
        if self.peer is None:
            return f"deny-{self.direction.lower()}-{self.service}"
        link = "from" if self.direction == "Inbound" else "to"
        return f"allow-{self.direction.lower()}-{link}-{self.peer.slug}-{self.service}"

    @cached_property
    def protocol(self) -> str:
        return "Tcp" if self.service == SERVER_PORT else "Icmp"


def _service_index(service: str) -> int:
    return SERVER_SERVICES_ORDER.index(service) + 1


def allow_priority(flow: Flow, offset: int = 0) -> int:
    src, dst = flow.groups
    return ALLOW_BASE + 100 * src.index + 10 * dst.index + _service_index(flow.service) + offset


def deny_priority(service: str, offset: int = 0) -> int:
    return DENY_BASE + 10 * _service_index(service) + offset


@lru_cache(maxsize=256)
def nsg_rules(system: System) -> tuple[NsgRule, ...]:
    labels = tuple(service_label(*service_ports(system, s)) for s in AZURE_SERVICES)
    return _rules_of(group_flows(system), system.groups, system.azure.priority_offset, labels)


@lru_cache(maxsize=256)
def _rules_of(flows: tuple[Flow, ...], groups: tuple[RoleGroup, ...], offset: int,
              labels: tuple[str, ...]) -> tuple[NsgRule, ...]:
    """The rules of these flows and groups: the same objects for every system that has them
    (intent/flows.py), so what is rendered from a rule is rendered once."""
    rules: list[NsgRule] = []
    for flow in flows:
        if flow.service not in AZURE_SERVICES:
            continue
        text = flow.description()
        src, dst = flow.groups
        rules.append(NsgRule(dst, "Inbound", "Allow", flow.service,
                             allow_priority(flow, offset), text, src))
        rules.append(NsgRule(src, "Outbound", "Allow", flow.service,
                             allow_priority(flow, offset), text, dst))
    for group in groups:
        for service, label in zip(AZURE_SERVICES, labels, strict=True):
            rules.append(NsgRule(group, "Inbound", "Deny", service,
                                 deny_priority(service, offset),
                                 f"Geo SCADA: deny {label} from anything not allowed above"))
            # towards anything: a server opens the server port and sends the poll only where a
            # flow says so, whichever network the other end is in
            rules.append(NsgRule(group, "Outbound", "Deny", service,
                                 deny_priority(service, offset),
                                 f"Geo SCADA: deny {label} to anything not allowed above"))
    return tuple(sorted(rules, key=lambda r: (r.group.index, r.direction, r.priority)))
