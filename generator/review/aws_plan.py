"""AWS security groups as a plan leaves them, in the shape the shared evaluator reads
(`aws_effective.AwsState`, rules as EC2's DescribeSecurityGroupRules returns them).

Rules come from `aws_vpc_security_group_{ingress,egress}_rule`, the legacy
`aws_security_group_rule` and inline `ingress`/`egress` blocks; a server's groups are those
attached to its interfaces by `aws_network_interface_sg_attachment` (any module's, or the
root's), plus `aws_network_interface.security_groups`. A scadafw module's attachments are named
after the server, which is how its interfaces are found. Groups attached outside the plan
(an instance's launch group) are not in it: the review says so.
"""

from __future__ import annotations

from typing import Any

from generator.model import System
from generator.review.plan import PlanResource, Resolver
from generator.verify.aws_effective import AwsState, normalize_protocol

AWS_TYPES = ("aws_security_group", "aws_vpc_security_group_ingress_rule",
             "aws_vpc_security_group_egress_rule", "aws_security_group_rule",
             "aws_network_interface_sg_attachment", "aws_network_interface")


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

    def _aws_network_interface(self, r: PlanResource) -> None:
        eni = r.values.get("id")
        for gid in r.values.get("security_groups") or []:
            if eni:
                self.attached.setdefault(str(eni), set()).add(str(gid))

    def server_interfaces(self, system: System) -> dict[str, list[str]]:
        """Each server's interfaces, from the attachments a scadafw module names after it."""
        idents = {s.ident: s.name for s in system.servers}
        found: dict[str, list[str]] = {}
        for r in self.resources:
            if r.type != "aws_network_interface_sg_attachment" or r.name not in idents:
                continue
            gid = self.resolve.value(r, "security_group_id")
            if self.tags.get(str(gid), {}).get("scadafw:system") != system.name:
                continue
            eni = self.resolve.value(r, "network_interface_id")
            if eni is not None and str(eni) not in found.setdefault(idents[r.name], []):
                found[idents[r.name]].append(str(eni))
        return found

    def state(self, system: System, interfaces: dict[str, list[str]]) -> AwsState:
        state = AwsState(labels=dict(self.labels), group_names=dict(self.names))
        for server in system.servers:
            ids = interfaces.get(server.name, [])
            state.interfaces_of[server.name] = ids
            state.groups_of[server.name] = sorted({g for eni in ids
                                                   for g in self.attached.get(eni, set())})
            state.addresses_of[server.name] = list(server.addresses)
        state.rules_of = {gid: list(rules) for gid, rules in self.rules.items()}
        return state
