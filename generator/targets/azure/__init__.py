"""Azure: per role group one application security group and one NSG (or the caller's NSG, mode
`existing`); the rules and their priorities are generator/targets/azure/rules.py and peers.py,
their HCL attributes hcl.py. This module renders them and counts Azure's limits."""

from __future__ import annotations

from generator.intent.flows import group_flows
from generator.model import System
from generator.targets.azure.hcl import AzurePlacement
from generator.targets.azure.peers import peer_nsg_rules
from generator.targets.azure.rules import AZURE_SERVICES, allow_priority, nsg_rules
from generator.targets.limits import Usage
from generator.targets.module import ModuleFiles, render_module

AZURERM_PROVIDER_MIN = "4.46"  # the provider schema the emitted resources are checked against
# The bands scadafw's priorities fall in (before the offset); a band with none of a module's
# rules in it is free for the caller, as is everything outside the bands.
BANDS = ((1100, 1399), (1400, 1899), (1900, 1999), (2000, 2999), (3000, 3999), (4000, 4049))
AZURE_PRIORITIES = (100, 4096)


def free_priorities(system: System) -> list[tuple[int, int]]:
    """The priority ranges (first, last) in every NSG of the module that none of its rules
    uses, band by band: where the caller's own rules go."""
    offset = system.azure.priority_offset
    used = {r.priority - offset for r in nsg_rules(system)}
    used |= {r.priority - offset for r in peer_nsg_rules(system)}
    taken = [(low + offset, high + offset) for low, high in BANDS
             if any(low <= p <= high for p in used)]
    free, start = [], AZURE_PRIORITIES[0]
    for low, high in taken:
        if start < low:
            free.append((start, low - 1))
        start = high + 1
    if start <= AZURE_PRIORITIES[1]:
        free.append((start, AZURE_PRIORITIES[1]))
    return free


def render_azure(system: System) -> ModuleFiles:
    return render_module("azure", system, {
        "rules": nsg_rules(system),
        "peer_rules": peer_nsg_rules(system),
        "place": AzurePlacement(system),
        "flows": [f for f in group_flows(system) if f.service in AZURE_SERVICES],
        "priority_of": lambda flow: allow_priority(flow, system.azure.priority_offset),
        "free_priorities": free_priorities(system),
        "renamed": [s for s in system.servers if s.renamed_from],
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
