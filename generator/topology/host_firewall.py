"""Topology checks for the target `windows` (Windows Defender Firewall on each server): which
servers get a script, and that every address their rules name is known.

A rule on a host names its far ends by address: every server that gets a script, and every
server one of its rules names (a partner that opens a flow towards it; for a DMZ permanent
standby, every other server, which it blocks), must list `addresses`.
"""

from __future__ import annotations

from generator.intent.matrix import SERVER_SERVICES, server_purposes
from generator.model import Role, Server, System, Target
from generator.topology.checker import Checker
from generator.topology.yaml_source import Spanned

FOLDER = "windows"  # OUT/<system>/windows/


def scripted(system: System) -> tuple[Server, ...]:
    """The servers that get a script: all of them without `networks`, else those of the
    networks with `host_firewall: true`."""
    if Target.WINDOWS not in system.targets:
        return ()
    if not system.networks:
        return system.servers
    chosen = {n.name for n in system.networks if n.host_firewall}
    return tuple(s for s in system.servers if s.network in chosen)


def named_by(server: Server, system: System) -> list[Server]:
    """The other servers the host rules of `server` name."""
    if server.role is Role.DMZ_PERMANENT_STANDBY:
        return [s for s in system.servers if s.name != server.name]
    return [s for s in system.servers if s.name != server.name
            and any(server_purposes(s.group, server.group, service) is not None
                    for service in SERVER_SERVICES)]


def check_hosts(check: Checker, top: dict[str, Spanned], system: System) -> None:
    if Target.WINDOWS not in system.targets:
        return
    networks = top.get("networks")
    if networks is not None and isinstance(networks.value, dict) and FOLDER in networks.value:
        check.at(networks.key_marks.get(FOLDER, (networks.line, networks.column)),
                 f"a network named '{FOLDER}' would share its folder with the host firewall "
                 f"scripts (<system>/{FOLDER}/); rename the network")
    entries = {e.value["name"].value: e for e in top["servers"].value
               if isinstance(e.value, dict) and "name" in e.value}
    told: set[str] = set()
    for server in scripted(system):
        if not server.addresses:
            told.add(server.name)
            check.at(entries[server.name], f"server '{server.name}' needs `addresses`: its "
                                           "Windows Defender Firewall rules (target windows) "
                                           "are written for its addresses")
    for server in scripted(system):
        for other in named_by(server, system):
            if not other.addresses and other.name not in told:
                told.add(other.name)
                check.at(entries[other.name], f"server '{other.name}' needs `addresses`: the "
                                              f"Windows Defender Firewall rules of "
                                              f"'{server.name}' name it by address")
