"""What an AWS account allows between the servers of a system, read back from the EC2 API.

One evaluator for every AWS proof: `verify` (moto, built from the module's HCL or by the real
Terraform provider) and `audit` (a live account). It reads every security group on every
network interface of every server, whoever wrote the group, because that is what AWS applies.

Semantics (AWS VPC user guide, "Security groups"; DOMAIN.md "Cloud facts"):
- the groups on one interface add up: any rule of any of them allows;
- security groups are stateful, so only the direction that opens a flow is judged: a flow
  passes when one of the source's groups lets it out and one of the destination's lets it in;
- a rule's peer is a referenced group (the peer's interface is a member of it), an IPv4 or IPv6
  CIDR holding one of the peer's addresses, or a managed prefix list with such a CIDR;
- ICMP rules: `FromPort` is the ICMP type (-1 any), `ToPort` the code (-1 any); protocol -1
  is every protocol and port.
A server's interfaces count together (its Main and Backup links carry the same flows).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from generator.model import Address, Server, System
from generator.policy import Service
from generator.verify.reachability import Decision, Endpoint, Traffic

_PROTOCOL_NUMBERS = {"1": "icmp", "6": "tcp", "17": "udp", "58": "icmpv6", "all": "-1"}


def normalize_protocol(value: object) -> str:
    text = str(value).strip().lower()
    return _PROTOCOL_NUMBERS.get(text, text)


@dataclass
class AwsState:
    """The effective security groups of a system's servers, as the EC2 API returned them."""

    interfaces_of: dict[str, list[str]] = field(default_factory=dict)  # server -> ENI ids
    groups_of: dict[str, list[str]] = field(default_factory=dict)  # server -> group ids
    addresses_of: dict[str, list[Address]] = field(default_factory=dict)
    rules_of: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # group id -> rules
    group_names: dict[str, str] = field(default_factory=dict)
    prefix_lists: dict[str, list[str]] = field(default_factory=dict)  # id -> CIDRs
    # rule or group id -> what made it (a Terraform address, when the caller knows it)
    labels: dict[str, str] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    group_roles: dict[str, str] = field(default_factory=dict)  # scadafw's groups: role group

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


def _pages(call: Any, key: str, **kwargs: Any) -> Iterator[dict[str, Any]]:
    """Every item of a paginated describe_* call (NextToken), as AWS and moto return them."""
    token: str | None = None
    while True:
        response = call(**kwargs, **({"NextToken": token} if token else {}))
        yield from response.get(key, [])
        token = response.get("NextToken")
        if not token:
            return


def read_effective(ec2: Any, system: System, interfaces: Mapping[str, Sequence[str]],
                   labels: Mapping[str, str] | None = None) -> AwsState:
    """Read the groups and rules that apply to each server's interfaces (`interfaces`: server
    name -> ENI ids). `labels` names what made a rule or group (rule or group id -> address)."""
    state = AwsState(labels=dict(labels or {}))
    wanted = sorted({eni for ids in interfaces.values() for eni in ids})
    found: dict[str, dict[str, Any]] = {}
    if wanted:
        for eni in _pages(ec2.describe_network_interfaces, "NetworkInterfaces",
                          NetworkInterfaceIds=wanted):
            found[eni["NetworkInterfaceId"]] = eni
    group_ids: set[str] = set()
    for server in system.servers:
        ids = list(interfaces.get(server.name, []))
        state.interfaces_of[server.name] = ids
        groups: list[str] = []
        addresses: list[Address] = []
        for eni_id in ids:
            if eni_id not in found:
                state.problems.append(f"{server.name}: network interface {eni_id} not found")
                continue
            eni_groups = [g["GroupId"] for g in found[eni_id].get("Groups", [])]
            groups += [g for g in eni_groups if g not in groups]
            addresses += interface_addresses(found[eni_id])
        # the topology's own addresses count too, for CIDR rules naming them
        addresses += [a for a in server.addresses if a not in addresses]
        state.groups_of[server.name] = groups
        state.addresses_of[server.name] = addresses
        group_ids.update(groups)
    if group_ids:
        _read_groups(ec2, sorted(group_ids), state)
    return state


def interface_addresses(eni: dict[str, Any]) -> list[Address]:
    """Every private IPv4 and IPv6 address of one network interface."""
    found: list[Address] = []
    for item in eni.get("PrivateIpAddresses", []):
        found.append(ipaddress.ip_address(item["PrivateIpAddress"]))
    if not found and eni.get("PrivateIpAddress"):
        found.append(ipaddress.ip_address(eni["PrivateIpAddress"]))
    for item in eni.get("Ipv6Addresses", []):
        found.append(ipaddress.ip_address(item["Ipv6Address"]))
    return found


