"""AWS, emulated in moto without Terraform: the module's groups and rules are created through
boto3 from the HCL, one network interface per server address (link) is created with the groups
the module's outputs give its server, and everything is read back with describe_* before the
judge sees it (generator/sources/ec2.py). A server the module gives no group gets the VPC's
default group, as an interface without groups does in AWS. `verify --terraform` builds through
the real provider instead.

moto replies to a call with several IpPermissions with the last one only, but stores them all:
rules go in one call per group and direction, and are labelled by matching what is read back.
Terraform's `aws_security_group` revokes the default allow-all egress rule of a new
group unless it is declared; that is done here too.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from generator.judge.aws import AwsState, normalize_protocol
from generator.judge.sides import Link
from generator.model import Server
from generator.sources.ec2 import read_state
from generator.sources.hcl_module import (
    Module,
    Resource,
    as_list,
    groups_by_server,
    interface_owner,
    referenced_name,
)

_RULE_TYPES = ("aws_vpc_security_group_ingress_rule", "aws_vpc_security_group_egress_rule")


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


@functools.cache
def _share_botocore_loader() -> None:
    """botocore gives every session a data loader of its own, and moto makes a session for
    each backend it sets up (to list the regions), so the same JSON service models are parsed
    again and again: about a second of a cold `verify`. One loader per data path, shared by
    every session of this process: the models are read-only."""
    import botocore.loaders  # noqa: PLC0415
    import botocore.session  # noqa: PLC0415

    original = botocore.loaders.create_loader
    made: dict[str | None, Any] = {}

    def shared(search_path_string: str | None = None) -> Any:
        if search_path_string not in made:
            made[search_path_string] = original(search_path_string)
        return made[search_path_string]

    botocore.session.create_loader = shared


@contextmanager
def moto_sandbox() -> Iterator[Any]:
    """One emulated AWS account and EC2 client for a whole run: each system gets its own VPC
    in it, so many systems cost one moto start-up, not one each."""
    # imported here, not at the top: moto takes a second to load and `generate` never needs it
    import boto3  # noqa: PLC0415

    _share_botocore_loader()
    from moto import mock_aws  # noqa: PLC0415

    with _fake_credentials(), mock_aws():
        if boto3.DEFAULT_SESSION is None:
            boto3.setup_default_session()
        # one session per process: its model cache is shared by every sandbox (and, in
        # `verify`'s workers, with the parent that loaded it before forking)
        yield boto3.client("ec2", region_name="eu-west-1")


def clear_sandbox() -> None:
    """Empty the sandbox's EC2 account between systems: moto answers describe_* by scanning
    everything it holds, so an account that keeps every system's groups slows down with each."""
    from moto.ec2.models import ec2_backends  # noqa: PLC0415

    ec2_backends.reset()


def build_in_moto(links: list[tuple[Server, Link]], module: Module,
                  ec2: Any | None = None) -> AwsState:
    """Build `module` in its own VPC of the sandbox `ec2` (a fresh one if None), with one
    interface per link of the servers `links` names."""
    if ec2 is None:
        with moto_sandbox() as sandbox:
            return build_in_moto(links, module, sandbox)
    problems: list[str] = []
    labels: dict[str, str] = {}  # rule or group id -> the module resource that made it
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.0.0/20")["Subnet"]["SubnetId"]
    group_ids = _create_groups(ec2, vpc, module)
    labels.update({gid: f"aws_security_group.{name}" for name, gid in group_ids.items()})
    _authorize_all(ec2, module, group_ids, labels, problems)
    interfaces = _link_interfaces(ec2, subnet, links, module, group_ids, problems)
    state = read_state(ec2, interfaces, labels,
                       addresses={eni: [link.address] for link, eni in interfaces.items()})
    state.problems[:0] = problems
    return state


def _create_groups(ec2: Any, vpc: str, module: Module) -> dict[str, str]:
    ids: dict[str, str] = {}
    for resource in module.of_type("aws_security_group"):
        # a name_prefix such as "${var.name_prefix}redundant-": unique within its VPC as it is
        name = str(resource.attrs.get("name") or resource.attrs.get("name_prefix")
                   or resource.name)
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


def _authorize_all(ec2: Any, module: Module, ids: dict[str, str], labels: dict[str, str],
                   problems: list[str]) -> None:
    """Every rule resource, one API call per group and direction (moto stores each permission
    of a call, though its reply lists only the last): each rule is then labelled by matching
    what was read back. A call AWS would refuse is retried one rule at a time, so the refusal
    names its resource."""
    from botocore.exceptions import ClientError  # noqa: PLC0415

    batches: dict[tuple[str, bool], list[tuple[Resource, dict[str, Any]]]] = {}
    for rtype in _RULE_TYPES:
        for resource in module.of_type(rtype):
            permission = _permission(resource, ids, problems)
            if permission is not None:
                owner = ids[str(referenced_name(resource.attrs.get("security_group_id"),
                                                "aws_security_group"))]
                batches.setdefault((owner, rtype.endswith("egress_rule")), []).append(
                    (resource, permission))
    for (gid, egress), items in sorted(batches.items()):
        call = ec2.authorize_security_group_egress if egress else \
            ec2.authorize_security_group_ingress
        try:
            call(GroupId=gid, IpPermissions=[p for _, p in items])
        except ClientError:  # one at a time, to name the rule AWS refuses
            for resource, permission in items:
                try:
                    call(GroupId=gid, IpPermissions=[permission])
                except ClientError as exc:
                    problems.append(f"{resource.address}: AWS refuses it: {exc}")
        rules = ec2.describe_security_group_rules(
            Filters=[{"Name": "group-id", "Values": [gid]}])["SecurityGroupRules"]
        for resource, permission in items:
            for rule in rules:
                if bool(rule.get("IsEgress")) is egress and _same(rule, permission):
                    labels[rule["SecurityGroupRuleId"]] = resource.address


