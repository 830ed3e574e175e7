"""AWS: one security group per role group, one rule resource per flow and direction."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from generator.intent.flows import Flow, group_flows
from generator.intent.services import SERVER_SERVICES_ORDER
from generator.model import RoleGroup, System
from generator.targets.aws.peers import aws_peer_rules
from generator.targets.limits import Usage
from generator.targets.module import ModuleFiles, render_module

# The lowest hashicorp/aws release with every resource and attribute the modules use:
# aws_vpc_security_group_{ingress,egress}_rule (with tags) first shipped in 4.56.0 (provider
# pull request 29484). The tests validate, plan and apply the modules with the provider found on
# the machine (5.100 here) and check the emitted attributes against the 6.x schema dump.
AWS_PROVIDER_MIN = "4.56"


@dataclass(frozen=True)
class AwsRule:
    """One `aws_vpc_security_group_{ingress,egress}_rule`: `group` owns it, `peer` is referenced."""

    direction: str  # "ingress" | "egress"
    flow: Flow
    protocol: str
    from_port: int
    to_port: int
    description: str

    @property
    def group(self) -> RoleGroup:
        src, dst = self.flow.groups
        return dst if self.direction == "ingress" else src

    @property
    def peer(self) -> RoleGroup:
        src, dst = self.flow.groups
        return src if self.direction == "ingress" else dst

    @property
    def resource_type(self) -> str:
        return f"aws_vpc_security_group_{self.direction}_rule"

    @property
    def name(self) -> str:
        """Stable and semantic: it depends only on what the rule is."""
        link = "from" if self.direction == "ingress" else "to"
        return f"{self.group.value}_{link}_{self.peer.value}_{self.flow.service}"

    @property
    def address(self) -> str:
        return f"{self.resource_type}.{self.name}"


def protocol_and_ports(flow: Flow) -> tuple[str, int, int]:
    """AWS encoding: ICMP rules put the type in from_port and the code in to_port (-1: any)."""
    (low, high), = flow.ports
    return (flow.protocol, low, -1) if flow.is_icmp else (flow.protocol, low, high)


@lru_cache(maxsize=256)
def aws_rules(system: System) -> tuple[AwsRule, ...]:
    rules: list[AwsRule] = []
    for flow in group_flows(system):
        protocol, low, high = protocol_and_ports(flow)
        for direction in ("ingress", "egress"):
            rules.append(AwsRule(direction, flow, protocol, low, high, flow.description()))
    # egress rules follow the group that owns them, then ingress: a reader finds a group's rules
    # together; the order is a function of the rules alone.
    return tuple(sorted(rules, key=lambda r: (r.group.index, r.direction != "ingress",
                                             r.peer.index,
                                             SERVER_SERVICES_ORDER.index(r.flow.service))))


def render_aws(system: System) -> ModuleFiles:
    rules = aws_rules(system)
    rules_by_flow: dict[Flow, list[AwsRule]] = {}
    for rule in rules:
        rules_by_flow.setdefault(rule.flow, []).append(rule)
    return render_module("aws", system, {
        "rules": rules,
        "rules_by_flow": rules_by_flow,
        "peer_rules": aws_peer_rules(system),
        "flows": group_flows(system),
        "provider_min": AWS_PROVIDER_MIN,
    })


# AWS VPC quotas (docs/design.md): rules per security group and direction, counted apart for
# IPv4 and IPv6; a reference to a group counts against both.
RULES_PER_GROUP_AND_DIRECTION = 60


def aws_limits(system: System, folder: str) -> list[Usage]:
    rules, peers = aws_rules(system), aws_peer_rules(system)
    # without CIDR rules, both families carry the same count: one line says so
    families = ((4, 6),) if not peers else ((4,), (6,))
    found = []
    for group in system.groups:
        for direction in ("ingress", "egress"):
            refs = sum(1 for r in rules if r.group is group and r.direction == direction)
            for family in families:
                used = refs + sum(1 for r in peers if r.group is group
                                  and r.direction == direction and r.network.version in family)
                label = "IPv4 and IPv6 each" if len(family) == 2 else f"IPv{family[0]}"
                found.append(Usage("aws", folder, f"security group {system.resource_name}-"
                                   f"{group.slug} {direction} rules ({label})", used,
                                   RULES_PER_GROUP_AND_DIRECTION))
    return found
