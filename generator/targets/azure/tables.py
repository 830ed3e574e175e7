"""The rows of the Azure README's flows and rules tables, as text (generator/targets/tables.py
says why)."""

from __future__ import annotations

from generator.intent.flows import Flow, group_flows
from generator.intent.services import SERVER_PORT
from generator.model import System
from generator.targets.azure.peers import PeerNsgRule
from generator.targets.azure.rules import AZURE_SERVICES, NsgRule, allow_priority
from generator.targets.tables import markdown_cell, purposes


def rule_row(rule: NsgRule, server_ports: tuple[int, ...]) -> str:
    """| NSG | rule | priority | direction | access | protocol | port | from | to |"""
    group = rule.group.value
    inbound = rule.direction == "Inbound"
    far = "any" if rule.peer is None else rule.peer.value
    source, destination = (far, group) if inbound else (group, far)
    ports = ", ".join(map(str, server_ports)) if rule.protocol == "Tcp" else "*"
    return (f"| {group} | `{rule.rule_name}` | {rule.priority} | {rule.direction} | "
            f"{rule.access} | {rule.protocol} | {ports} | {source} | {destination} |")


def peer_rule_row(rule: PeerNsgRule) -> str:
    """The same columns for a rule that names networks outside the system."""
    group = rule.group.value
    prefixes = ", ".join(rule.prefixes)
    source, destination = (prefixes, group) if rule.direction == "Inbound" else (group, prefixes)
    return (f"| {group} | `{rule.rule_name}` | {rule.priority} | {rule.direction} | "
            f"{rule.access} | {rule.protocol} | {', '.join(rule.ports)} | "
            f"{markdown_cell(source)} | {markdown_cell(destination)} |")


def rules_table(rules: tuple[NsgRule, ...], peer_rules: tuple[PeerNsgRule, ...],
                server_ports: tuple[int, ...]) -> str:
    """Every row, server-to-server rules first, one per line."""
    rows = [rule_row(r, server_ports) for r in rules] + [peer_rule_row(r) for r in peer_rules]
    return "\n".join(rows)


def flow_row(flow: Flow, server_ports: tuple[int, ...], offset: int) -> str:
    """| from | to | traffic | purpose | priority |"""
    traffic = (f"TCP {', '.join(map(str, server_ports))}" if flow.service == SERVER_PORT
               else "ICMP (any type)")
    return (f"| {flow.source.name} | {flow.destination.name} | {traffic} | {purposes(flow)} | "
            f"{allow_priority(flow, offset)} |")


def flows_table(system: System) -> str:
    """The flows between role groups that Azure rules carry (the server port and ICMP)."""
    ports, offset = system.server_ports, system.azure.priority_offset
    return "\n".join(flow_row(f, ports, offset) for f in group_flows(system)
                     if f.service in AZURE_SERVICES)
