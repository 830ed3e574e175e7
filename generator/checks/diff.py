"""What changes between two topologies: flows added and removed, and Terraform resources
added, removed, changed in place, replaced (`-/+`: a changed attribute the provider cannot
update) and moved (a `moved` block of a rename) per module, with values as they will be (a
reference to another resource's literal attribute shows that value; a name prefix shows its
default), not raw interpolations."""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import yaml

from generator.intent.listing import as_rows
from generator.model import System
from generator.sources.hcl_module import moved_blocks, resources_in
from generator.sources.windows_script import read_script
from generator.targets import render_system
from generator.targets.provider_facts import FORCE_NEW, replaces

FlowKey = tuple[str, str, str, str]  # source, destination, protocol, port


Delta = dict[str, tuple[Any, Any]]


@dataclass
class ResourceChanges:
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    changed: dict[str, Delta] = field(default_factory=dict)
    replaced: dict[str, Delta] = field(default_factory=dict)  # -/+, with why in `because`
    because: dict[str, list[str]] = field(default_factory=dict)
    moved: list[tuple[str, str]] = field(default_factory=list)
    per_instance: set[str] = field(default_factory=set)  # for_each: one per interface link

    @property
    def empty(self) -> bool:
        return not (self.added or self.removed or self.changed or self.replaced or self.moved)

    @property
    def priority_moves(self) -> list[tuple[str, int, int]]:
        """Rules whose Azure priority changes: (address, old, new). A rule of the caller's at
        the new priority in the same NSG and direction makes the apply fail."""
        return [(address, old, new) for found in (self.changed, self.replaced)
                for address, delta in found.items() for key, (old, new) in delta.items()
                if key == "priority" and old is not None and new is not None]

    def summary(self) -> str:
        return (f"{len(self.added)} to add, {len(self.changed)} to change, "
                f"{len(self.replaced)} to replace, {len(self.removed)} to destroy, "
                f"{len(self.moved)} to move")


@dataclass
class TopologyDiff:
    old: System
    new: System
    flows_added: list[FlowKey] = field(default_factory=list)
    flows_removed: list[FlowKey] = field(default_factory=list)
    resources: dict[str, ResourceChanges] = field(default_factory=dict)
    renamed: list[tuple[str, str, str]] = field(default_factory=list)  # what, old, new
    port_steps: list[str] = field(default_factory=list)  # where a port migration stands

    @property
    def empty(self) -> bool:
        return not (self.flows_added or self.flows_removed) and all(
            r.empty for r in self.resources.values())


def _end(name: str, network: str) -> str:
    return f"{name} ({network})" if network else name


def _flows(system: System, names: dict[str, str] | None = None) -> set[FlowKey]:
    """Flows by their ends (with the network, where the topology places servers), so a server
    moving between networks shows as flows removed and added; `names` renames parties (the
    old topology's flows under the names the new one gives them)."""
    names = names or {}
    return {(_end(names.get(r["source"], r["source"]), r["source_network"]),
             _end(names.get(r["destination"], r["destination"]), r["destination_network"]),
             r["protocol"], port)
            for r in as_rows(system) for port in str(r["port"]).split(", ")}


def renames(new: System) -> list[tuple[str, str, str]]:
    """(what, old name, new name) of every party `new` says was renamed."""
    found = [("server", s.renamed_from, s.name) for s in new.servers if s.renamed_from]
    found += [("client", c.renamed_from, c.name) for c in new.clients if c.renamed_from]
    found += [("outstation", o.renamed_from, o.name) for o in new.outstations if o.renamed_from]
    return found


@dataclass
class _Module:
    resources: dict[str, dict[str, Any]]  # address -> attributes, values shown
    moved: dict[str, str]  # from -> to
    for_each: set[str]
    refers: dict[str, dict[str, set[str]]] = field(default_factory=dict)  # address -> attr ->
    # the resources its value refers to


_REFERENCE = re.compile(r"\$\{([a-z_]+\.[A-Za-z0-9_]+)\.([a-z_]+)\}")
_PREFIX = "${var.name_prefix}"


