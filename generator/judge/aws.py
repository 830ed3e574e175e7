"""AWS as gates: what an account applies to each server address, in the EC2 API's shapes.

Semantics (AWS VPC user guide, "Security groups"; docs/design.md):
- each server address is one link, held by one network interface; the groups on that interface
  add up (any rule of any of them allows), inbound and outbound on their own (stateful: a reply
  needs no rule);
- a rule's far end is a referenced group (every address of every interface that carries it), an
  IPv4 or IPv6 CIDR, or a managed prefix list;
- protocol -1 is every protocol and port; TCP and UDP rules name a port range; ICMP rules put
  the type in FromPort and the code in ToPort (-1: any), so an echo request (code 0) matches a
  rule for type 8 or -1 whose code is 0 or -1.
Network ACLs are the subnet's (generator/judge/aws_acl.py).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from generator.judge.addresses import AddressSet, union
from generator.judge.aws_acl import acl_gate
from generator.judge.gates import AnyAllows, Gate
from generator.judge.rules import Action, Rule, protocols
from generator.judge.sides import Link, Side

_PROTOCOL_NUMBERS = {"1": "icmp", "6": "tcp", "17": "udp", "58": "icmpv6", "all": "-1"}


def normalize_protocol(value: object) -> str:
    text = str(value).strip().lower()
    return _PROTOCOL_NUMBERS.get(text, text)


@dataclass
class Interface:
    """One network interface: its groups (in the order AWS lists them) and addresses."""

    groups: list[str]
    addresses: list[Any] = field(default_factory=list)  # ipaddress addresses
    subnet: str = ""
    label: str = ""  # how findings name it (a Terraform address, or the ENI id)


@dataclass
class AwsState:
    interfaces: dict[str, Interface] = field(default_factory=dict)  # ENI id -> interface
    link_interface: dict[Link, str] = field(default_factory=dict)  # server address -> ENI
    rules_of: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # group -> rules
    group_names: dict[str, str] = field(default_factory=dict)
    prefix_lists: dict[str, list[str]] = field(default_factory=dict)  # id -> CIDRs
    labels: dict[str, str] = field(default_factory=dict)  # rule or group id -> what made it
    group_tags: dict[str, dict[str, str]] = field(default_factory=dict)  # group -> tags
    # interfaces outside the topology that carry a group: what a reference to it admits too
    other_members: dict[str, AddressSet] = field(default_factory=dict)
    acls: dict[str, Any] = field(default_factory=dict)  # subnet -> its network ACL (aws_acl)
    problems: list[str] = field(default_factory=list)

    def group_label(self, gid: str) -> str:
        name = self.group_names.get(gid, "")
        made_by = self.labels.get(gid)
        if made_by:
            return made_by if made_by == gid else f"{made_by} ({gid})"
        return f"group {name} ({gid})" if name else f"group {gid}"

    def rule_label(self, rule: dict[str, Any]) -> str:
        rid = str(rule.get("SecurityGroupRuleId", ""))
        gid = str(rule.get("GroupId", ""))
        made_by = self.labels.get(rid)
        if made_by:
            return f"{made_by} in {self.group_label(gid)}"
        return f"rule {rid} of {self.group_label(gid)}"

    def role_of(self, gid: str, system: str) -> str:
        """The role group a group of scadafw's for `system` is for ("" for anyone else's)."""
        tags = self.group_tags.get(gid, {})
        return tags.get("scadafw:role-group", "") if tags.get("scadafw:system") == system else ""

    def members(self, gid: str) -> AddressSet:
        """Every address a reference to group `gid` admits."""
        found = [AddressSet.of(*i.addresses) for i in self.interfaces.values()
                 if gid in i.groups]
        return union([*found, self.other_members.get(gid, AddressSet())])

    def groups_of(self, link: Link) -> list[str]:
        eni = self.link_interface.get(link)
        return list(self.interfaces[eni].groups) if eni in self.interfaces else []


def _ports(protocol: str, low: int, high: int) -> tuple[tuple[int, int], ...] | None:
    if protocol in ("tcp", "udp"):
        if (low, high) == (-1, -1):
            return None
        return ((max(low, 0), min(high, 65535)),)
    if protocol in ("icmp", "icmpv6"):
        if high not in (-1, 0):
            return ()  # a code other than 0: never an echo request or reply
        return None if low == -1 else ((low, low),)
    return None


def security_group_rule(state: AwsState, rule: dict[str, Any]) -> Rule:
    """One rule as EC2's DescribeSecurityGroupRules gives it, as a judge rule."""
    protocol = normalize_protocol(rule.get("IpProtocol", "-1"))
    low, high = int(rule.get("FromPort", -1)), int(rule.get("ToPort", -1))
    referenced = (rule.get("ReferencedGroupInfo") or {}).get("GroupId")
    if referenced:
        peers = state.members(str(referenced))
    elif rule.get("CidrIpv4") or rule.get("CidrIpv6"):
        peers = AddressSet.of(str(rule.get("CidrIpv4") or rule.get("CidrIpv6")))
    elif rule.get("PrefixListId"):
        peers = AddressSet.of(*state.prefix_lists.get(str(rule["PrefixListId"]), []))
    else:
        peers = AddressSet()
    return Rule(state.rule_label(rule), Action.ALLOW, protocols(protocol),
                _ports(protocol, low, high) if protocol != "-1" else None, peers)


def _group_gate(state: AwsState, groups: Iterable[str], egress: bool, eni: str) -> Gate:
    rules = [security_group_rule(state, r) for g in groups for r in state.rules_of.get(g, [])
             if bool(r.get("IsEgress")) is egress]
    names = ", ".join(state.group_label(g) for g in groups) or "none"
    way = "lets it out" if egress else "admits it"
    label = state.interfaces[eni].label if eni in state.interfaces else eni
    return AnyAllows(f"security groups of {label}", rules,
                     f"no rule of the groups on {label} ({names}) {way}")


def aws_sides(state: AwsState, links: Iterable[tuple[Link, AddressSet]]) -> list[Side]:
    """Both sides of every link whose interface the state holds (`links`: each link with its
    server's own addresses); the network ACL of the interface's subnet stands in front of its
    groups."""
    sides = []
    for link, own in links:
        eni = state.link_interface.get(link)
        if eni not in state.interfaces:
            continue
        interface = state.interfaces[eni]
        for inbound in (True, False):
            acl = acl_gate(state, interface.subnet, inbound)
            groups = _group_gate(state, interface.groups, not inbound, eni)
            gates = [acl, groups] if acl is not None else [groups]
            if not inbound:
                gates.reverse()  # out through the groups, then the subnet's ACL
            sides.append(Side(link, inbound, gates, own))
    return sides
