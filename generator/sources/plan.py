"""A Terraform JSON plan (`terraform show -json`), read for its firewall-bearing resources.

Every resource of the root and of every child module, as it will be after the plan
(`planned_values`, with each change's actions from `resource_changes`) or as it was before
(`prior_state`). Values that are unknown until apply are followed through `configuration`:
an attribute's `expressions.references` name another resource of the same module (its id is
then that resource's address, standing in for the id AWS or Azure will give it), a module
output (followed into the child module), or a root variable (taken from `variables`). What
cannot be followed is recorded, never guessed.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from generator.errors import ScadafwError

SUPPORTED_FORMATS = ("0.", "1.")
_REF = re.compile(r"^(?P<type>[a-z][a-z0-9_]*)\.(?P<name>[A-Za-z0-9_-]+)"
                  r"(?P<index>\[[^\]]*\])?(?:\.(?P<attr>[a-z_]+))?")
_MODULE_REF = re.compile(r'^module\.(?P<call>[A-Za-z0-9_-]+)(?P<instance>\[[^\]]*\])?\.'
                         r'(?P<output>\w+)(?:\["?(?P<key>[^"\]]+)"?\])?')
_INSTANCE_KEY = re.compile(r"\[[^\]]*\]")


class PlanError(ScadafwError):
    """The file is not a Terraform JSON plan this scadafw reads."""


def load_plan(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise PlanError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    try:
        plan = json.loads(text)
    except json.JSONDecodeError as exc:
        raise PlanError(f"{path}:{exc.lineno}:{exc.colno}: not JSON ({exc.msg}); make it with "
                        "`terraform show -json plan.out > plan.json`") from exc
    if not isinstance(plan, dict) or "format_version" not in plan:
        raise PlanError(f"{path}: not a Terraform JSON plan (no format_version); make it with "
                        "`terraform show -json plan.out > plan.json`")
    version = str(plan["format_version"])
    if not version.startswith(SUPPORTED_FORMATS):
        raise PlanError(f"{path}: plan format_version {version} is not supported (0.x and 1.x "
                        "are)")
    if "planned_values" not in plan and "resource_changes" not in plan:
        raise PlanError(f"{path}: a state or configuration, not a plan (no planned_values or "
                        "resource_changes); give `terraform show -json` a saved plan file")
    return plan


@dataclass
class PlanResource:
    address: str
    module: str  # module instance address, "" for the root
    type: str
    name: str
    values: dict[str, Any]
    unknown: set[str] = field(default_factory=set)
    actions: tuple[str, ...] = ()

    @property
    def ident(self) -> str:
        """What stands for the resource's id while it is unknown: its address."""
        return self.address

    def id(self) -> str:
        return str(self.values.get("id") or self.address)