def _shown(value: Any, raw: dict[str, dict[str, Any]], prefix: str) -> Any:
    """A value as it will be: the name prefix's default put in, a reference to another
    resource's literal attribute replaced by that literal, other references without `${}`."""
    if isinstance(value, list):
        return [_shown(v, raw, prefix) for v in value]
    if not isinstance(value, str):
        return value
    text = value.replace(_PREFIX, prefix)
    match = _REFERENCE.fullmatch(text)
    if match:
        target = raw.get(match.group(1), {}).get(match.group(2))
        if isinstance(target, str | int) and not str(target).startswith("${"):
            return _shown(target, raw, prefix)
        return f"{match.group(1)}.{match.group(2)}"
    return text[2:-1] if text.startswith("${") and text.endswith("}") else text


def _script_rules(files: dict[str, str]) -> _Module:
    """The host firewall scripts' rules, as resources `windows_firewall_rule.<-Name>` with
    what each matches and does (a re-run of the script replaces them all; shown per rule)."""
    found: dict[str, dict[str, Any]] = {}
    for name, text in sorted(files.items()):
        if name.endswith(".ps1"):
            for rule in read_script(Path(name), text).rules:
                attrs = asdict(rule)
                del attrs["name"], attrs["line"]
                attrs["remote"] = [str(n) for n in rule.remote or ()] or None
                found[f"windows_firewall_rule.{rule.name}"] = attrs
    return _Module(found, {}, set())


def _policy_terms(files: dict[str, str]) -> _Module:
    """A perimeter policy's terms, as resources `aerleon_term.<name>` with their ends resolved
    to addresses and ports (an address added to a definition changes the terms using it)."""
    networks = yaml.safe_load(files["definitions/networks.yaml"])["networks"]
    services = yaml.safe_load(files["definitions/services.yaml"])["services"]
    found: dict[str, dict[str, Any]] = {}
    for filt in yaml.safe_load(files["policy.yaml"])["filters"]:
        for term in filt["terms"]:
            attrs = {k: v for k, v in term.items() if k != "name"}
            for key in ("source-address", "destination-address"):
                if key in attrs:
                    attrs[key] = [v["address"] for v in networks[attrs[key]]["values"]]
            if "destination-port" in attrs:
                attrs["destination-port"] = [str(e["port"]) for e in
                                             services[attrs["destination-port"]]]
            found[f"aerleon_term.{term['name']}"] = attrs
    return _Module(found, {}, set())


def _modules(system: System) -> dict[str, _Module]:
    """Module folder (a target, or a network) -> its resources, moves and for_each ones."""
    prefix = f"{system.resource_name}-"
    found = {}
    for folder, files in render_system(system).items():
        if "policy.yaml" in files:
            found[folder] = _policy_terms(files)
            continue
        if "main.tf" not in files:
            found[folder] = _script_rules(files)
            continue
        raw = resources_in(files["main.tf"])
        shown = {address: {k: _shown(v, raw, prefix) for k, v in attrs.items()
                           if k not in ("for_each", "lifecycle")}
                 for address, attrs in raw.items()}
        moved = {str(m["from"]).strip("${}"): str(m["to"]).strip("${}")
                 for m in moved_blocks(files.get("renames.tf", ""))}
        refers = {address: {k: set(_REFERENCE.findall(str(v))) and
                             {m[0] for m in _REFERENCE.findall(str(v))} for k, v in attrs.items()}
                   for address, attrs in raw.items()}
        found[folder] = _Module(shown, moved, {a for a, v in raw.items() if "for_each" in v},
                                refers)
    return found


def _replaced_through(module: _Module, changes: ResourceChanges) -> None:
    """Resources replaced because an attribute that forces replacement refers to a resource
    being replaced (a rule's security_group_id, a rule's NSG name, an association's NSG id)."""
    grew = True
    while grew:
        grew = False
        gone = set(changes.replaced)
        for address, attrs in sorted(module.refers.items()):
            if address in changes.replaced or address in changes.added:
                continue
            forced = FORCE_NEW.get(address.split(".")[0], frozenset())
            why = [f"{k} refers to {', '.join(sorted(attrs[k] & gone))}, which is replaced"
                   for k in sorted(forced & attrs.keys()) if attrs[k] & gone]
            if why:
                changes.replaced[address] = changes.changed.pop(address, {})
                changes.because[address] = why
                grew = True


