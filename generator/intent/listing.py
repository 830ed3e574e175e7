"""The intended flows of one system, server by server and group by group, in the shapes a
reviewer or a firewall team reads: table, JSON, CSV, Markdown, Mermaid and Graphviz dot."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass

from generator.intent.flows import Flow, group_flows, peer_flows
from generator.intent.hosts import PORT_FIELDS, port_rows
from generator.intent.matrix import PARTNER, pair_services, server_allows
from generator.intent.services import SERVER_SERVICES_ORDER, service_label, service_ports
from generator.model import RoleGroup, Server, System

FORMATS = ("table", "json", "csv", "markdown", "mermaid", "dot", "ports")
ROW_FIELDS = ("source", "source_group", "source_addresses", "destination", "destination_group",
              "destination_addresses", "protocol", "port", "purpose", "source_network",
              "destination_network")


@dataclass(frozen=True, order=True)
class ServerFlow:
    """One service that one server opens towards another."""

    source: Server
    destination: Server
    service: str
    purpose: str
    protocol: str
    ports: tuple[tuple[int, int], ...]

    def protocol_and_port(self) -> tuple[str, str]:
        if self.protocol in ("icmp", "icmpv6"):
            return self.protocol, f"echo-request (type {self.ports[0][0]})"
        return self.protocol, ", ".join(str(lo) if lo == hi else f"{lo}-{hi}"
                                        for lo, hi in self.ports)

    def row(self) -> dict[str, str]:
        protocol, what = self.protocol_and_port()
        return {
            "source": self.source.name, "source_group": self.source.group.value,
            "source_addresses": " ".join(str(a) for a in self.source.addresses),
            "destination": self.destination.name,
            "destination_group": self.destination.group.value,
            "destination_addresses": " ".join(str(a) for a in self.destination.addresses),
            "protocol": protocol, "port": what, "purpose": self.purpose,
            "source_network": self.source.network,
            "destination_network": self.destination.network,
        }


def server_flows(system: System) -> list[ServerFlow]:
    """Every (source server, destination server, service) the matrix allows, sorted."""
    lookup: dict[tuple[RoleGroup | None, RoleGroup | None, str], Flow] = {
        (f.source.group, f.destination.group, f.service): f for f in group_flows(system)}
    rows = []
    for src in system.servers:
        for dst in system.servers:
            for service in pair_services(src, dst):
                if server_allows(src, dst, service):
                    flow = lookup[(src.group, dst.group, service)]
                    rows.append(ServerFlow(src, dst, service, flow.why,
                                           *service_ports(system, service)))
    return sorted(rows, key=lambda r: (r.source.name, r.destination.name,
                                       SERVER_SERVICES_ORDER.index(r.service)))


def peer_rows(system: System) -> list[dict[str, str]]:
    """Version 2: one row per server and flow with a client, monitor host or outstation."""
    rows = []
    for flow in peer_flows(system):
        if flow.kind == PARTNER:
            continue  # servers of other networks: listed as server rows
        peer = {"name": flow.peer, "group": flow.kind,
                "addresses": " ".join(str(n) for n in flow.networks), "network": ""}
        for server in system.members(flow.group):
            here = {"name": server.name, "group": server.group.value,
                    "addresses": " ".join(str(a) for a in server.addresses),
                    "network": server.network}
            src, dst = (peer, here) if flow.inbound else (here, peer)
            rows.append({
                "source": src["name"], "source_group": src["group"],
                "source_addresses": src["addresses"], "destination": dst["name"],
                "destination_group": dst["group"], "destination_addresses": dst["addresses"],
                "protocol": flow.protocol, "port": flow.port_text(),
                "purpose": flow.why, "source_network": src["network"],
                "destination_network": dst["network"],
            })
    return sorted(rows, key=lambda r: (r["source"], r["destination"], r["protocol"], r["port"]))


def as_rows(system: System) -> list[dict[str, str]]:
    return [f.row() for f in server_flows(system)] + peer_rows(system)


def _table(system: System) -> str:
    rows = as_rows(system)
    columns: tuple[str, ...] = ("source", "destination", "protocol", "port", "purpose")
    if system.networks:
        columns = ("source", "source_network", "destination", "destination_network",
                   "protocol", "port", "purpose")
    widths = {c: max([len(c), *(len(r[c]) for r in rows)]) for c in columns}
    lines = ["  ".join(c.upper().ljust(widths[c]) for c in columns).rstrip()]
    lines += ["  ".join(r[c].ljust(widths[c]) for c in columns).rstrip() for r in rows]
    return f"{system.name}: {len(rows)} flows\n" + "\n".join(lines) + "\n"


def _csv(system: System) -> str:
    out = io.StringIO()
    rows = as_rows(system)
    writer = csv.DictWriter(out, fieldnames=["system", *ROW_FIELDS], lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({"system": system.name, **row})
    return out.getvalue()


def _ports(system: System) -> str:
    """The ports-and-services baseline as CSV (generator/intent/hosts.py)."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=PORT_FIELDS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(port_rows(system))
    return out.getvalue()


