"""The `moved` blocks of an Azure module (generator/targets/moves.py): a renamed server's NIC
associations, and the rules of a renamed client or outstation (whose names inside the NSG
stay as they were: Azure replaces a rule whose name changes)."""

from __future__ import annotations

from generator.model import System
from generator.targets.azure.hcl import AzurePlacement
from generator.targets.azure.peers import peer_nsg_rules
from generator.targets.moves import Move, checked

_ASG = "azurerm_network_interface_application_security_group_association"
_NSG = "azurerm_network_interface_security_group_association"
_RULE = "azurerm_network_security_rule"


def azure_moves(system: System) -> list[Move]:
    moves = []
    kinds = (_ASG,) if AzurePlacement.of(system).existing else (_ASG, _NSG)
    for server in system.servers:
        if server.renamed_from:
            why = f"server {server.renamed_from} is now {server.name}"
            moves += [Move(f"{kind}.{server.renamed_from.replace('-', '_')}",
                           f"{kind}.{server.ident}", why) for kind in kinds]
    for rule in peer_nsg_rules(system):
        if rule.former:
            moves.append(Move(f"{_RULE}.{rule.former}", f"{_RULE}.{rule.name}", rule.renamed))
    return checked(moves)
