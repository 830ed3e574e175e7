"""Read what EC2 applies to a set of network interfaces: their groups and addresses, every
rule of those groups, the prefix lists they name, and (where asked) the network ACLs of their
subnets and the other interfaces that carry their groups. The same calls serve moto, an
account Terraform applied into moto, and a live account (read-only)."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator, Mapping
from typing import Any

from generator.judge.addresses import AddressSet
from generator.judge.aws import AwsState, Interface
from generator.judge.aws_acl import Acl
from generator.judge.sides import Link


def pages(call: Any, key: str, **kwargs: Any) -> Iterator[dict[str, Any]]:
    """Every item of a paginated describe_* call (NextToken), as AWS and moto return them."""
    token: str | None = None
    while True:
        response = call(**kwargs, **({"NextToken": token} if token else {}))
        yield from response.get(key, [])
        token = response.get("NextToken")
        if not token:
            return


def interface_addresses(eni: dict[str, Any]) -> list[Any]:
    """Every private IPv4 and IPv6 address of one network interface."""
    found = [ipaddress.ip_address(i["PrivateIpAddress"])
             for i in eni.get("PrivateIpAddresses", [])]
    if not found and eni.get("PrivateIpAddress"):
        found.append(ipaddress.ip_address(eni["PrivateIpAddress"]))
    found += [ipaddress.ip_address(i["Ipv6Address"]) for i in eni.get("Ipv6Addresses", [])]
    return found


def read_state(ec2: Any, link_interface: Mapping[Link, str],
               labels: Mapping[str, str] | None = None,
               addresses: Mapping[str, list[Any]] | None = None, members: bool = False,
               acls: bool = False) -> AwsState:
    """The state of the interfaces `link_interface` names. `addresses` (ENI -> addresses)
    overrides what the API says an interface holds (moto gives its own); `members` also reads
    every other interface that carries one of the groups; `acls` reads the subnets' ACLs."""
    state = AwsState(labels=dict(labels or {}))
    wanted = sorted(set(link_interface.values()))
    if wanted:
        for eni in pages(ec2.describe_network_interfaces, "NetworkInterfaces",
                         NetworkInterfaceIds=wanted):
            eid = eni["NetworkInterfaceId"]
            state.interfaces[eid] = Interface(
                [g["GroupId"] for g in eni.get("Groups", [])],
                list((addresses or {}).get(eid) or interface_addresses(eni)),
                eni.get("SubnetId", ""), state.labels.get(eid, eid))
    for link, eni_id in link_interface.items():
        if eni_id in state.interfaces:
            state.link_interface[link] = eni_id
        else:
            state.problems.append(f"{link}: network interface {eni_id} not found")
    group_ids = sorted({g for i in state.interfaces.values() for g in i.groups})
    if group_ids:
        _read_groups(ec2, group_ids, state)
    if members:
        _other_members(ec2, state)
    if acls:
        _read_acls(ec2, sorted({i.subnet for i in state.interfaces.values() if i.subnet}),
                   state)
    return state


def _read_groups(ec2: Any, group_ids: list[str], state: AwsState) -> None:
    for group in pages(ec2.describe_security_groups, "SecurityGroups", GroupIds=group_ids):
        state.group_names[group["GroupId"]] = group.get("GroupName", "")
        state.rules_of.setdefault(group["GroupId"], [])
        state.group_tags[group["GroupId"]] = {t["Key"]: t["Value"]
                                              for t in group.get("Tags", [])}
    # one call per group: moto answers the `group-id` filter with one value at a time reliably
    for gid in group_ids:
        rules = list(pages(ec2.describe_security_group_rules, "SecurityGroupRules",
                           Filters=[{"Name": "group-id", "Values": [gid]}]))
        state.rules_of[gid] = rules
        for rule in rules:
            plid = rule.get("PrefixListId")
            if plid and plid not in state.prefix_lists:
                entries = pages(ec2.get_managed_prefix_list_entries, "Entries",
                                PrefixListId=plid)
                state.prefix_lists[plid] = [e["Cidr"] for e in entries]


def _other_members(ec2: Any, state: AwsState) -> None:
    """Interfaces outside the system that carry a group a rule references: a reference admits
    them too."""
    referenced = sorted({str((r.get("ReferencedGroupInfo") or {}).get("GroupId"))
                         for rules in state.rules_of.values() for r in rules
                         if (r.get("ReferencedGroupInfo") or {}).get("GroupId")})
    for gid in referenced:
        found = AddressSet()
        for eni in pages(ec2.describe_network_interfaces, "NetworkInterfaces",
                         Filters=[{"Name": "group-id", "Values": [gid]}]):
            if eni["NetworkInterfaceId"] not in state.interfaces:
                found = found | AddressSet.of(*interface_addresses(eni))
        if found:
            state.other_members[gid] = found


def _read_acls(ec2: Any, subnets: list[str], state: AwsState) -> None:
    if not subnets:
        return
    cidrs: dict[str, AddressSet] = {}
    for subnet in pages(ec2.describe_subnets, "Subnets", SubnetIds=subnets):
        blocks = [subnet.get("CidrBlock")] + [b.get("Ipv6CidrBlock") for b in
                                              subnet.get("Ipv6CidrBlockAssociationSet", [])]
        cidrs[subnet["SubnetId"]] = AddressSet.of(*[b for b in blocks if b])
    for acl in pages(ec2.describe_network_acls, "NetworkAcls",
                     Filters=[{"Name": "association.subnet-id", "Values": subnets}]):
        for association in acl.get("Associations", []):
            subnet = association.get("SubnetId", "")
            if subnet in subnets:
                state.acls[subnet] = Acl(acl["NetworkAclId"], list(acl.get("Entries", [])),
                                         cidrs.get(subnet, AddressSet()),
                                         state.labels.get(acl["NetworkAclId"], ""))
