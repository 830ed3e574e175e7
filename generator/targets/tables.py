"""README table rows every module shares, written in Python: a table row in a template costs
an attribute look-up, a filter and a test per cell, and the READMEs were a third of
rendering's time (bench/results.md)."""

from __future__ import annotations

from generator.intent.flows import Flow
from generator.model import System

_CELL = str.maketrans({"|": "\\|", "\n": " ", "\r": " ", "<": "&lt;", ">": "&gt;"})


def markdown_cell(value: object) -> str:
    """Text safe in a Markdown table cell: no pipes, no line breaks, no HTML."""
    return str(value).translate(_CELL)


def servers_table(system: System) -> str:
    """| server | role | role group | addresses |, one row per server of the module."""
    rows = ["| server | role | role group | addresses |", "|---|---|---|---|"]
    rows += [f"| `{s.name}` | {s.role.value} | {s.group.value} | "
             f"{', '.join(map(str, s.addresses)) or '-'} |" for s in system.servers]
    return "\n".join(rows)


def purposes(flow: Flow) -> str:
    return "; ".join(p.text for p in flow.purposes)


def peer_flow_row(flow: Flow) -> str:
    """| role group | direction | peer | networks | traffic | purpose |"""
    return (f"| {flow.group.value} | {'from peer' if flow.inbound else 'to peer'} | "
            f"{markdown_cell(flow.peer)} ({flow.kind}) | {', '.join(map(str, flow.networks))} | "
            f"{flow.protocol.upper()} {flow.port_text()} | {markdown_cell(purposes(flow))} |")


def peer_flows_table(flows: tuple[Flow, ...]) -> str:
    return "\n".join(peer_flow_row(f) for f in flows)