def _modules(node: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield node
    for child in node.get("child_modules", []) or []:
        yield from _modules(child)


def resources(plan: dict[str, Any], prior: bool = False) -> list[PlanResource]:
    """Managed resources after the plan, or (prior=True) before it."""
    if prior:
        root = ((plan.get("prior_state") or {}).get("values") or {}).get("root_module") or {}
    else:
        root = (plan.get("planned_values") or {}).get("root_module") or {}
    changes = {c["address"]: c for c in plan.get("resource_changes", []) or []
               if isinstance(c, dict) and "address" in c}
    found = []
    for module in _modules(root):
        for item in module.get("resources", []) or []:
            if item.get("mode", "managed") != "managed" or "type" not in item:
                continue
            change = changes.get(item["address"], {}).get("change", {})
            unknown = change.get("after_unknown") if not prior else {}
            found.append(PlanResource(
                item["address"], module.get("address", ""), item["type"], item.get("name", ""),
                dict(item.get("values") or {}),
                {k for k, v in (unknown or {}).items() if v is True or _has_unknown(v)},
                tuple(change.get("actions", ()))))
    return found


def _has_unknown(value: Any) -> bool:
    """A list attribute with an element known only after apply (`[true]` in after_unknown)."""
    return isinstance(value, list) and any(v is True for v in value)


def changes(plan: dict[str, Any]) -> list[dict[str, Any]]:
    return [c for c in plan.get("resource_changes", []) or [] if isinstance(c, dict)]


def module_config(plan: dict[str, Any], module: str) -> dict[str, Any]:
    """The configuration block of a module instance address ("" for the root)."""
    node = (plan.get("configuration") or {}).get("root_module") or {}
    path = _INSTANCE_KEY.sub("", module).split(".")[1::2] if module else []
    for call in path:
        node = ((node.get("module_calls") or {}).get(call) or {}).get("module") or {}
    return node


class Resolver:
    """Follows unknown attribute values to what they refer to, within one plan."""

    def __init__(self, plan: dict[str, Any], found: list[PlanResource]) -> None:
        self.plan = plan
        self.by_module: dict[str, dict[str, list[PlanResource]]] = {}
        for r in found:
            self.by_module.setdefault(r.module, {}).setdefault(f"{r.type}.{r.name}", []).append(r)
        self.undecided: list[str] = []

    def config(self, resource: PlanResource) -> dict[str, Any]:
        config = module_config(self.plan, resource.module)
        for item in config.get("resources", []) or []:
            if item.get("address") == f"{resource.type}.{resource.name}":
                return dict(item)
        return {}

    def value(self, resource: PlanResource, attr: str) -> Any:
        """The attribute's value, or what stands for it when it is known only after apply."""
        if resource.values.get(attr) is not None:
            return resource.values[attr]
        if attr not in resource.unknown:
            return None
        references = ((self.config(resource).get("expressions") or {}).get(attr) or {}).get(
            "references") or []
        target = self._follow(resource.module, [str(r) for r in references])
        if target is None:
            self.undecided.append(f"{resource.address}: {attr} is known only after apply and "
                                  f"its reference ({', '.join(references) or 'none'}) cannot be "
                                  "followed in the plan")
        return target

    def values(self, resource: PlanResource, attr: str) -> list[str]:
        """A list attribute (of ids): known, or each resource its expression refers to."""
        known = resource.values.get(attr)
        if isinstance(known, list) and all(v is not None for v in known) and \
                attr not in resource.unknown:
            return [str(v) for v in known]
        if attr not in resource.unknown:
            return []
        references = ((self.config(resource).get("expressions") or {}).get(attr) or {}).get(
            "references") or []
        bases = sorted({f"{m.group('type')}.{m.group('name')}" for r in references
                        if (m := _REF.match(str(r))) and m.group("type") != "var"})
        found = [self._follow(resource.module, [f"{b}.id"]) for b in bases]
        if not found or None in found:
            self.undecided.append(f"{resource.address}: {attr} is known only after apply and "
                                  f"its references ({', '.join(references) or 'none'}) cannot "
                                  "all be followed in the plan")
            return []
        return [str(f) for f in found]

    def value_of_reference(self, module: str, reference: str) -> str | None:
        """What one reference (`aws_security_group.x.id`, a module output) stands for."""
        return self._follow(module, [reference])

    def _follow(self, module: str, references: list[str]) -> str | None:
        for ref in references:
            match = _MODULE_REF.match(ref)
            if match:
                return self._output(module, match.group("call"), match.group("output"),
                                    match.group("key"), match.group("instance"))
            match = _REF.match(ref)
            if match and match.group("type") not in ("var", "local", "each", "count", "data",
                                                     "path", "terraform", "self"):
                return self._resource_id(module, match.group("type"), match.group("name"),
                                         match.group("index"), match.group("attr") or "id")
        return None

    def _resource_id(self, module: str, rtype: str, name: str, index: str | None,
                     attr: str) -> str | None:
        candidates = self.by_module.get(module, {}).get(f"{rtype}.{name}", [])
        if index:
            candidates = [c for c in candidates if c.address.endswith(index)]
        if len(candidates) != 1:
            return None
        target = candidates[0]
        known = target.values.get(attr)
        return str(known) if known else target.ident

    def module_instance(self, module: str, call: str, instance: str | None) -> str | None:
        """The address of a child module's instance: the one the reference names (`["prod"]`,
        `[0]`), or the only one there is (a `for_each` of one, or no `for_each`)."""
        prefix = f"{module}." if module else ""
        child = f"{prefix}module.{call}"
        if instance:
            return f"{child}{instance}" if any(m == f"{child}{instance}" or m.startswith(
                f"{child}{instance}.") for m in self.by_module) else None
        head = re.compile(re.escape(child) + r"(\[[^\]]*\])?(?=\.|$)")
        instances = {match.group(0) for m in self.by_module if (match := head.match(m))}
        return instances.pop() if len(instances) == 1 else None

    def _output(self, module: str, call: str, output: str, key: str | None,
                instance: str | None = None) -> str | None:
        """A child module's output: the one resource its expression refers to (for a map
        output read with a key, the one named like the key)."""
        prefix = f"{module}." if module else ""
        child = f"{prefix}module.{call}"
        found = self.module_instance(module, call, instance)
        instances = [found] if found else []
        expression = ((module_config(self.plan, child).get("outputs") or {}).get(output)
                      or {}).get("expression") or {}
        bases = set()
        for ref in expression.get("references", []) or []:
            match = _REF.match(str(ref))
            if match and (key is None or match.group("name") == key):
                bases.add(f"{match.group('type')}.{match.group('name')}")
        if len(instances) != 1 or len(bases) != 1:
            return None
        return self._follow(instances[0], [f"{bases.pop()}.id"])