_THREE_STEPS = ("(1) set `port: {new}` and `previous_port: {old}`, and apply: every server-port "
                "rule allows both; (2) reconfigure the servers and clients to {new}, one at a "
                "time; (3) remove `previous_port`, and apply: {old} closes")


def port_steps(old: System, new: System) -> list[str]:
    """Where a change of the server port stands in the three steps of a migration (README,
    "Moving the server port"): partners are reconfigured one at a time, so for a while some
    use the old port and some the new, and both must be open."""
    if old.server_ports == new.server_ports:
        return []
    if (new.previous_port == old.port and old.previous_port is None
            and new.port != old.port):
        return [f"port: step 1 of 3: TCP {new.port} opens beside {old.port} on every "
                f"server-port rule; next, reconfigure the servers and clients to {new.port}, "
                "one at a time, then remove `previous_port`"]
    if old.previous_port and new.previous_port is None and new.port == old.port:
        return [f"port: step 3 of 3: TCP {old.previous_port} closes; apply only once every "
                f"server and client uses {new.port}"]
    if old.previous_port is None and new.previous_port is None:
        steps = _THREE_STEPS.format(old=old.port, new=new.port)
        return [f"! port: {old.port} -> {new.port} in one step cuts every partner off until "
                f"it is reconfigured too (and two servers may both act as Main); migrate in "
                f"three steps: {steps}"]
    shown = ", ".join(str(p) for p in old.server_ports)
    return [f"port: server ports {shown} -> {', '.join(str(p) for p in new.server_ports)}"]


def diff_topologies(old: System, new: System) -> TopologyDiff:
    result = TopologyDiff(old, new)
    result.renamed = renames(new)
    result.port_steps = port_steps(old, new)
    flows_before = _flows(old, {was: now for _, was, now in result.renamed})
    flows_after = _flows(new)
    result.flows_added = sorted(flows_after - flows_before)
    result.flows_removed = sorted(flows_before - flows_after)
    old_modules, new_modules = _modules(old), _modules(new)
    empty = _Module({}, {}, set())
    for folder in sorted(old_modules.keys() | new_modules.keys()):
        before, after = old_modules.get(folder, empty), new_modules.get(folder, empty)
        a, b = dict(before.resources), after.resources
        changes = ResourceChanges(per_instance=before.for_each | after.for_each)
        for source, target in sorted(after.moved.items()):
            if source in a and target in b and target not in a:
                changes.moved.append((source, target))
                a[target] = a.pop(source)
        changes.added = sorted(b.keys() - a.keys())
        changes.removed = sorted(a.keys() - b.keys())
        for address in sorted(a.keys() & b.keys()):
            keys = sorted(a[address].keys() | b[address].keys())
            delta = {k: (a[address].get(k), b[address].get(k)) for k in keys
                     if a[address].get(k) != b[address].get(k)}
            if not delta:
                continue
            why = replaces(address.split(".")[0], a[address], b[address])
            if why:
                changes.replaced[address] = delta
                changes.because[address] = [f"{w} changes" for w in why]
            else:
                changes.changed[address] = delta
        _replaced_through(after, changes)
        if a or b:
            result.resources[folder] = changes
    return result


def _flow_text(key: FlowKey) -> str:
    source, destination, protocol, port = key
    return f"{source} -> {destination} {protocol} {port}"


def as_text(d: TopologyDiff) -> str:
    if d.empty:
        return "no changes\n"
    lines = [f"renamed: {what} {was} -> {now}" for what, was, now in d.renamed]
    lines += d.port_steps
    lines.append(f"flows: +{len(d.flows_added)} -{len(d.flows_removed)}")
    lines += [f"  + {_flow_text(k)}" for k in d.flows_added]
    lines += [f"  - {_flow_text(k)}" for k in d.flows_removed]
    for cloud, r in d.resources.items():
        lines.append(f"{cloud}: {r.summary()}")
        lines += [f"  ! {_each(a, r)}: priority moves {old} -> {new}; check that no rule of "
                  "yours holds it" for a, old, new in r.priority_moves]
        lines += [f"  + {_each(a, r)}" for a in r.added]
        lines += [f"  - {_each(a, r)}" for a in r.removed]
        lines += [f"  -> {_each(a, r)} moved to {_each(b, r)}" for a, b in r.moved]
        for mark, found in (("~", r.changed), ("-/+", r.replaced)):
            for address, attrs in found.items():
                why = (f" (replaced: {'; '.join(r.because[address])})" if mark == "-/+"
                       else "")
                lines.append(f"  {mark} {_each(address, r)}{why}")
                lines += [f"      {k}: {old!r} -> {new!r}" for k, (old, new) in attrs.items()]
    return "\n".join(lines) + "\n"


