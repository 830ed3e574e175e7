"""Which module each server's rules go to: one per cloud network of the system.

Without `networks` (version 1, or version 2 without the key) the networks are implicit, one per
target, named `aws` and `azure`, each holding every server: the version-1 layout. With them,
each `aws` or `azure` network that holds a server gets a module `<system>/<network>/`, rendered
from a view of the system that holds the servers placed in it and names the others as
`partners`; an `onprem` network gets its perimeter policy there (aerleon's policy, and its
renderings for the platforms the network names). The servers
of networks with `host_firewall: true` get Windows Defender Firewall scripts in
`<system>/windows/`, from a view that holds them all (target `windows`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from generator.model import System, Target


@dataclass(frozen=True)
class Placement:
    folder: str  # the module folder under <system>/
    target: Target
    view: System  # the system as this module sees it


def placements(system: System) -> list[Placement]:
    if not system.networks:
        return [Placement(t.value, t, system) for t in system.targets]
    found = []
    for network in system.networks:
        target = network.target or Target.PERIMETER  # on premises: its perimeter policy
        local = tuple(s for s in system.servers if s.network == network.name)
        if not local:
            continue
        others = tuple(s for s in system.servers if s.network != network.name)
        view = replace(system, servers=local, partners=others, targets=(target,),
                       network=network.name)
        found.append(Placement(network.name, target, view))
    hosts = {n.name for n in system.networks if n.host_firewall}
    scripted = tuple(s for s in system.servers if s.network in hosts)
    if scripted:  # the host firewall scripts: servers of every network that asks for them
        others = tuple(s for s in system.servers if s.network not in hosts)
        view = replace(system, servers=scripted, partners=others, targets=(Target.WINDOWS,))
        found.append(Placement(Target.WINDOWS.value, Target.WINDOWS, view))
    return found


def cloud_of(system: System, network: str) -> str:
    return next((n.cloud for n in system.networks if n.name == network), "")
