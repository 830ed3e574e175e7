"""AWS network ACLs as a plan leaves them, in the shape DescribeNetworkAcls gives (the judge's
generator/judge/aws_acl.py): `aws_network_acl` and `aws_default_network_acl` with their inline
`ingress`/`egress` blocks (where the configuration writes them) and `subnet_ids`,
`aws_network_acl_rule` and `aws_network_acl_association`; `aws_subnet` gives a subnet's CIDR
blocks (traffic inside them never crosses its ACL). A subnet with no ACL in the plan keeps
whatever it has; the default ACL allows everything.
"""

from __future__ import annotations

from typing import Any

from generator.judge.addresses import AddressSet
from generator.judge.aws_acl import Acl
from generator.sources.plan import PlanResource, Resolver

ACL_TYPES = ("aws_network_acl", "aws_default_network_acl", "aws_network_acl_rule",
             "aws_network_acl_association", "aws_subnet")


def _entry(number: Any, egress: bool, protocol: Any, action: Any, values: dict[str, Any],
           label: str) -> dict[str, Any]:
    proto = str(protocol if protocol is not None else "-1").lower()
    entry: dict[str, Any] = {"RuleNumber": _number(number, 32767), "Egress": egress,
                             "Protocol": proto, "RuleAction": str(action or "deny").lower(),
                             "CidrBlock": values.get("cidr_block") or None,
                             "Ipv6CidrBlock": values.get("ipv6_cidr_block") or None,
                             "Label": label}
    if proto in ("tcp", "udp", "6", "17"):
        entry["PortRange"] = {"From": _number(values.get("from_port"), 0),
                              "To": _number(values.get("to_port"), 65535)}
    elif proto in ("icmp", "icmpv6", "1", "58"):
        entry["IcmpTypeCode"] = {"Type": _number(values.get("icmp_type"), -1),
                                 "Code": _number(values.get("icmp_code"), -1)}
    return entry


def _number(value: Any, default: int) -> int:
    return default if value in (None, "") else int(value)


def plan_acls(found: list[PlanResource], resolve: Resolver) -> dict[str, Acl]:
    """Each subnet's network ACL, as the plan leaves it (subnet id -> ACL)."""
    entries: dict[str, list[dict[str, Any]]] = {}
    labels: dict[str, str] = {}
    subnets: dict[str, str] = {}  # subnet -> ACL
    cidrs: dict[str, AddressSet] = {}
    for r in found:
        if r.type in ("aws_network_acl", "aws_default_network_acl"):
            key = r.id()
            labels[key] = r.address
            entries.setdefault(key, [])
            if r.type == "aws_default_network_acl" and r.values.get("default_network_acl_id"):
                labels[str(r.values["default_network_acl_id"])] = r.address
            config = resolve.config(r)
            for direction in ("ingress", "egress"):
                if config and direction not in (config.get("expressions") or {}):
                    continue  # computed: a mirror of the ACL's current entries
                for block in r.values.get(direction) or []:
                    entries[key].append(_entry(block.get("rule_no"), direction == "egress",
                                               block.get("protocol"), block.get("action"),
                                               block, f"{r.address} {direction} rule "
                                                      f"{block.get('rule_no')}"))
            for subnet in resolve.values(r, "subnet_ids"):
                subnets[subnet] = key
        elif r.type == "aws_subnet":
            blocks = [r.values.get("cidr_block"), r.values.get("ipv6_cidr_block")]
            cidrs[r.id()] = AddressSet.of(*[b for b in blocks if b])
    for r in found:
        if r.type == "aws_network_acl_rule":
            acl = resolve.value(r, "network_acl_id")
            if acl is None:
                continue
            egress = bool(r.values.get("egress"))
            entries.setdefault(str(acl), []).append(_entry(
                r.values.get("rule_number"), egress, r.values.get("protocol"),
                r.values.get("rule_action"), r.values, f"{r.address} (rule "
                                                       f"{r.values.get('rule_number')})"))
        elif r.type == "aws_network_acl_association":
            acl, subnet = resolve.value(r, "network_acl_id"), resolve.value(r, "subnet_id")
            if acl is not None and subnet is not None:
                subnets[str(subnet)] = str(acl)
    return {subnet: Acl(acl, entries.get(acl, []), cidrs.get(subnet, AddressSet()),
                        labels.get(acl, acl))
            for subnet, acl in subnets.items()}
