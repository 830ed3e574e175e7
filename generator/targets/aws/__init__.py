"""AWS: one security group per role group, one rule resource per flow, direction and port."""

from __future__ import annotations

from collections import Counter

from generator.intent.flows import group_flows
from generator.model import System
from generator.targets.aws.hcl import rule_resources
from generator.targets.aws.moves import aws_moves
from generator.targets.aws.peers import aws_peer_rules
from generator.targets.aws.rules import aws_rules
from generator.targets.aws.tables import flows_table
from generator.targets.limits import Usage
from generator.targets.module import ModuleFiles, render_module

# The lowest hashicorp/aws release with every resource and attribute the modules use:
# aws_vpc_security_group_{ingress,egress}_rule (with tags) first shipped in 4.56.0 (provider
# pull request 29484). The tests validate, plan and apply the modules with the provider found on
# the machine (5.100 here) and check the emitted attributes against the 6.x schema dump.
AWS_PROVIDER_MIN = "4.56"


def render_aws(system: System) -> ModuleFiles:
    rules, peer_rules, flows = aws_rules(system), aws_peer_rules(system), group_flows(system)
    return render_module("aws", system, {
        "rules": rules,
        "peer_rules": peer_rules,
        "rule_resources": rule_resources(system, rules, peer_rules),
        "flows_table": flows_table(flows, rules),
        "rule_count": Counter([r.direction for r in rules] + [r.direction for r in peer_rules]),
        "provider_min": AWS_PROVIDER_MIN,
        "moves": aws_moves(system),
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
