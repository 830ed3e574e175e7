"""AWS, emulated in moto: the module's groups and rules are created through boto3, one instance
per server is started with the groups the module attaches to it, and everything is read back
with describe_* before any pair is judged. A server the module attaches nothing to gets the
VPC's default group, as an ENI without groups does in AWS.

moto keeps only the last of several IpPermissions in one call (DESIGN.md), so each rule is its
own call. Terraform's `aws_security_group` revokes the default allow-all egress rule of a new
group unless it is declared; that is done here too.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from generator.model import Server, System
from generator.policy import ICMP_ECHO_REQUEST, ICMPV6_ECHO_REQUEST, Service
from generator.verify.hcl_module import (
    Module,
    Resource,
    as_list,
    interface_owner,
    referenced_name,
)
from generator.verify.reachability import Decision

_PROTOCOL_NUMBERS = {"1": "icmp", "6": "tcp", "17": "udp", "58": "icmpv6", "all": "-1"}
_RULE_TYPES = ("aws_vpc_security_group_ingress_rule", "aws_vpc_security_group_egress_rule")


def normalize_protocol(value: object) -> str:
    text = str(value).strip().lower()
    return _PROTOCOL_NUMBERS.get(text, text)


@dataclass
class AwsState:
    """What moto returned: groups per server, rules per group, addresses per server."""

    groups_of: dict[str, list[str]] = field(default_factory=dict)
    addresses_of: dict[str, list[ipaddress.IPv4Address | ipaddress.IPv6Address]] = field(
        default_factory=dict)
    rules_of: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    address_of_rule: dict[str, str] = field(default_factory=dict)  # rule id -> resource address
    problems: list[str] = field(default_factory=list)


@contextmanager
def _fake_credentials() -> Iterator[None]:
    keys = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
            "AWS_DEFAULT_REGION", "AWS_PROFILE", "MOTO_EC2_LOAD_DEFAULT_AMIS")
    saved = {k: os.environ.get(k) for k in keys}
    # never real credentials near the emulator; no AMI catalogue (any AMI id will do here)
    os.environ.update(AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing",
                      AWS_DEFAULT_REGION="eu-west-1", MOTO_EC2_LOAD_DEFAULT_AMIS="false")
    os.environ.pop("AWS_SESSION_TOKEN", None)
    os.environ.pop("AWS_PROFILE", None)
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


@contextmanager
def moto_sandbox() -> Iterator[Any]:
    """One emulated AWS account and EC2 client for a whole run: each system gets its own VPC
    in it, so many systems cost one moto start-up, not one each."""
    # imported here, not at the top: moto takes a second to load and `generate` never needs it
    import boto3  # noqa: PLC0415
    from moto import mock_aws  # noqa: PLC0415

    with _fake_credentials(), mock_aws():
        yield boto3.client("ec2", region_name="eu-west-1")


def build_in_moto(system: System, module: Module, ec2: Any | None = None) -> AwsState:
    """Build `module` for `system` in its own VPC of the sandbox `ec2` (a fresh one if None)."""
    if ec2 is None:
        with moto_sandbox() as sandbox:
            return build_in_moto(system, module, sandbox)
    state = AwsState()
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.0.0/20")["Subnet"]["SubnetId"]
    group_ids = _create_groups(ec2, vpc, module)
    for rtype in _RULE_TYPES:
        for resource in module.of_type(rtype):
            _authorize(ec2, resource, group_ids, state)
    _start_instances(ec2, subnet, system, module, group_ids, state)
    _read_back(ec2, vpc, system, state)
    return state


def _create_groups(ec2: Any, vpc: str, module: Module) -> dict[str, str]:
    ids: dict[str, str] = {}
    for resource in module.of_type("aws_security_group"):
        name = str(resource.attrs.get("name", resource.name))
        description = str(resource.attrs.get("description", "Managed by Terraform"))
        gid = ec2.create_security_group(GroupName=name, Description=description,
                                        VpcId=vpc)["GroupId"]
        ids[resource.name] = gid
        declared_egress = as_list(resource.attrs.get("egress"))
        if not declared_egress:
            ec2.revoke_security_group_egress(GroupId=gid, IpPermissions=[
                {"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])
        for direction in ("ingress", "egress"):
            for block in as_list(resource.attrs.get(direction)):
                _authorize_inline(ec2, gid, direction, block, ids)
    return ids


def _authorize_inline(ec2: Any, gid: str, direction: str, block: dict[str, Any],
                      ids: dict[str, str]) -> None:
    """Inline ingress/egress blocks of aws_security_group (a hand edit scadafw never emits)."""
    base = {"IpProtocol": normalize_protocol(block.get("protocol", "-1")),
            "FromPort": int(block.get("from_port", 0)), "ToPort": int(block.get("to_port", 0))}
    peers: list[dict[str, Any]] = [{"IpRanges": [{"CidrIp": c}]}
                                   for c in as_list(block.get("cidr_blocks"))]
    peers += [{"Ipv6Ranges": [{"CidrIpv6": c}]} for c in as_list(block.get("ipv6_cidr_blocks"))]
    for ref in as_list(block.get("security_groups")):
        name = referenced_name(ref, "aws_security_group")
        if name in ids:
            peers.append({"UserIdGroupPairs": [{"GroupId": ids[name]}]})
    if block.get("self") is True:
        peers.append({"UserIdGroupPairs": [{"GroupId": gid}]})
    call = (ec2.authorize_security_group_ingress if direction == "ingress"
            else ec2.authorize_security_group_egress)
    for peer in peers:
        call(GroupId=gid, IpPermissions=[{**base, **peer}])


def _authorize(ec2: Any, resource: Resource, ids: dict[str, str], state: AwsState) -> None:
    attrs = resource.attrs
    owner = referenced_name(attrs.get("security_group_id"), "aws_security_group")
    if owner not in ids:
        state.problems.append(f"{resource.address}: security_group_id does not name a "
                              "security group of this module")
        return
    protocol = normalize_protocol(attrs.get("ip_protocol", ""))
    permission: dict[str, Any] = {"IpProtocol": protocol}
    if protocol != "-1":
        permission["FromPort"] = int(attrs.get("from_port", -1))
        permission["ToPort"] = int(attrs.get("to_port", -1))
    peers = [k for k in ("referenced_security_group_id", "cidr_ipv4", "cidr_ipv6",
                         "prefix_list_id") if k in attrs]
    if len(peers) != 1:
        state.problems.append(f"{resource.address}: needs exactly one of "
                              "referenced_security_group_id, cidr_ipv4, cidr_ipv6, prefix_list_id")
        return
    peer = peers[0]
    if peer == "referenced_security_group_id":
        ref = referenced_name(attrs[peer], "aws_security_group")
        if ref not in ids:
            state.problems.append(f"{resource.address}: {peer} does not name a security "
                                  "group of this module")
            return
        permission["UserIdGroupPairs"] = [{"GroupId": ids[ref]}]
    elif peer == "cidr_ipv4":
        permission["IpRanges"] = [{"CidrIp": str(attrs[peer])}]
    elif peer == "cidr_ipv6":
        permission["Ipv6Ranges"] = [{"CidrIpv6": str(attrs[peer])}]
    else:
        permission["PrefixListIds"] = [{"PrefixListId": str(attrs[peer])}]
    call = (ec2.authorize_security_group_ingress if resource.type.endswith("ingress_rule")
            else ec2.authorize_security_group_egress)
    response = call(GroupId=ids[owner], IpPermissions=[permission])
    for rule in response.get("SecurityGroupRules", []):
        state.address_of_rule[rule["SecurityGroupRuleId"]] = resource.address


def _start_instances(ec2: Any, subnet: str, system: System, module: Module,
                     ids: dict[str, str], state: AwsState) -> None:
    attached: dict[str, list[str]] = {}
    for resource in module.of_type("aws_network_interface_sg_attachment"):
        owner = interface_owner(resource)
        group = referenced_name(resource.attrs.get("security_group_id"), "aws_security_group")
        if owner is None or group is None or group not in ids:
            state.problems.append(f"{resource.address}: cannot tell which server and group "
                                  "it attaches")
            continue
        attached.setdefault(owner, []).append(ids[group])
    for server in system.servers:
        request: dict[str, Any] = {
            "ImageId": "ami-12c6146b", "MinCount": 1, "MaxCount": 1, "InstanceType": "t3.micro",
            "SubnetId": subnet,
            "TagSpecifications": [{"ResourceType": "instance",
                                   "Tags": [{"Key": "Name", "Value": server.name}]}],
        }
        if server.name in attached:
            request["SecurityGroupIds"] = sorted(set(attached[server.name]))
        ec2.run_instances(**request)


def _read_back(ec2: Any, vpc: str, system: System, state: AwsState) -> None:
    group_ids: set[str] = set()
    reservations = ec2.describe_instances(
        Filters=[{"Name": "vpc-id", "Values": [vpc]}])["Reservations"]
    for reservation in reservations:
        for instance in reservation["Instances"]:
            tags = {t["Key"]: t["Value"] for t in instance.get("Tags", [])}
            name = tags.get("Name", "")
            groups = [g["GroupId"] for g in instance.get("SecurityGroups", [])]
            state.groups_of[name] = groups
            group_ids.update(groups)
            addresses: list[ipaddress.IPv4Address | ipaddress.IPv6Address] = []
            if instance.get("PrivateIpAddress"):
                addresses.append(ipaddress.ip_address(instance["PrivateIpAddress"]))
            state.addresses_of[name] = addresses
    for server in system.servers:  # the topology's own addresses count for CIDR rules too
        state.addresses_of.setdefault(server.name, []).extend(server.addresses)
    for gid in sorted(group_ids):
        rules = ec2.describe_security_group_rules(
            Filters=[{"Name": "group-id", "Values": [gid]}])["SecurityGroupRules"]
        state.rules_of[gid] = rules


def _service_matches(rule: dict[str, Any], service: Service, port: int) -> bool:
    protocol = normalize_protocol(rule.get("IpProtocol", ""))
    low, high = int(rule.get("FromPort", -1)), int(rule.get("ToPort", -1))
    if protocol == "-1":
        return True
    if service is Service.SERVER_PORT:
        return protocol == "tcp" and low <= port <= high
    wanted = ("icmp", ICMP_ECHO_REQUEST) if service is Service.ICMP_ECHO else (
        "icmpv6", ICMPV6_ECHO_REQUEST)
    return protocol == wanted[0] and low in (-1, wanted[1]) and high in (-1, 0)


def _peer_matches(rule: dict[str, Any], service: Service, peer_groups: list[str],
                  peer_addresses: list[ipaddress.IPv4Address | ipaddress.IPv6Address]) -> bool:
    referenced = rule.get("ReferencedGroupInfo", {}).get("GroupId")
    if referenced:
        return referenced in peer_groups
    for key in ("CidrIpv4", "CidrIpv6"):
        if rule.get(key):
            network = ipaddress.ip_network(rule[key], strict=False)
            if service is Service.ICMP_ECHO and network.version != 4:
                return False
            if service is Service.ICMPV6_ECHO and network.version != 6:
                return False
            return any(a.version == network.version and a in network for a in peer_addresses)
    return False


def decide_aws(state: AwsState, port: int, src: Server, dst: Server,
               service: Service) -> Decision:
    """Allowed when some group of the source lets it out and some group of the destination
    lets it in (security groups on one interface add up; DOMAIN.md)."""

    def allowing(server: Server, peer: Server, egress: bool) -> list[str]:
        found = []
        for gid in state.groups_of.get(server.name, []):
            for rule in state.rules_of.get(gid, []):
                if rule.get("IsEgress") is egress and _service_matches(rule, service, port) and \
                        _peer_matches(rule, service, state.groups_of.get(peer.name, []),
                                      state.addresses_of.get(peer.name, [])):
                    rid = rule["SecurityGroupRuleId"]
                    found.append(state.address_of_rule.get(rid, f"{gid} rule {rid}"))
        return sorted(set(found))

    out = allowing(src, dst, egress=True)
    into = allowing(dst, src, egress=False)
    if out and into:
        return Decision(True, f"{out[0]} + {into[0]}")
    missing = []
    if not out:
        missing.append(f"no egress rule on {src.name}'s groups")
    if not into:
        missing.append(f"no ingress rule on {dst.name}'s groups")
    return Decision(False, " and ".join(missing))
