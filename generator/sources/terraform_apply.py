"""Applying an AWS module through the real Terraform provider into moto, for
`scadafw verify --terraform` (generator/checks/terraform.py) and the tests: a root
configuration that calls the module with the VPC and interfaces of servers that exist first
(generator/sources/landscape.py), then init, plan, apply and a second plan (an apply must
leave nothing to change but moto's known gaps, told apart here from real drift).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from generator.sources.landscape import (
    REGION,
    Landscape,
)
from generator.sources.terraform import Terraform, moto_provider_override

OVERRIDE_FILE = "scadafw_moto_override.tf"
INPUTS_FILE = "scadafw.auto.tfvars.json"
_RULE_TYPES = ("aws_vpc_security_group_ingress_rule", "aws_vpc_security_group_egress_rule")
_LABELLED_RULES = (*_RULE_TYPES, "aws_security_group_rule")

# The root configuration `verify --terraform` writes beside a copy of each module: the same
# pattern as the examples' roots (examples/*/aws/main.tf), without their comments.
ROOT_CONFIGURATION = """\
# written by scadafw verify --terraform
variable "vpc_id" {
  type = string
}

variable "servers" {
  type = map(object({
    instance_id = string
    links = map(object({
      subnet_id    = string
      device_index = number
    }))
  }))
}

provider "aws" {}

module "scadafw" {
  source = "./module"

  vpc_id = var.vpc_id
}

locals {
  links = merge([for server, s in var.servers : {
    for address, link in s.links : address => merge(link, { server = server, instance_id = s.instance_id })
  }]...)
}

resource "aws_network_interface" "geo_scada_link" {
  for_each = local.links

  subnet_id       = each.value.subnet_id
  private_ips     = [each.key]
  security_groups = module.scadafw.security_group_ids_by_server[each.value.server]

  attachment {
    instance     = each.value.instance_id
    device_index = each.value.device_index
  }
}
"""
LINK_RESOURCE = "aws_network_interface"


@dataclass
class Applied:
    """One root configuration after `apply`, and what Terraform said on the way."""

    root: Path
    landscape: Landscape
    plan: dict[str, Any]  # `show -json` of the first plan
    state: dict[str, Any]  # `show -json` after apply
    replan: dict[str, Any] | None = None  # `show -json` of the plan after apply, when not empty
    moto_gaps: list[str] = field(default_factory=list)  # re-plan noise moto causes, named
    drift: list[str] = field(default_factory=list)  # anything else a re-plan wants to change


def _modules(node: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield node
    for child in node.get("child_modules", []):
        yield from _modules(child)


def state_resources(document: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every resource of a `show -json` state or of a plan's `planned_values`, at any depth."""
    values = document.get("values") or document.get("planned_values") or {}
    for module in _modules(values.get("root_module", {})):
        yield from module.get("resources", [])


def read_state_file(path: Path) -> dict[str, Any]:
    """The resources of a local state file (format 4) in `show -json`'s shape, without the
    second or two a `terraform show -json` spends starting the provider."""
    raw = json.loads(path.read_text(encoding="utf-8"))
    resources = []
    for resource in raw.get("resources", []):
        if resource.get("mode") != "managed":
            continue
        prefix = f"{resource['module']}." if resource.get("module") else ""
        for instance in resource.get("instances", []):
            key = instance.get("index_key")
            index = "" if key is None else f"[{json.dumps(key)}]"
            resources.append({"address": f"{prefix}{resource['type']}.{resource['name']}{index}",
                              "type": resource["type"], "values": instance.get("attributes")})
    return {"values": {"root_module": {"resources": resources}}}


def state_labels(state: dict[str, Any]) -> dict[str, str]:
    """Security group and rule ids -> the Terraform address that made them."""
    labels: dict[str, str] = {}
    for resource in state_resources(state):
        values = resource.get("values") or {}
        kind = resource.get("type")
        made = (values.get("id") if kind == "aws_security_group"
                else values.get("security_group_rule_id") if kind in _LABELLED_RULES else None)
        if made:
            labels[made] = resource["address"]
    return labels


