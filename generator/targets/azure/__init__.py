"""Azure: per role group one application security group and one NSG (or the caller's NSG, mode
`existing`); the rules and their priorities are generator/targets/azure/rules.py and peers.py,
their HCL attributes hcl.py. This module renders them and counts Azure's limits."""

from __future__ import annotations

from generator.model import System
from generator.targets.azure.hcl import AzurePlacement
from generator.targets.azure.moves import azure_moves
from generator.targets.azure.peers import peer_nsg_rules
from generator.targets.azure.rules import nsg_rules
from generator.targets.azure.tables import flows_table, rules_table
from generator.targets.limits import Usage
from generator.targets.module import ModuleFiles, render_module

AZURERM_PROVIDER_MIN = "4.46"  # the provider schema the emitted resources are checked against
# Every priority scadafw writes, whatever the topology, lies in 1100-4049 before the offset
# (allows 1111-1993, peers 2001-3992, denies 4010-4040: rules.py, peers.py). The caller's own
# rules go outside it: no change to the topology can ever fill those ranges.
SCADAFW_PRIORITIES = (1100, 4049)
AZURE_PRIORITIES = (100, 4096)


def free_priorities(system: System) -> list[tuple[int, int]]:
    """The priority ranges (first, last) that no rule of this module, nor of any module for
    another topology with the same offset, uses: where the caller's own rules go."""
    offset = system.azure.priority_offset
    low, high = (p + offset for p in SCADAFW_PRIORITIES)
    first, last = AZURE_PRIORITIES
    ranges = [(first, low - 1), (high + 1, last)]
    return [(a, b) for a, b in ranges if a <= b]


def render_azure(system: System) -> ModuleFiles:
    rules, peer_rules = nsg_rules(system), peer_nsg_rules(system)
    place = AzurePlacement.of(system)
    return render_module("azure", system, {
        "rules": rules,
        "peer_rules": peer_rules,
        "rules_table": rules_table(rules, peer_rules, system.server_ports),
        "place": place,
        "rule_resources": [place.server_rule(r) for r in rules]
        + [place.peer_rule(r) for r in peer_rules],
        "flows_table": flows_table(system),
        "free_priorities": free_priorities(system),
        "moves": azure_moves(system),
        "provider_min": AZURERM_PROVIDER_MIN,
    })


# Azure limits (docs/design.md): per NSG, rules, address prefixes named in its rules, and ASGs
# named across its rules; per rule, ASGs.
RULES_PER_NSG = 1000
PREFIXES_PER_NSG = 4000
ASGS_PER_NSG = 100
ASGS_PER_RULE = 10


def azure_limits(system: System, folder: str) -> list[Usage]:
    found = []
    server, peer = nsg_rules(system), peer_nsg_rules(system)
    for group in system.groups:
        nsg = f"NSG {system.resource_name}-{group.slug}-nsg"
        mine = [r for r in server if r.group is group]
        theirs = [r for r in peer if r.group is group]
        found.append(Usage("azure", folder, f"{nsg} rules", len(mine) + len(theirs),
                           RULES_PER_NSG))
        prefixes = sum(len([p for p in r.prefixes if p != "*"]) for r in theirs)
        found.append(Usage("azure", folder, f"{nsg} address prefixes", prefixes,
                           PREFIXES_PER_NSG))
        named = {group} | {r.peer for r in mine if r.peer is not None}
        found.append(Usage("azure", folder, f"{nsg} application security groups named",
                           len(named), ASGS_PER_NSG))
    found.append(Usage("azure", folder, "application security groups in one rule", 2,
                       ASGS_PER_RULE))  # a rule names its two ends' groups at most
    return found
