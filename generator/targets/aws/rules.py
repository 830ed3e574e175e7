"""The rules between the role groups of an AWS module: one rule resource per flow, direction
and port, referencing the peer's group (never addresses)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property, lru_cache

from generator.intent.flows import Flow, group_flows
from generator.intent.services import SERVER_PORT, SERVER_SERVICES_ORDER
from generator.model import RoleGroup, System
from generator.targets.aws.names import port_suffix


@dataclass(frozen=True)
class AwsRule:
    """One `aws_vpc_security_group_{ingress,egress}_rule`: `group` owns it, `peer` is referenced."""

    direction: str  # "ingress" | "egress"
    flow: Flow
    protocol: str
    from_port: int
    to_port: int
    description: str

    @cached_property
    def group(self) -> RoleGroup:
        src, dst = self.flow.groups
        return dst if self.direction == "ingress" else src

    @cached_property
    def peer(self) -> RoleGroup:
        src, dst = self.flow.groups
        return src if self.direction == "ingress" else dst

    @cached_property
    def resource_type(self) -> str:
        return f"aws_vpc_security_group_{self.direction}_rule"

    @cached_property
    def name(self) -> str:
        """Stable and semantic: it depends only on what the rule is (its port included)."""
        return self.plain_name + (port_suffix(self.from_port)
                                  if self.flow.service == SERVER_PORT else "")

    @cached_property
    def plain_name(self) -> str:
        """The name without its port, as modules before port migrations named every rule."""
        link = "from" if self.direction == "ingress" else "to"
        return f"{self.group.value}_{link}_{self.peer.value}_{self.flow.service}"

    @cached_property
    def address(self) -> str:
        return f"{self.resource_type}.{self.name}"


def protocol_and_ports(flow: Flow) -> tuple[str, int, int]:
    """AWS encoding: ICMP rules put the type in from_port and the code in to_port (-1: any)."""
    (low, high), = flow.ports
    return (flow.protocol, low, -1) if flow.is_icmp else (flow.protocol, low, high)


@lru_cache(maxsize=256)
def aws_rules(system: System) -> tuple[AwsRule, ...]:
    return _rules_of(group_flows(system))


@lru_cache(maxsize=256)
def _rules_of(flows: tuple[Flow, ...]) -> tuple[AwsRule, ...]:
    """The rules of these flows: the same objects for every system whose group flows are
    these (intent/flows.py), so what is rendered from a rule is rendered once."""
    rules: list[AwsRule] = []
    for whole in flows:
        for ports in whole.ports:  # two server ports during a migration: a rule for each
            flow = whole.on(ports)
            protocol, low, high = protocol_and_ports(flow)
            for direction in ("ingress", "egress"):
                rules.append(AwsRule(direction, whole, protocol, low, high, flow.description()))
    # egress rules follow the group that owns them, then ingress: a reader finds a group's rules
    # together; the order is a function of the rules alone.
    return tuple(sorted(rules, key=lambda r: (r.group.index, r.direction != "ingress",
                                             r.peer.index,
                                             SERVER_SERVICES_ORDER.index(r.flow.service),
                                             r.from_port)))