def replan_changes(plan: dict[str, Any],
                   instance_groups: frozenset[str] = frozenset()) -> tuple[list[str], list[str]]:
    """Split what a re-plan after apply wants into moto's known gaps and real drift.

    moto 5 does not return the description of a rule that references a group, so the provider
    reads it back empty and plans to set it again: an `update` whose only difference is that
    description, on a rule with `referenced_security_group_id`. moto also reports an interface
    attached to an instance as carrying the instance's own groups besides its own (AWS keeps
    groups per interface), so the provider plans to remove them: an `update` of an
    `aws_network_interface` whose only difference is `security_groups` losing groups of the
    instances (`instance_groups`). Everything else is drift."""
    gaps: list[str] = []
    drift: list[str] = []
    for change in plan.get("resource_changes", []):
        actions = change.get("change", {}).get("actions", [])
        if actions in (["no-op"], ["read"]):
            continue
        before = change["change"].get("before") or {}
        after = change["change"].get("after") or {}
        differing = sorted(k for k in set(before) | set(after)
                           if before.get(k) != after.get(k) and k not in _unknown_after(change))
        if actions == ["update"] and (_description_gap(change, differing)
                                      or _instance_groups_gap(change, differing,
                                                              instance_groups)):
            gaps.append(change["address"])
        else:
            drift.append(f"{change['address']}: {'/'.join(actions)} ({', '.join(differing)})")
    return gaps, drift


def _description_gap(change: dict[str, Any], differing: list[str]) -> bool:
    before, after = change["change"]["before"] or {}, change["change"]["after"] or {}
    return (change.get("type") in _RULE_TYPES and differing == ["description"]
            and not before.get("description")
            and bool(after.get("referenced_security_group_id")))


def _instance_groups_gap(change: dict[str, Any], differing: list[str],
                         instance_groups: frozenset[str]) -> bool:
    before = set((change["change"]["before"] or {}).get("security_groups") or [])
    after = set((change["change"]["after"] or {}).get("security_groups") or [])
    return (change.get("type") == LINK_RESOURCE and differing == ["security_groups"]
            and after < before and before - after <= instance_groups)


def _unknown_after(change: dict[str, Any]) -> set[str]:
    unknown = change.get("change", {}).get("after_unknown") or {}
    return {k for k, v in unknown.items() if v is True}


def apply_root(terraform: Terraform, root: Path, endpoint: str, landscape: Landscape,
               replan: bool = True, keep_plan: bool = True) -> Applied:
    """init, plan, apply and (unless `replan` is False) re-plan the root configuration in
    `root` against `endpoint`; `keep_plan` keeps the first plan's JSON in `Applied.plan`."""
    (root / OVERRIDE_FILE).write_text(moto_provider_override(endpoint, REGION),
                                      encoding="utf-8")
    (root / INPUTS_FILE).write_text(json.dumps(landscape.inputs(), indent=2) + "\n",
                                    encoding="utf-8")
    terraform.init(root)
    terraform.plan(root, "plan.out")
    plan = terraform.show(root, "plan.out") if keep_plan else {}
    terraform.apply(root, "plan.out")
    applied = Applied(root, landscape, plan, read_state_file(root / "terraform.tfstate"))
    link_interfaces(landscape, applied.state)
    if replan and terraform.plan(root, "replan.out") == 2:
        applied.replan = terraform.show(root, "replan.out")
        applied.moto_gaps, applied.drift = replan_changes(
            applied.replan, frozenset(landscape.launch_groups.values()))
    return applied


def link_interfaces(landscape: Landscape, state: dict[str, Any]) -> None:
    """Each server's link interfaces, as Terraform made them: found by their addresses."""
    landscape.interfaces = {}
    landscape.by_address = {}
    for resource in state_resources(state):
        values = resource.get("values") or {}
        if resource.get("type") != LINK_RESOURCE:
            continue
        for address in values.get("private_ips") or []:
            server = landscape.server_of(str(address))
            if server is not None:
                landscape.interfaces.setdefault(server, []).append(str(values["id"]))
                landscape.by_address[str(address)] = str(values["id"])
