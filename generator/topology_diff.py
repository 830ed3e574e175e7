"""What changes between two topologies: flows added and removed, and Terraform resources
added, removed and changed per cloud (by address, with the changed attributes)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from generator.flow_table import as_rows
from generator.model import System
from generator.targets import render_system
from generator.verify.hcl_module import resources_in

FlowKey = tuple[str, str, str, str]  # source, destination, protocol, port


@dataclass
class ResourceChanges:
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    changed: dict[str, dict[str, tuple[Any, Any]]] = field(default_factory=dict)

    @property
    def empty(self) -> bool:
        return not (self.added or self.removed or self.changed)


@dataclass
class TopologyDiff:
    old: System
    new: System
    flows_added: list[FlowKey] = field(default_factory=list)
    flows_removed: list[FlowKey] = field(default_factory=list)
    resources: dict[str, ResourceChanges] = field(default_factory=dict)

    @property
    def empty(self) -> bool:
        return not (self.flows_added or self.flows_removed) and all(
            r.empty for r in self.resources.values())


def _end(name: str, network: str) -> str:
    return f"{name} ({network})" if network else name


def _flows(system: System) -> set[FlowKey]:
    """Flows by their ends (with the network, where the topology places servers), so a server
    moving between networks shows as flows removed and added."""
    return {(_end(r["source"], r["source_network"]),
             _end(r["destination"], r["destination_network"]), r["protocol"], r["port"])
            for r in as_rows(system)}


def _resources(system: System) -> dict[str, dict[str, dict[str, Any]]]:
    """Module folder (a target, or a network) -> resource address -> attributes."""
    return {folder: resources_in(files["main.tf"])
            for folder, files in render_system(system).items()}


def diff_topologies(old: System, new: System) -> TopologyDiff:
    result = TopologyDiff(old, new)
    before, after = _flows(old), _flows(new)
    result.flows_added = sorted(after - before)
    result.flows_removed = sorted(before - after)
    old_modules, new_modules = _resources(old), _resources(new)
    for folder in sorted(old_modules.keys() | new_modules.keys()):
        a, b = old_modules.get(folder, {}), new_modules.get(folder, {})
        changes = ResourceChanges(sorted(b.keys() - a.keys()), sorted(a.keys() - b.keys()))
        for address in sorted(a.keys() & b.keys()):
            keys = sorted(a[address].keys() | b[address].keys())
            delta = {k: (a[address].get(k), b[address].get(k)) for k in keys
                     if a[address].get(k) != b[address].get(k)}
            if delta:
                changes.changed[address] = delta
        if a or b:
            result.resources[folder] = changes
    return result


def _flow_text(key: FlowKey) -> str:
    source, destination, protocol, port = key
    return f"{source} -> {destination} {protocol} {port}"


def as_text(d: TopologyDiff) -> str:
    if d.empty:
        return "no changes\n"
    lines = [f"flows: +{len(d.flows_added)} -{len(d.flows_removed)}"]
    lines += [f"  + {_flow_text(k)}" for k in d.flows_added]
    lines += [f"  - {_flow_text(k)}" for k in d.flows_removed]
    for cloud, r in d.resources.items():
        lines.append(f"{cloud}: +{len(r.added)} -{len(r.removed)} ~{len(r.changed)} resources")
        lines += [f"  + {a}" for a in r.added]
        lines += [f"  - {a}" for a in r.removed]
        for address, attrs in r.changed.items():
            lines.append(f"  ~ {address}")
            lines += [f"      {k}: {old!r} -> {new!r}" for k, (old, new) in attrs.items()]
    return "\n".join(lines) + "\n"


def as_json(d: TopologyDiff) -> str:
    return json.dumps({
        "changed": not d.empty,
        "flows": {"added": [dict(zip(("source", "destination", "protocol", "port"), k,
                                     strict=True)) for k in d.flows_added],
                  "removed": [dict(zip(("source", "destination", "protocol", "port"), k,
                                       strict=True)) for k in d.flows_removed]},
        "resources": {cloud: {"added": r.added, "removed": r.removed,
                              "changed": {a: {k: {"old": o, "new": n} for k, (o, n) in v.items()}
                                          for a, v in r.changed.items()}}
                      for cloud, r in d.resources.items()},
    }, indent=2) + "\n"


def _cell(value: object) -> str:
    return "`" + str(value).replace("|", "\\|").replace("`", "'") + "`"


def as_markdown(d: TopologyDiff) -> str:
    title = f"### scadafw: `{d.old.name}`" + (f" -> `{d.new.name}`" if d.new.name != d.old.name
                                              else "")
    if d.empty:
        return f"{title}\n\nNo change to flows or Terraform resources.\n"
    lines = [title, "", f"**Flows**: {len(d.flows_added)} added, {len(d.flows_removed)} removed",
             ""]
    if d.flows_added or d.flows_removed:
        lines += ["| | from | to | protocol | port |", "|---|---|---|---|---|"]
        lines += [f"| added | {s} | {t} | {p} | {q} |" for s, t, p, q in d.flows_added]
        lines += [f"| removed | {s} | {t} | {p} | {q} |" for s, t, p, q in d.flows_removed]
        lines.append("")
    for cloud, r in d.resources.items():
        if r.empty:
            continue
        lines += [f"**{cloud}**: {len(r.added)} to add, {len(r.changed)} to change, "
                  f"{len(r.removed)} to destroy", "", "| | resource | change |",
                  "|---|---|---|"]
        lines += [f"| + | {_cell(a)} | |" for a in r.added]
        lines += [f"| - | {_cell(a)} | |" for a in r.removed]
        for address, attrs in r.changed.items():
            what = "<br>".join(f"{k}: {_cell(o)} -> {_cell(n)}" for k, (o, n) in attrs.items())
            lines.append(f"| ~ | {_cell(address)} | {what} |")
        lines.append("")
    return "\n".join(lines).rstrip("\n") + "\n"
