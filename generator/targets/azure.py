"""Azure: per role group one application security group and one NSG; allow rules between ASGs,
then explicit denies beneath them so Azure's AllowVNetInBound (65000) admits nothing else.

Priorities are literal and depend only on what a rule is (DESIGN.md), never on which other
rules exist:
- allow:  1000 + 100 * source group + 10 * destination group + service  (1111 ... 1332)
- deny:   4000 + 10 * service  (4010: server port, 4020: ICMP), inbound and outbound
Group numbers: redundant 1, permanent_standby 2, dmz_permanent_standby 3; services: server
port 1, ICMP 2. Priorities 100-999 and 2000-3999 stay free for the user's own rules.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from generator.intent.flows import Flow, group_flows
from generator.intent.services import (
    ICMP,
    SERVER_PORT,
    SERVER_SERVICES_ORDER,
    service_label,
    service_ports,
)
from generator.model import RoleGroup, System
from generator.targets.azure_hcl import AzurePlacement
from generator.targets.azure_peers import peer_nsg_rules
from generator.targets.limits import Usage
from generator.targets.module import ModuleFiles, render_module

AZURERM_PROVIDER_MIN = "4.46"  # the provider schema the emitted resources are checked against
ALLOW_BASE = 1000
DENY_BASE = 4000
# Azure's protocol "Icmp" cannot select an ICMP type (DOMAIN.md), so one rule stands for echo;
# it is taken to cover ICMPv6 echo as well (inferred: the NSG protocol list has no ICMPv6).
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

    @property
    def name(self) -> str:
        """Resource name: stable and semantic, like the rule's `name` in the NSG."""
        way = "in" if self.direction == "Inbound" else "out"
        if self.peer is None:
            return f"{self.group.value}_{way}_deny_{self.service}"
        link = "from" if self.direction == "Inbound" else "to"
        return f"{self.group.value}_{way}_{link}_{self.peer.value}_{self.service}"

    @property
    def rule_name(self) -> str:
        """The rule's name inside its NSG (unique per NSG)."""
        if self.peer is None:
            return f"deny-{self.direction.lower()}-{self.service}"
        link = "from" if self.direction == "Inbound" else "to"
        return f"allow-{self.direction.lower()}-{link}-{self.peer.slug}-{self.service}"

    @property
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
    rules: list[NsgRule] = []
    offset = system.azure.priority_offset
    for flow in group_flows(system):
        if flow.service not in AZURE_SERVICES:
            continue
        text = flow.description()
        src, dst = flow.groups
        rules.append(NsgRule(dst, "Inbound", "Allow", flow.service,
                             allow_priority(flow, offset), text, src))
        rules.append(NsgRule(src, "Outbound", "Allow", flow.service,
                             allow_priority(flow, offset), text, dst))
    for group in system.groups:
        for service in AZURE_SERVICES:
            label = service_label(*service_ports(system, service))
            rules.append(NsgRule(group, "Inbound", "Deny", service,
                                 deny_priority(service, offset),
                                 f"Geo SCADA: deny {label} from anything not allowed above"))
            # towards anything: a server opens the server port and sends the poll only where a
            # flow says so, whichever network the other end is in
            rules.append(NsgRule(group, "Outbound", "Deny", service,
                                 deny_priority(service, offset),
                                 f"Geo SCADA: deny {label} to anything not allowed above"))
    return tuple(sorted(rules, key=lambda r: (r.group.index, r.direction, r.priority)))


# The bands scadafw's priorities fall in (before the offset); a band with none of a module's
# rules in it is free for the caller, as is everything outside the bands.
BANDS = ((1100, 1399), (1400, 1899), (1900, 1999), (2000, 2999), (3000, 3999), (4000, 4049))
AZURE_PRIORITIES = (100, 4096)


def free_priorities(system: System) -> list[tuple[int, int]]:
    """The priority ranges (first, last) in every NSG of the module that none of its rules
    uses, band by band: where the caller's own rules go."""
    offset = system.azure.priority_offset
    used = {r.priority - offset for r in nsg_rules(system)}
    used |= {r.priority - offset for r in peer_nsg_rules(system)}
    taken = [(low + offset, high + offset) for low, high in BANDS
             if any(low <= p <= high for p in used)]
    free, start = [], AZURE_PRIORITIES[0]
    for low, high in taken:
        if start < low:
            free.append((start, low - 1))
        start = high + 1
    if start <= AZURE_PRIORITIES[1]:
        free.append((start, AZURE_PRIORITIES[1]))
    return free


def render_azure(system: System) -> ModuleFiles:
    return render_module("azure", system, {
        "rules": nsg_rules(system),
        "peer_rules": peer_nsg_rules(system),
        "place": AzurePlacement(system),
        "flows": [f for f in group_flows(system) if f.service in AZURE_SERVICES],
        "priority_of": lambda flow: allow_priority(flow, system.azure.priority_offset),
        "free_priorities": free_priorities(system),
        "renamed": [s for s in system.servers if s.renamed_from],
        "provider_min": AZURERM_PROVIDER_MIN,
    })


# Azure limits (docs/design.md): per NSG, rules, address prefixes named in its rules, and ASGs
# named across its rules; per rule, ASGs.
RULES_PER_NSG = 1000
PREFIXES_PER_NSG = 4000
ASGS_PER_NSG = 100
ASGS_PER_RULE = 10


def azure_limits(system: System, folder: str) -> list[Usage]:
    found = []
    server, peer = nsg_rules(system), peer_nsg_rules(system)
    for group in system.groups:
        nsg = f"NSG {system.resource_name}-{group.slug}-nsg"
        mine = [r for r in server if r.group is group]
        theirs = [r for r in peer if r.group is group]
        found.append(Usage("azure", folder, f"{nsg} rules", len(mine) + len(theirs),
                           RULES_PER_NSG))
        prefixes = sum(len([p for p in r.prefixes if p != "*"]) for r in theirs)
        found.append(Usage("azure", folder, f"{nsg} address prefixes", prefixes,
                           PREFIXES_PER_NSG))
        named = {group} | {r.peer for r in mine if r.peer is not None}
        found.append(Usage("azure", folder, f"{nsg} application security groups named",
                           len(named), ASGS_PER_NSG))
    found.append(Usage("azure", folder, "application security groups in one rule", 2,
                       ASGS_PER_RULE))  # a rule names its two ends' groups at most
    return found
