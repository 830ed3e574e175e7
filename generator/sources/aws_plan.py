"""AWS security groups as a plan leaves them, in the judge's AWS shape
(generator/judge/aws.py: rules as EC2's DescribeSecurityGroupRules returns them).

Rules come from `aws_vpc_security_group_{ingress,egress}_rule`, the legacy
`aws_security_group_rule` and inline `ingress`/`egress` blocks. Every `aws_network_interface`
and `aws_instance` of the plan is an interface; a server address's interface is the one that
holds the address. Its groups are what the owning resource lists (`security_groups`,
`vpc_security_group_ids`) plus any `aws_network_interface_sg_attachment` to it (by the
interface's id, or an instance's primary interface id). A list known only after apply is
followed through its references: a scadafw module's `security_group_ids_by_server` gives the
server's role group (its group tagged so in that module), a group resource its id; anything
else leaves the interface's groups undecided. Groups outside the plan are not in it: the
review says so.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Any

from generator.judge.aws import AwsState, Interface, normalize_protocol
from generator.judge.sides import Link
from generator.model import System
from generator.sources.acl_plan import ACL_TYPES, plan_acls
from generator.sources.plan import PlanResource, Resolver

AWS_TYPES = ("aws_security_group", "aws_vpc_security_group_ingress_rule",
             "aws_vpc_security_group_egress_rule", "aws_security_group_rule",
             "aws_network_interface_sg_attachment", "aws_network_interface", "aws_instance")
# the resources that own an interface, and the attribute that lists its groups
OWNERS = {"aws_network_interface": "security_groups", "aws_instance": "vpc_security_group_ids"}
_BY_SERVER = re.compile(r"^module\.(?P<call>[A-Za-z0-9_-]+)(?P<instance>\[[^\]]*\])?"
                        r"\.security_group_ids_by_server")


def _ports(protocol: str, low: Any, high: Any) -> tuple[int, int]:
    if protocol == "-1":
        return -1, -1
    return int(low if low is not None else -1), int(high if high is not None else -1)


def _rule(gid: str, rid: str, egress: bool, protocol: Any, low: Any, high: Any,
          peer: dict[str, Any]) -> dict[str, Any]:
    proto = normalize_protocol(protocol if protocol is not None else "-1")
    from_port, to_port = _ports(proto, low, high)
    return {"GroupId": gid, "SecurityGroupRuleId": rid, "IsEgress": egress,
            "IpProtocol": proto, "FromPort": from_port, "ToPort": to_port, **peer}


def _peers(cidrs: Any, v6: Any, groups: list[Any], lists: Any) -> list[
        dict[str, Any]]:
    found: list[dict[str, Any]] = [{"CidrIpv4": str(c)} for c in cidrs or []]
    found += [{"CidrIpv6": str(c)} for c in v6 or []]
    found += [{"ReferencedGroupInfo": {"GroupId": str(g)}} for g in groups or [] if g]
    found += [{"PrefixListId": str(p)} for p in lists or []]
    return found


class AwsPlan:
    """The AWS side of one plan, before or after it."""

    def __init__(self, found: list[PlanResource], resolver: Resolver) -> None:
        self.resources = [r for r in found if r.type in AWS_TYPES]
        self.everything = [r for r in found if r.type in ACL_TYPES]
        self.resolve = resolver
        self.rules: dict[str, list[dict[str, Any]]] = {}
        self.names: dict[str, str] = {}
        self.labels: dict[str, str] = {}
        self.attached: dict[str, set[str]] = {}  # ENI -> group ids
        self.tags: dict[str, dict[str, str]] = {}
        for resource in self.resources:
            getattr(self, f"_{resource.type}", lambda _: None)(resource)

    def _aws_security_group(self, r: PlanResource) -> None:
        gid = r.id()
        self.names[gid] = str(r.values.get("name") or r.name)
        self.labels[gid] = r.address
        self.tags[gid] = dict(r.values.get("tags") or {})
        rules = self.rules.setdefault(gid, [])
        config = self.resolve.config(r)
        for direction in ("ingress", "egress"):
            # where the configuration does not write inline rules, the provider fills these
            # attributes from the group's current rules (rule resources included): a mirror
            # of the state before the plan, not what the plan makes
            if config and direction not in (config.get("expressions") or {}):
                continue
            for i, block in enumerate(r.values.get(direction) or []):
                groups = list(block.get("security_groups") or [])
                if block.get("self"):
                    groups.append(gid)
                for j, peer in enumerate(_peers(block.get("cidr_blocks"),
                                                block.get("ipv6_cidr_blocks"), groups,
                                                block.get("prefix_list_ids"))):
                    rid = f"{r.address} {direction}[{i}]#{j}"
                    self.labels[rid] = f"{r.address} (inline {direction})"
                    rules.append(_rule(gid, rid, direction == "egress", block.get("protocol"),
                                       block.get("from_port"), block.get("to_port"), peer))

    def _rule_resource(self, r: PlanResource, egress: bool) -> None:
        gid = self.resolve.value(r, "security_group_id")
        if gid is None:
            return
        peers = _peers([r.values["cidr_ipv4"]] if r.values.get("cidr_ipv4") else [],
                       [r.values["cidr_ipv6"]] if r.values.get("cidr_ipv6") else [],
                       [self.resolve.value(r, "referenced_security_group_id")]
                       if "referenced_security_group_id" in r.values
                       or "referenced_security_group_id" in r.unknown else [],
                       [r.values["prefix_list_id"]] if r.values.get("prefix_list_id") else [])
        for j, peer in enumerate(peers):
            rid = f"{r.address}#{j}"
            self.labels[rid] = r.address
            self.rules.setdefault(str(gid), []).append(_rule(
                str(gid), rid, egress, r.values.get("ip_protocol"), r.values.get("from_port"),
                r.values.get("to_port"), peer))

    def _aws_vpc_security_group_ingress_rule(self, r: PlanResource) -> None:
        self._rule_resource(r, egress=False)

    def _aws_vpc_security_group_egress_rule(self, r: PlanResource) -> None:
        self._rule_resource(r, egress=True)

    def _aws_security_group_rule(self, r: PlanResource) -> None:
        gid = self.resolve.value(r, "security_group_id")
        if gid is None:
            return
        if r.values.get("self"):
            groups = [gid]
        elif "source_security_group_id" in r.unknown or r.values.get("source_security_group_id"):
            source = self.resolve.value(r, "source_security_group_id")
            groups = [source] if source else []
        else:
            groups = []
        for j, peer in enumerate(_peers(r.values.get("cidr_blocks"),
                                        r.values.get("ipv6_cidr_blocks"), groups,
                                        r.values.get("prefix_list_ids"))):
            rid = f"{r.address}#{j}"
            self.labels[rid] = r.address
            self.rules.setdefault(str(gid), []).append(_rule(
                str(gid), rid, r.values.get("type") == "egress", r.values.get("protocol"),
                r.values.get("from_port"), r.values.get("to_port"), peer))

    def _aws_network_interface_sg_attachment(self, r: PlanResource) -> None:
        eni = self.resolve.value(r, "network_interface_id")
        gid = self.resolve.value(r, "security_group_id")
        if eni is not None and gid is not None:
            self.attached.setdefault(str(eni), set()).add(str(gid))

    def _addresses(self, r: PlanResource) -> list[str]:
        found = [str(a) for a in r.values.get("private_ips") or []]
        if r.values.get("private_ip") and str(r.values["private_ip"]) not in found:
            found.append(str(r.values["private_ip"]))
        found += [str(a) for a in r.values.get("ipv6_addresses") or []]
        return found

    def _module_group(self, module: str, system: System, role_group: str) -> str | None:
        """The group a scadafw module of `system` (at `module`) makes for `role_group`."""
        for gid, tags in self.tags.items():
            label = self.labels.get(gid, "")
            if (label.startswith(f"{module}.aws_security_group.")
                    and tags.get("scadafw:system") == system.name
                    and tags.get("scadafw:role-group") == role_group):
                return gid
        return None

    def _listed(self, r: PlanResource, system: System,
                server: str | None) -> tuple[list[str], str]:
        """The groups an owning resource lists, known or followed through its references;
        and, where a reference cannot be followed, what (the groups are then undecided)."""
        attr = OWNERS[r.type]
        known = r.values.get(attr)
        if attr not in r.unknown and isinstance(known, list):
            return [str(g) for g in known if g], ""
        config = self.resolve.config(r)
        expression = (config.get("expressions") or {}).get(attr) or {}
        listed = [str(x) for x in expression.get("references") or []]
        # Terraform lists each traversal and its prefixes ("module.x.out", "module.x")
        references = [x for x in listed
                      if not any(y != x and y.startswith((f"{x}.", f"{x}[")) for y in listed)]
        groups: list[str] = []
        role = next((s.group.value for s in system.servers if s.name == server), None)
        unfollowed = []
        for ref in references:
            match = _BY_SERVER.match(ref)
            gid = None
            if match and role is not None:
                instance = self.resolve.module_instance(r.module, match.group("call"),
                                                        match.group("instance"))
                gid = self._module_group(instance, system, role) if instance else None
            elif match or ref.startswith(("each.", "count.")):
                continue  # the map itself, or the instance's key: covered by the line above
            elif ref.startswith("aws_security_group.") and ref.count(".") <= 2:
                gid = self.resolve.value_of_reference(r.module, f"{ref.split('.id')[0]}.id")
            if gid is None:
                unfollowed.append(ref)
            elif gid not in groups:
                groups.append(gid)
        if not references and attr in r.unknown:
            unfollowed.append("(no reference)")
        if unfollowed:
            return groups, (f"{r.address}: {attr} is known only after apply and its "
                            f"references ({', '.join(unfollowed)}) cannot be followed in the "
                            "plan, so the groups of its interface are undecided")
        return groups, ""

    def state(self, system: System, links: list[Link]) -> tuple[AwsState, list[str]]:
        """Every interface in the plan, with the groups its owner lists and any attachment to
        it (by its own id or, for an instance, by its primary interface's), and each server
        address's interface; and what could not be decided. An interface whose groups are
        undecided is not judged (fail closed: never a missing flow it cannot know)."""
        state = AwsState(labels=dict(self.labels), group_names=dict(self.names),
                         group_tags={g: dict(t) for g, t in self.tags.items()},
                         rules_of={g: list(rules) for g, rules in self.rules.items()},
                         acls=dict(plan_acls(self.everything, self.resolve)))
        server_of = {str(k.address): k.server for k in links}
        undecided: list[str] = []
        for r in self.resources:
            if r.type not in OWNERS:
                continue
            addresses = self._addresses(r)
            servers = {server_of[a] for a in addresses if a in server_of}
            groups, unfollowed = self._listed(r, system, next(iter(sorted(servers)), None))
            for key in (r.id(), str(r.values.get("primary_network_interface_id") or "")):
                groups += [g for g in sorted(self.attached.get(key, set())) if g not in groups]
            if unfollowed:
                if servers:
                    undecided.append(unfollowed)
                continue
            state.interfaces[r.id()] = Interface(
                groups, [ipaddress.ip_address(a) for a in addresses],
                str(r.values.get("subnet_id") or ""), r.address)
            for link in links:
                if str(link.address) in addresses:
                    state.link_interface[link] = r.id()
        return state, undecided
