"""Azure plans for `review`, in `terraform show -json`'s shape. No azurerm provider can run
here, so these are not made by Terraform: they are built from the emitted module's HCL the way
Terraform lays out a first plan (values that are literal or derive from literals known, ids
known only after apply, references in `configuration`), following the structure of the real
AWS plans the tests make and the azurerm schema. Marked as such in the plan itself."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from generator.model import System
from generator.sources.hcl_module import read_module

_REF = re.compile(r"\$\{([a-z_]+)\.([A-Za-z0-9_-]+)\.([a-z_]+)\}")
NIC = "/subscriptions/0/resourceGroups/rg/providers/Microsoft.Network/networkInterfaces/{}-nic"
VARIABLES = {"resource_group_name": "rg-plant-north", "location": "westeurope",
             "name_prefix": "plant-north-"}
_VARIABLE = re.compile(r"\$\{var\.([a-z_]+)\}")


def _known(value: Any, names: dict[str, str]) -> tuple[Any, bool, list[str]]:
    """(planned value, unknown?, references) of one HCL attribute as python-hcl2 reads it."""
    items = value if isinstance(value, list) else [value]
    refs, out, unknown = [], [], False
    for item in items:
        text = str(item)
        match = _REF.fullmatch(text)
        if match:
            rtype, name, attr = match.groups()
            refs += [f"{rtype}.{name}.{attr}", f"{rtype}.{name}"]
            if attr == "name" and f"{rtype}.{name}" in names:
                out.append(names[f"{rtype}.{name}"])
            else:
                unknown = True
                out.append(None)
        elif "${var." in text:  # a variable, or a string that starts with one (a name prefix)
            out.append(_VARIABLE.sub(lambda m: str(VARIABLES.get(m.group(1))), text))
        else:
            out.append(item)
    planned = out if isinstance(value, list) else out[0]
    return planned, unknown, refs


def plan_for(system: System, module_dir: Path, extra: list[dict[str, Any]] | None = None,
             drop: tuple[str, ...] = ()) -> dict[str, Any]:
    module = read_module(module_dir)
    names = {f"{t}.{n}": _VARIABLE.sub(lambda m: str(VARIABLES.get(m.group(1))),
                                       str(r.attrs.get("name")))
             for t, rs in module.resources.items() for n, r in rs.items() if "name" in r.attrs}
    resources, changes, config = [], [], []
    for rtype, named in sorted(module.resources.items()):
        for name, resource in sorted(named.items()):
            if f"{rtype}.{name}" in drop:
                continue
            values, unknown, expressions = {}, {"id": True}, {}
            for attr, value in resource.attrs.items():
                if attr in ("for_each", "tags"):
                    continue
                planned, is_unknown, refs = _known(value, names)
                values[attr] = None if is_unknown else planned
                if is_unknown:
                    unknown[attr] = [True] if isinstance(value, list) else True
                if refs:
                    expressions[attr] = {"references": refs}
            if rtype in ("azurerm_network_security_group", "azurerm_application_security_group"):
                values["tags"] = {"Name": f"{system.name}-{name}", "scadafw:system": system.name,
                                  "scadafw:role-group": name}
            instances = [None]
            if "for_each" in resource.attrs:  # one NIC per server here, on its "main" link
                server = next(s for s in system.servers if s.ident == name)
                instances = ["main"]
                values["network_interface_id"] = NIC.format(server.name)
            for index in instances:
                address = f"module.geo_scada_firewall.{rtype}.{name}" + (
                    f'["{index}"]' if index is not None else "")
                item = {"address": address, "mode": "managed", "type": rtype, "name": name,
                        "values": dict(values)}
                if index is not None:
                    item["index"] = index
                resources.append(item)
                changes.append({"address": address, "module_address": "module.geo_scada_firewall",
                                "mode": "managed", "type": rtype, "name": name,
                                "change": {"actions": ["create"], "before": None,
                                           "after": dict(values), "after_unknown": unknown}})
            config.append({"address": f"{rtype}.{name}", "mode": "managed", "type": rtype,
                           "name": name, "expressions": expressions})
    root_resources = []
    for item in extra or []:
        root_resources.append({**item, "mode": "managed"})
        changes.append({"address": item["address"], "mode": "managed", "type": item["type"],
                        "name": item["name"], "change": {"actions": ["create"], "before": None,
                                                         "after": item["values"],
                                                         "after_unknown": {"id": True}}})
    return {
        "format_version": "1.2", "terraform_version": "1.11.4",
        "_comment": "built by tests/azure_plans.py in terraform show -json's shape; not made by "
                    "Terraform (no azurerm provider here)",
        "variables": {"network_interface_ids": {"value": {
            s.name: {"main": NIC.format(s.name)} for s in system.servers}}},
        "planned_values": {"root_module": {"resources": root_resources, "child_modules": [
            {"address": "module.geo_scada_firewall", "resources": resources}]}},
        "resource_changes": changes,
        "configuration": {"root_module": {"module_calls": {"geo_scada_firewall": {
            "source": "../../../modules/plant-north/azure",
            "module": {"resources": config}}}}},
    }