def _read_groups(ec2: Any, group_ids: list[str], state: AwsState) -> None:
    for group in _pages(ec2.describe_security_groups, "SecurityGroups", GroupIds=group_ids):
        state.group_names[group["GroupId"]] = group.get("GroupName", "")
        state.rules_of.setdefault(group["GroupId"], [])
    # one call per group: moto answers the `group-id` filter with one value at a time reliably
    for gid in group_ids:
        rules = list(_pages(ec2.describe_security_group_rules, "SecurityGroupRules",
                            Filters=[{"Name": "group-id", "Values": [gid]}]))
        state.rules_of[gid] = rules
        for rule in rules:
            plid = rule.get("PrefixListId")
            if plid and plid not in state.prefix_lists:
                entries = _pages(ec2.get_managed_prefix_list_entries, "Entries",
                                 PrefixListId=plid)
                state.prefix_lists[plid] = [e["Cidr"] for e in entries]


def _traffic_matches(rule: dict[str, Any], traffic: Traffic) -> bool:
    protocol = normalize_protocol(rule.get("IpProtocol", ""))
    low, high = int(rule.get("FromPort", -1)), int(rule.get("ToPort", -1))
    if protocol == "-1":
        return True
    if protocol != traffic.protocol:
        return False
    if traffic.protocol in ("tcp", "udp"):
        return low <= traffic.port <= high or (low == -1 and high == -1)
    # ICMP: FromPort is the type, ToPort the code; -1 is any. An echo request has code 0.
    return low in (-1, traffic.port) and high in (-1, 0)


def _cidr_holds(cidr: str, traffic: Traffic, addresses: Sequence[Address]) -> bool:
    network = ipaddress.ip_network(cidr, strict=False)
    if traffic.protocol == "icmp" and network.version != 4:
        return False
    if traffic.protocol == "icmpv6" and network.version != 6:
        return False
    return any(a.version == network.version and a in network for a in addresses)


def _peer_matches(state: AwsState, rule: dict[str, Any], traffic: Traffic,
                  peer: Endpoint) -> bool:
    addresses = state.addresses_of.get(peer.name, list(peer.addresses)) if peer.server \
        else list(peer.addresses)
    referenced = rule.get("ReferencedGroupInfo", {}).get("GroupId")
    if referenced:
        return peer.server is not None and referenced in state.groups_of.get(peer.name, [])
    for key in ("CidrIpv4", "CidrIpv6"):
        if rule.get(key):
            return _cidr_holds(rule[key], traffic, addresses)
    plid = rule.get("PrefixListId")
    if plid:
        return any(_cidr_holds(c, traffic, addresses) for c in state.prefix_lists.get(plid, []))
    return False


def allowing_rules(state: AwsState, server: Endpoint, peer: Endpoint, traffic: Traffic,
                   egress: bool) -> list[str]:
    """Labels of the rules on `server`'s groups that let `traffic` out to (egress) or in from
    `peer`, sorted."""
    found = set()
    for gid in state.groups_of.get(server.name, []):
        for rule in state.rules_of.get(gid, []):
            if bool(rule.get("IsEgress")) is egress and _traffic_matches(rule, traffic) \
                    and _peer_matches(state, rule, traffic, peer):
                found.add(state.rule_label(rule))
    return sorted(found)


def decide_traffic(state: AwsState, src: Endpoint, dst: Endpoint, traffic: Traffic,
                   egress_open: bool = False) -> Decision:
    """Allowed when some group of the source lets it out and some group of the destination
    lets it in; a host outside the system has no group of ours, so only the server's side is
    judged. `egress_open` judges the destination's side alone (the source's groups are not all
    known: a plan does not hold an instance's launch group, which allows all egress)."""
    out = (allowing_rules(state, src, dst, traffic, egress=True)
           if src.server and not egress_open else [""])
    into = allowing_rules(state, dst, src, traffic, egress=False) if dst.server else [""]
    if out and into:
        return Decision(True, " + ".join(x for x in (out[0], into[0]) if x))
    missing = []
    if not out:
        missing.append(f"no egress rule on {src.name}'s groups")
    if not into:
        missing.append(f"no ingress rule on {dst.name}'s groups")
    return Decision(False, " and ".join(missing))


def decide_aws(state: AwsState, port: int, src: Server, dst: Server,
               service: Service) -> Decision:
    """One server pair and service (the server-to-server matrix)."""
    return decide_traffic(state, Endpoint.of(src), Endpoint.of(dst), Traffic.of(service, port))
