"""Cloud quotas the emitted modules must fit (counted by each target on what it renders,
generator/targets/), and Azure's priorities in use, for `generate`'s refusal and for
`flows --format json`'s headroom."""

from __future__ import annotations

from generator.errors import Problem, TopologyError
from generator.model import System, Target
from generator.targets import usage
from generator.targets.azure.peers import peer_nsg_rules
from generator.targets.azure.rules import nsg_rules
from generator.targets.placement import placements

__all__ = ["check_quotas", "priorities", "usage"]


def priorities(system: System) -> dict[str, list[int]]:
    """Azure priorities in use per NSG (both directions), module by module."""
    used: dict[str, set[int]] = {}
    for placed in placements(system):
        if placed.target is not Target.AZURE:
            continue
        view = placed.view
        taken = [(r.group, r.priority) for r in nsg_rules(view)]
        taken += [(r.group, r.priority) for r in peer_nsg_rules(view)]
        for group, priority in taken:
            used.setdefault(f"{view.resource_name}-{group.slug}-nsg", set()).add(priority)
    return {name: sorted(values) for name, values in sorted(used.items())}


def check_quotas(system: System, path: str) -> None:
    """Raise TopologyError naming each quota a module's rules would exceed."""
    over = [u for u in usage(system) if u.used > u.limit]
    if over:
        raise TopologyError([Problem(path, 1, 1, f"{u.cloud} module {u.module}: {u.scope}: "
                                                 f"{u.used} exceed the quota of {u.limit}")
                             for u in over])
