"""Azure as gates: the NSGs on each server's path, as azure-mgmt-network's models hold them.

Semantics (Azure "Network security groups overview", "How network security groups filter
network traffic", "Application security groups"; docs/design.md):
- rules are taken in priority order (lower number first) per direction; the first that
  matches decides; beneath the user's rules lie Azure's default rules (AllowVNetInBound 65000,
  AllowAzureLoadBalancerInBound 65001, DenyAllInBound 65500; AllowVnetOutBound 65000,
  AllowInternetOutBound 65001, DenyAllOutBound 65500);
- a rule matches on protocol (`*` or equal; `Icmp` selects no type, so it stands for ICMP and,
  inferred, ICMPv6), destination and source port (`*`, a number, a range; ports do not apply
  to ICMP), and both ends: `*`, a CIDR, an ASG (the addresses of its member NICs), or a
  service tag. `VirtualNetwork` is taken at its worst: every private range and every address
  the topology names (peering, VPN and ExpressRoute can bring any of them); `Internet` is every
  address outside the private ranges; `AzureLoadBalancer` is 168.63.129.16. Any other tag
  cannot be known here: the rule is named as undecided and taken to match nothing;
- a NIC's NSG and its subnet's NSG both apply (inbound: subnet then NIC; outbound: NIC then
  subnet); with no NSG at all, traffic passes; NSGs are stateful;
- Azure Virtual Network Manager security admin rules of the link's virtual network come
  first, lowest priority number first: Deny and AlwaysAllow end evaluation (AlwaysAllow skips
  the NSGs), Allow passes the packet on to them. Their ends are IP prefixes or service tags,
  read as above; no end at all is any address.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from azure.mgmt.network.models import (
    NetworkSecurityGroup,
    SecurityRule,
    SecurityRulePropertiesFormat,
)

from generator.judge import intervals as iv
from generator.judge.addresses import (
    AZURE_LOAD_BALANCER,
    EVERYWHERE,
    PRIVATE,
    AddressSet,
)
from generator.judge.gates import Admin, FirstMatch, Gate
from generator.judge.rules import Action, Rule
from generator.judge.sides import Link, Side


def _default_rule(name: str, priority: int, direction: str, access: str,
                  source: str, destination: str) -> SecurityRule:
    return SecurityRule(name=name, properties=SecurityRulePropertiesFormat(
        priority=priority, direction=direction, access=access, protocol="*",
        source_port_range="*", destination_port_range="*",
        source_address_prefix=source, destination_address_prefix=destination))


DEFAULT_RULES = (
    _default_rule("AllowVNetInBound", 65000, "Inbound", "Allow", "VirtualNetwork",
                  "VirtualNetwork"),
    _default_rule("AllowAzureLoadBalancerInBound", 65001, "Inbound", "Allow",
                  "AzureLoadBalancer", "*"),
    _default_rule("DenyAllInBound", 65500, "Inbound", "Deny", "*", "*"),
    _default_rule("AllowVnetOutBound", 65000, "Outbound", "Allow", "VirtualNetwork",
                  "VirtualNetwork"),
    _default_rule("AllowInternetOutBound", 65001, "Outbound", "Allow", "*", "Internet"),
    _default_rule("DenyAllOutBound", 65500, "Outbound", "Deny", "*", "*"),
)


@dataclass(frozen=True)
class AdminRule:
    """One effective security admin rule, as the list of a virtual network's effective admin
    rules (or a plan's `azurerm_network_manager_admin_rule`) gives it."""

    label: str
    priority: int
    direction: str  # Inbound | Outbound
    access: str  # Allow | Deny | AlwaysAllow
    protocol: str  # Tcp | Udp | Icmp | Esp | Ah | Any
    sources: tuple[str, ...] = ()  # prefixes or service tags; () is any
    destinations: tuple[str, ...] = ()
    source_ports: tuple[str, ...] = ()  # () is any
    destination_ports: tuple[str, ...] = ()


@dataclass
class AzureState:
    nsgs: dict[str, NetworkSecurityGroup] = field(default_factory=dict)
    rule_address: dict[int, str] = field(default_factory=dict)  # id(SecurityRule) -> address
    nic_nsgs: dict[str, list[str]] = field(default_factory=dict)  # server -> NSG names
    subnet_nsgs: list[str] = field(default_factory=list)  # a module's: every server's subnet
    server_subnet_nsgs: dict[str, list[str]] = field(default_factory=dict)  # live: per server
    asgs_of: dict[str, set[str]] = field(default_factory=dict)  # server -> ASG ids
    other_members: dict[str, AddressSet] = field(default_factory=dict)  # ASG -> other NICs
    # Virtual Network Manager: each virtual network's effective admin rules, and the virtual
    # network of each link (or server); "*" stands for every link the state holds
    admin_rules: dict[str, list[AdminRule]] = field(default_factory=dict)
    vnet_of: dict[str, str] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    def admin_rules_of(self, link: Link) -> list[AdminRule]:
        vnet = self.vnet_of.get(str(link), self.vnet_of.get(link.server, ""))
        return [*self.admin_rules.get("*", []), *self.admin_rules.get(vnet, [])] if vnet \
            else list(self.admin_rules.get("*", []))

    # Where the state is per interface (a live account), keys are links ("server:address");
    # where it is per server (a module's associations), keys are server names.
    def nic_nsgs_of(self, link: Link) -> list[str]:
        return self.nic_nsgs.get(str(link), self.nic_nsgs.get(link.server, []))

    def subnet_nsgs_of(self, link: Link) -> list[str]:
        found = self.server_subnet_nsgs.get(str(link), self.server_subnet_nsgs.get(link.server))
        return self.subnet_nsgs if found is None else found

    def asgs_of_link(self, link: Link) -> set[str]:
        return self.asgs_of.get(str(link), self.asgs_of.get(link.server, set()))


def arm_text(value: object) -> str:
    """A model field as its ARM text: the models turn known values into enums."""
    return str(value.value) if isinstance(value, Enum) else str(value or "")


def all_rules(nsg: NetworkSecurityGroup) -> list[SecurityRule]:
    assert nsg.properties is not None
    return [*(nsg.properties.security_rules or []),
            *(nsg.properties.default_security_rules or [])]


def _props(rule: SecurityRule) -> SecurityRulePropertiesFormat:
    assert rule.properties is not None
    return rule.properties


def _ports(specs: Iterable[object]) -> iv.Intervals | None:
    found: list[iv.Interval] = []
    for spec in specs:
        text = str(spec).strip()
        if text in ("*", "Any", ""):
            return None
        low, _, high = text.partition("-")
        if low.isdigit() and (not high or high.isdigit()):
            found.append((int(low), int(high or low)))
    return iv.merged(found)


class _Ends:
    """What the addresses of a rule's ends stand for, for one system."""

    def __init__(self, state: AzureState, members: dict[str, AddressSet],
                 named: AddressSet) -> None:
        self.state, self.members = state, members
        self.virtual_network = PRIVATE | named
        self.undecided: list[str] = []

    def addresses(self, prefixes: list[str], asgs: list[Any] | None, where: str) -> AddressSet:
        if asgs:
            found = AddressSet()
            for asg in asgs:
                found = found | self.members.get(str(asg.id), AddressSet()) | \
                    self.state.other_members.get(str(asg.id), AddressSet())
            return found
        found = AddressSet()
        for prefix in prefixes:
            text = str(prefix).strip()
            if text in ("*", "Any"):
                found = found | EVERYWHERE
            elif text == "VirtualNetwork":
                found = found | self.virtual_network
            elif text == "Internet":
                found = found | (EVERYWHERE - PRIVATE)
            elif text == "AzureLoadBalancer":
                found = found | AZURE_LOAD_BALANCER
            else:
                try:
                    found = found | AddressSet.of(ipaddress.ip_network(text, strict=False))
                except ValueError:
                    self.undecided.append(f"{where} names the service tag {text!r}, whose "
                                          "addresses scadafw cannot know: judged as matching "
                                          "nothing")
        return found


def _rules_for(state: AzureState, ends: _Ends, nsg_key: str, link: Link,
               inbound: bool) -> list[Rule]:
    """The NSG's rules of one direction that apply to `link`, in priority order, each with
    the far end's addresses."""
    direction = "Inbound" if inbound else "Outbound"
    ordered = []
    for rule in all_rules(state.nsgs[nsg_key]):
        p = _props(rule)
        if arm_text(p.direction) != direction or not isinstance(p.priority, int):
            continue
        where = state.rule_address.get(id(rule), f"default rule {rule.name}")
        label = f"{where} ({arm_text(p.access)}, {p.priority})"
        sources = p.source_address_prefixes or [p.source_address_prefix or ""]
        destinations = p.destination_address_prefixes or [p.destination_address_prefix or ""]
        near = (destinations, p.destination_application_security_groups) if inbound else \
            (sources, p.source_application_security_groups)
        far = (sources, p.source_application_security_groups) if inbound else \
            (destinations, p.destination_application_security_groups)
        if link.address not in ends.addresses(near[0], near[1], label):
            continue
        peers = ends.addresses(far[0], far[1], label)
        access = Action.ALLOW if arm_text(p.access) == "Allow" else Action.DENY
        protocol = arm_text(p.protocol).lower()
        dports = _ports(p.destination_port_ranges or [p.destination_port_range or ""])
        sports = _ports(p.source_port_ranges or [p.source_port_range or ""])
        wide = protocol == "*" and dports is None
        if protocol in ("*", "tcp", "udp"):
            layer = frozenset({"tcp", "udp"}) if protocol == "*" else frozenset({protocol})
            ordered.append((p.priority, Rule(label, access, layer, dports, peers, sports,
                                             wide)))
        if protocol in ("*", "icmp"):  # ports do not apply to ICMP
            ordered.append((p.priority, Rule(label, access, frozenset({"icmp", "icmpv6"}), None,
                                             peers, wide=wide)))
    return [rule for _, rule in sorted(ordered, key=lambda pair: pair[0])]


def _nsg_gate(state: AzureState, ends: _Ends, nsg_key: str, link: Link, inbound: bool) -> Gate:
    way = "inbound" if inbound else "outbound"
    return FirstMatch(f"NSG {nsg_key} {way}", _rules_for(state, ends, nsg_key, link, inbound),
                      False, f"NSG {nsg_key}: no rule matches {way}")


_ACCESS = {"Allow": Action.ALLOW, "Deny": Action.DENY, "AlwaysAllow": Action.ALWAYS_ALLOW}
_ORDER = {"Deny": 0, "AlwaysAllow": 1, "Allow": 2}  # at one priority, the strictest first


def _admin_gate(ends: _Ends, rules: list[AdminRule], link: Link, inbound: bool,
                then: list[Gate]) -> Gate:
    direction = "Inbound" if inbound else "Outbound"
    found = []
    for rule in sorted((r for r in rules if r.direction == direction),
                       key=lambda r: (r.priority, _ORDER.get(r.access, 3), r.label)):
        near, far = (rule.destinations, rule.sources) if inbound else \
            (rule.sources, rule.destinations)
        label = f"{rule.label} ({rule.access}, {rule.priority})"
        if near and link.address not in ends.addresses(list(near), None, label):
            continue
        peers = ends.addresses(list(far), None, label) if far else EVERYWHERE
        protocol = rule.protocol.lower()
        dports = _ports(rule.destination_ports) if rule.destination_ports else None
        sports = _ports(rule.source_ports) if rule.source_ports else None
        action = _ACCESS.get(rule.access, Action.DENY)
        wide = protocol in ("any", "*") and dports is None
        if protocol in ("any", "*", "tcp", "udp"):
            layer = frozenset({"tcp", "udp"}) if protocol in ("any", "*") else frozenset(
                {protocol})
            found.append(Rule(label, action, layer, dports, peers, sports, wide))
        if protocol in ("any", "*", "icmp"):
            found.append(Rule(label, action, frozenset({"icmp", "icmpv6"}), None, peers,
                              wide=wide))
    way = "inbound" if inbound else "outbound"
    return Admin(f"security admin rules {way}", found, then)


def azure_sides(state: AzureState, links: Iterable[tuple[Link, AddressSet]],
                named: AddressSet) -> tuple[list[Side], list[str]]:
    """Both sides of every link (`links`: each with its server's own addresses): inbound the
    subnet's NSG then the NIC's, outbound the NIC's then the subnet's. `named` is every address
    the topology names (what `VirtualNetwork` may hold). Also: what could not be decided."""
    listed = list(links)
    members: dict[str, AddressSet] = {}
    for link, _ in listed:
        for asg in state.asgs_of_link(link):
            members[asg] = members.get(asg, AddressSet()) | AddressSet.of(link.address)
    ends = _Ends(state, members, named)
    sides = []
    for link, own in listed:
        nic = [n for n in state.nic_nsgs_of(link) if n in state.nsgs]
        subnet = [n for n in state.subnet_nsgs_of(link) if n in state.nsgs]
        inbound = [_nsg_gate(state, ends, n, link, True) for n in subnet + nic]
        outbound = [_nsg_gate(state, ends, n, link, False) for n in nic + subnet]
        admin = state.admin_rules_of(link)
        if admin:
            inbound = [_admin_gate(ends, admin, link, True, inbound)]
            outbound = [_admin_gate(ends, admin, link, False, outbound)]
        sides += [Side(link, True, inbound, own), Side(link, False, outbound, own)]
    return sides, sorted(set(ends.undecided))