def _each(address: str, r: ResourceChanges) -> str:
    return f"{address} (each link)" if address in r.per_instance else address


def as_json(d: TopologyDiff) -> str:
    return json.dumps({
        "changed": not d.empty,
        "renamed": [{"kind": what, "from": was, "to": now} for what, was, now in d.renamed],
        "port_steps": d.port_steps,
        "flows": {"added": [dict(zip(("source", "destination", "protocol", "port"), k,
                                     strict=True)) for k in d.flows_added],
                  "removed": [dict(zip(("source", "destination", "protocol", "port"), k,
                                       strict=True)) for k in d.flows_removed]},
        "resources": {cloud: {"added": r.added, "removed": r.removed,
                              "changed": {a: {k: {"old": o, "new": n} for k, (o, n) in v.items()}
                                          for a, v in r.changed.items()},
                              "replaced": {a: {"because": r.because[a], "attributes": {
                                  k: {"old": o, "new": n} for k, (o, n) in v.items()}}
                                  for a, v in r.replaced.items()},
                              "moved": [{"from": a, "to": b} for a, b in r.moved],
                              "priority_moves": [{"resource": a, "old": o, "new": n}
                                                 for a, o, n in r.priority_moves],
                              "per_link": sorted(r.per_instance & (
                                  set(r.added) | set(r.removed) | set(r.changed)
                                  | set(r.replaced)))}
                      for cloud, r in d.resources.items()},
    }, indent=2) + "\n"


def _cell(value: object) -> str:
    return "`" + str(value).replace("|", "\\|").replace("`", "'") + "`"


def as_markdown(d: TopologyDiff) -> str:
    title = f"### scadafw: `{d.old.name}`" + (f" -> `{d.new.name}`" if d.new.name != d.old.name
                                              else "")
    if d.empty:
        return f"{title}\n\nNo change to flows or Terraform resources.\n"
    lines = [title, ""]
    for step in d.port_steps:
        lines += [f"> {':warning: ' if step.startswith('!') else ''}{step.lstrip('! ')}", ""]
    if d.renamed:
        lines += ["**Renamed**: " + ", ".join(f"{what} `{was}` -> `{now}`"
                                              for what, was, now in d.renamed), ""]
    lines += [f"**Flows**: {len(d.flows_added)} added, {len(d.flows_removed)} removed", ""]
    if d.flows_added or d.flows_removed:
        lines += ["| | from | to | protocol | port |", "|---|---|---|---|---|"]
        lines += [f"| added | {s} | {t} | {p} | {q} |" for s, t, p, q in d.flows_added]
        lines += [f"| removed | {s} | {t} | {p} | {q} |" for s, t, p, q in d.flows_removed]
        lines.append("")
    for cloud, r in d.resources.items():
        if r.empty:
            continue
        lines += [f"**{cloud}**: {r.summary()}", ""]
        lines += [f"> :warning: {_cell(a)}: priority moves {o} -> {n}; check that no rule of "
                  "yours holds it" for a, o, n in r.priority_moves]
        if r.priority_moves:
            lines.append("")
        lines += ["| | resource | change |", "|---|---|---|"]
        lines += [f"| + | {_cell(_each(a, r))} | |" for a in r.added]
        lines += [f"| - | {_cell(_each(a, r))} | |" for a in r.removed]
        lines += [f"| -> | {_cell(_each(a, r))} | moved to {_cell(b)} |" for a, b in r.moved]
        for mark, found in (("~", r.changed), ("-/+", r.replaced)):
            for address, attrs in found.items():
                what = "<br>".join(f"{k}: {_cell(o)} -> {_cell(n)}"
                                   for k, (o, n) in attrs.items())
                if mark == "-/+":
                    what = f"**replaced**: {'; '.join(r.because[address])}<br>{what}"
                lines.append(f"| {mark} | {_cell(_each(address, r))} | {what} |")
        lines.append("")
    return "\n".join(lines).rstrip("\n") + "\n"