def _same(rule: dict[str, Any], permission: dict[str, Any]) -> bool:
    """Whether a rule read back is the permission that was authorised."""
    if normalize_protocol(rule.get("IpProtocol")) != permission["IpProtocol"]:
        return False
    if permission["IpProtocol"] != "-1" and (
            rule.get("FromPort"), rule.get("ToPort")) != (permission.get("FromPort"),
                                                         permission.get("ToPort")):
        return False
    peer = (rule.get("ReferencedGroupInfo", {}).get("GroupId") or rule.get("CidrIpv4")
            or rule.get("CidrIpv6") or rule.get("PrefixListId"))
    wanted = [v for key, field in (("UserIdGroupPairs", "GroupId"), ("IpRanges", "CidrIp"),
                                   ("Ipv6Ranges", "CidrIpv6"), ("PrefixListIds", "PrefixListId"))
              for v in (x[field] for x in permission.get(key, []))]
    return [peer] == wanted


def _permission(resource: Resource, ids: dict[str, str],
                problems: list[str]) -> dict[str, Any] | None:
    """The IpPermissions entry a rule resource stands for, or None (with the problem)."""
    attrs = resource.attrs
    owner = referenced_name(attrs.get("security_group_id"), "aws_security_group")
    if owner not in ids:
        problems.append(f"{resource.address}: security_group_id does not name a "
                              "security group of this module")
        return None
    protocol = normalize_protocol(attrs.get("ip_protocol", ""))
    permission: dict[str, Any] = {"IpProtocol": protocol}
    if protocol != "-1":
        permission["FromPort"] = int(attrs.get("from_port", -1))
        permission["ToPort"] = int(attrs.get("to_port", -1))
    peers = [k for k in ("referenced_security_group_id", "cidr_ipv4", "cidr_ipv6",
                         "prefix_list_id") if k in attrs]
    if len(peers) != 1:
        problems.append(f"{resource.address}: needs exactly one of "
                              "referenced_security_group_id, cidr_ipv4, cidr_ipv6, prefix_list_id")
        return None
    peer = peers[0]
    if peer == "referenced_security_group_id":
        ref = referenced_name(attrs[peer], "aws_security_group")
        if ref not in ids:
            problems.append(f"{resource.address}: {peer} does not name a security "
                                  "group of this module")
            return None
        permission["UserIdGroupPairs"] = [{"GroupId": ids[ref]}]
    elif peer == "cidr_ipv4":
        permission["IpRanges"] = [{"CidrIp": str(attrs[peer])}]
    elif peer == "cidr_ipv6":
        permission["Ipv6Ranges"] = [{"CidrIpv6": str(attrs[peer])}]
    else:
        permission["PrefixListIds"] = [{"PrefixListId": str(attrs[peer])}]
    return permission


def _link_interfaces(ec2: Any, subnet: str, links: list[tuple[Server, Link]], module: Module,
                     ids: dict[str, str], problems: list[str]) -> dict[Link, str]:
    """One interface per link, with the groups the module's `security_group_ids_by_server`
    output gives its server (what the interface's owner lists), plus any group a hand-written
    attachment resource adds; returns link -> interface id. moto picks the interface's own
    address; the judge takes the link's."""
    attached: dict[str, list[str]] = {}
    for owner_name, names in groups_by_server(module, "security_group_ids_by_server",
                                              "aws_security_group").items():
        attached.setdefault(owner_name, []).extend(ids[n] for n in names if n in ids)
    for resource in module.of_type("aws_network_interface_sg_attachment"):
        owner = interface_owner(resource)
        group = referenced_name(resource.attrs.get("security_group_id"), "aws_security_group")
        if owner is None or group is None or group not in ids:
            problems.append(f"{resource.address}: cannot tell which server and group "
                            "it attaches")
            continue
        attached.setdefault(owner, []).append(ids[group])
    interfaces: dict[Link, str] = {}
    for server, link in links:
        request: dict[str, Any] = {"SubnetId": subnet, "Description": str(link)}
        if server.name in attached:
            request["Groups"] = sorted(set(attached[server.name]))
        eni = ec2.create_network_interface(**request)["NetworkInterface"]
        interfaces[link] = eni["NetworkInterfaceId"]
    return interfaces