def _markdown(system: System) -> str:
    also = f", and {system.previous_port} while moving from it" if system.previous_port else ""
    lines = [f"### Geo SCADA flows of `{system.name}` (server port {system.port}{also})", "",
             "| from | to | protocol | port | purpose |", "|---|---|---|---|---|"]
    for r in as_rows(system):
        src = r["source"] + (f" ({r['source_addresses']})" if r["source_addresses"] else "")
        dst = r["destination"] + (f" ({r['destination_addresses']})"
                                  if r["destination_addresses"] else "")
        lines.append(f"| {src} | {dst} | {r['protocol']} | {r['port']} | {r['purpose']} |")
    return "\n".join(lines) + "\n"


def _edges(system: System) -> dict[tuple[str, str], list[str]]:
    edges: dict[tuple[str, str], list[str]] = {}
    for f in server_flows(system):
        edges.setdefault((f.source.name, f.destination.name), []).append(
            service_label(f.protocol, f.ports))
    for r in peer_rows(system):
        edges.setdefault((r["source"], r["destination"]), []).append(
            f"{r['protocol'].upper()} {r['port']}")
    return edges


def mermaid_groups(system: System) -> str:
    """A role-group diagram for module READMEs (GitHub renders Mermaid)."""
    lines = ["flowchart LR"]
    for group in system.groups:
        members = ", ".join(s.name for s in system.members(group))
        lines.append(f'  {group.value}["{group.value}<br/>{members}"]')
    labels: dict[tuple[RoleGroup, RoleGroup], list[str]] = {}
    for flow in group_flows(system):
        labels.setdefault(flow.groups, []).append(flow.label)
    for (src, dst), services in labels.items():
        lines.append(f'  {src.value} -- "{", ".join(services)}" --> {dst.value}')
    return "\n".join(lines) + "\n"


def _node(name: str) -> str:
    """A Mermaid node id (peer names never equal a server's: the topology refuses that)."""
    return name.replace("-", "_")


def _mermaid(system: System) -> str:
    lines = ["flowchart LR"]
    for s in system.servers:
        lines.append(f'  {s.ident}["{s.name}<br/>{s.group.value}"]')
    for flow in sorted({(f.peer, f.kind) for f in peer_flows(system)}):
        lines.append(f'  {_node(flow[0])}(["{flow[0]}<br/>{flow[1]}"])')
    for (src, dst), services in _edges(system).items():
        lines.append(f'  {_node(src)} -- "{", ".join(services)}" --> {_node(dst)}')
    return "\n".join(lines) + "\n"


def _dot(system: System) -> str:
    lines = [f'digraph "{system.name}" {{', "  rankdir=LR;", "  node [shape=box];"]
    for group in system.groups:
        lines.append(f'  subgraph "cluster_{group.value}" {{')
        lines.append(f'    label="{group.value}";')
        lines += [f'    "{s.name}";' for s in system.members(group)]
        lines.append("  }")
    edges = _edges(system)
    for (src, dst), services in edges.items():
        both = edges.get((dst, src)) == services
        if both and dst < src:
            continue  # drawn once, with arrows at both ends
        style = ", dir=both" if both else ""
        lines.append(f'  "{src}" -> "{dst}" [label="{", ".join(services)}"{style}];')
    lines.append("}")
    return "\n".join(lines) + "\n"


def render_flows(system: System, fmt: str, extra: dict[str, object] | None = None) -> str:
    if fmt == "json":
        moving = {"previous_port": system.previous_port} if system.previous_port else {}
        return json.dumps({"system": system.name, "port": system.port, **moving,
                           "flows": as_rows(system), **(extra or {})}, indent=2) + "\n"
    renderers = {"table": _table, "csv": _csv, "markdown": _markdown, "mermaid": _mermaid,
                 "dot": _dot, "ports": _ports}
    return renderers[fmt](system)
