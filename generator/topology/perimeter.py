"""Topology checks for the perimeter policies of on-premises networks: every server of such a
network that a term names must list its addresses (a term names both ends by address).

Partners in other networks are checked with the networks (generator/topology/read.py); here,
the flows between a server on premises and a client, an outstation or monitor hosts.
"""

from __future__ import annotations

from dataclasses import replace

from generator.intent.flows import GROUP, flows
from generator.model import ONPREM, System
from generator.topology.checker import Checker
from generator.topology.yaml_source import Spanned


def check_perimeter(check: Checker, top: dict[str, Spanned], system: System) -> None:
    entries = {e.value["name"].value: e for e in top["servers"].value
               if isinstance(e.value, dict) and "name" in e.value}
    told: set[str] = set()
    for network in system.networks:
        if network.cloud != ONPREM:
            continue
        local = tuple(s for s in system.servers if s.network == network.name)
        view = replace(system, servers=local, network=network.name,
                       partners=tuple(s for s in system.servers if s.network != network.name))
        for flow in flows(view):
            ends = [e for e in (flow.source, flow.destination) if e.kind == GROUP]
            if len(ends) != 1 or ends[0].group is None:
                continue  # inside the network, or not a server of it
            for server in view.members(ends[0].group):
                if not server.addresses and server.name not in told:
                    told.add(server.name)
                    far = flow.destination if flow.source is ends[0] else flow.source
                    check.at(entries[server.name],
                             f"server '{server.name}' (network {network.name}, on premises) "
                             f"needs `addresses`: the perimeter policy names it by address "
                             f"in its term with {far.kind} {far.name}")
