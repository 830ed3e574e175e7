"""Cloud quotas the emitted rules must fit (DOMAIN.md "Cloud facts"), and their headroom.

`generate` refuses a topology whose rules would exceed one; `flows --format json` reports the
headroom. With rules written per role group, version-1 topologies stay far below every quota;
the check guards what version 2 adds (a rule per client network and port).
"""

from __future__ import annotations

from dataclasses import dataclass

from generator.errors import Problem, TopologyError
from generator.model import System, Target
from generator.targets.aws import aws_rules
from generator.targets.aws_peers import aws_peer_rules
from generator.targets.azure import nsg_rules
from generator.targets.azure_peers import peer_nsg_rules

AWS_RULES_PER_GROUP_AND_DIRECTION = 60  # default quota, IPv4 and IPv6 counted separately
AZURE_RULES_PER_NSG = 1000
AZURE_ASGS_PER_RULE = 10


@dataclass(frozen=True)
class Usage:
    cloud: str
    scope: str  # "<group> ingress", "<group> NSG", ...
    used: int
    limit: int

    @property
    def headroom(self) -> int:
        return self.limit - self.used

    def as_dict(self) -> dict[str, object]:
        return {"cloud": self.cloud, "scope": self.scope, "used": self.used,
                "limit": self.limit, "headroom": self.headroom}


def usage(system: System) -> list[Usage]:
    found: list[Usage] = []
    if Target.AWS in system.targets:
        rules = aws_rules(system)
        peers = aws_peer_rules(system)
        # a group reference counts against the IPv4 and the IPv6 quota alike, a CIDR against
        # its own family's
        families = ((4, 6),) if not peers else ((4,), (6,))
        for group in system.groups:
            for direction in ("ingress", "egress"):
                refs = sum(1 for r in rules if r.group is group and r.direction == direction)
                for family in families:
                    used = refs + sum(1 for r in peers if r.group is group
                                      and r.direction == direction
                                      and r.network.version in family)
                    label = ("IPv4 and IPv6 each" if len(family) == 2
                             else f"IPv{family[0]}")
                    found.append(Usage("aws", f"security group {system.name}-{group.slug} "
                                              f"{direction} rules ({label})",
                                       used, AWS_RULES_PER_GROUP_AND_DIRECTION))
    if Target.AZURE in system.targets:
        nsg = nsg_rules(system)
        extra = peer_nsg_rules(system)
        for group in system.groups:
            used = sum(1 for r in nsg if r.group is group) + sum(
                1 for r in extra if r.group is group)
            found.append(Usage("azure", f"NSG {system.name}-{group.slug}-nsg rules", used,
                               AZURE_RULES_PER_NSG))
        found.append(Usage("azure", "application security groups in one deny rule",
                           len(system.groups), AZURE_ASGS_PER_RULE))
    return found


def priorities(system: System) -> dict[str, list[int]]:
    """Azure priorities in use per NSG (both directions), for the headroom report."""
    used: dict[str, set[int]] = {}
    taken = [(r.group, r.priority) for r in nsg_rules(system)]
    taken += [(r.group, r.priority) for r in peer_nsg_rules(system)]
    for group, priority in taken:
        used.setdefault(f"{system.name}-{group.slug}-nsg", set()).add(priority)
    return {name: sorted(values) for name, values in sorted(used.items())}


def check_quotas(system: System, path: str) -> None:
    """Raise TopologyError naming each group whose rules would exceed a quota."""
    over = [u for u in usage(system) if u.used > u.limit]
    if over:
        raise TopologyError([Problem(path, 1, 1,
                                     f"{u.cloud}: {u.scope}: {u.used} rules exceed the quota "
                                     f"of {u.limit}") for u in over])
