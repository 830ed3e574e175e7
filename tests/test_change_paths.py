"""Safe change paths, planned and applied with the real Terraform into moto: renaming a client
and an outstation, and moving the server port in three steps, never leave a rule that is in
use absent while the apply runs; every state in between is judged by sets against its topology.

"Absent during the apply" is read off each plan: a rule in use before and after the change must
be kept (no-op, moved, or updated without touching what it matches), never deleted, replaced,
or narrowed. A rule may only be deleted when the topology after the change no longer has its
flow. Upgrading from modules whose server-port rules were named without the port is one of the
paths: those states move too.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest

from generator.checks.review import replacements
from generator.checks.terraform import judge
from generator.sources.landscape import provision_servers
from generator.sources.terraform_apply import Applied, apply_root
from generator.targets import render_system
from generator.topology import load_topology
from tests.conftest import ROOT, run_cli

BEFORE = """\
version: 2
system: plant-cp
targets: [aws]
port: 5481
servers:
  - {name: scada-a, role: main, addresses: [10.70.1.10]}
  - {name: scada-b, role: standby, addresses: [10.70.2.10]}
  - {name: scada-dmz, role: dmz_permanent_standby, addresses: [10.70.8.10]}
clients:
  - {name: ops, sources: [10.70.20.0/24], services: [viewx, web, advise]}
outstations:
  - {name: pumps, addresses: [10.71.0.0/24], protocol: tcp, ports: [20000],
     listen_ports: [20001]}
"""
RENAMED = (BEFORE.replace("{name: ops,", "{name: operators, renamed_from: ops,")
           .replace("{name: pumps,", "{name: wells, renamed_from: pumps,"))
STEP_1 = RENAMED.replace("port: 5481\n", "port: 5482\nprevious_port: 5481\n")
STEP_3 = RENAMED.replace("port: 5481\n", "port: 5482\n")
RULES = ("aws_vpc_security_group_ingress_rule", "aws_vpc_security_group_egress_rule")
MATCHES = ("security_group_id", "ip_protocol", "from_port", "to_port", "cidr_ipv4",
           "cidr_ipv6", "referenced_security_group_id")


def _rule_changes(plan: dict[str, Any]) -> list[dict[str, Any]]:
    return [c for c in plan["resource_changes"] if c["type"] in RULES]


def _actions(plan: dict[str, Any]) -> dict[str, tuple[str, ...]]:
    return {c["address"]: tuple(c["change"]["actions"]) for c in _rule_changes(plan)}


def _narrowed(plan: dict[str, Any]) -> list[str]:
    """Rules updated in place in what they match (a port, a peer): the old match ends."""
    return [c["address"] for c in _rule_changes(plan) if c["change"]["actions"] == ["update"]
            and any(c["change"]["before"].get(k) != c["change"]["after"].get(k)
                    for k in MATCHES)]


def _ports(plan: dict[str, Any], action: str) -> set[int]:
    side = "before" if action == "delete" else "after"
    return {c["change"][side]["from_port"] for c in _rule_changes(plan)
            if c["change"]["actions"] == [action]}


def _legacy(folder: Path) -> None:
    """The module as releases before port migrations wrote it: server-port rules named
    without their port, and no moves."""
    main = folder / "main.tf"
    main.write_text(re.sub(r'(_(?:tcp|viewx)(?:_[0-9_]+?)?)_5481"', r'\1"', main.read_text()))
    (folder / "renames.tf").unlink()


@pytest.fixture
def stage(terraform: Any, moto_server: Any, tmp_path: Path) -> Any:
    """Apply a topology's AWS module with the control-room root configuration: call with the
    topology's text; returns (the system, what Terraform applied)."""
    endpoint, ec2 = moto_server
    root = tmp_path / "root"
    root.mkdir()
    main = (ROOT / "examples" / "control-room" / "aws" / "main.tf").read_text()
    (root / "main.tf").write_text(main.replace('"../../../modules/water-west/aws"',
                                               '"./module"'))
    landscape = provision_servers(ec2, load_topology(_write(tmp_path, BEFORE)))

    def apply(text: str, edit: Any = None) -> tuple[Any, Applied]:
        system = load_topology(_write(tmp_path, text))
        module = root / "module"
        shutil.rmtree(module, ignore_errors=True)
        module.mkdir()
        for name, body in render_system(system)["aws"].items():
            (module / name).write_text(body)
        if edit is not None:
            edit(module)
        applied = apply_root(terraform, root, endpoint, landscape, replan=False)
        report = judge(system, applied, ec2, "change path")
        assert report.ok, [str(f) for f in report.failures]
        return system, applied

    return apply


def _write(folder: Path, text: str) -> Path:
    path = folder / "topology.yaml"
    path.write_text(text)
    return path


def test_rename_and_port_migration_keep_every_rule_in_use_through_each_apply(
        stage: Any) -> None:
    stage(BEFORE, _legacy)  # deployed by an earlier release, without ports in names

    _, renamed = stage(RENAMED)  # clients and outstations renamed, and the names upgraded
    moved = {c["previous_address"]: c["address"] for c in _rule_changes(renamed.plan)
             if c.get("previous_address")}
    assert set(_actions(renamed.plan).values()) <= {("no-op",), ("update",)}, _actions(
        renamed.plan)
    assert _narrowed(renamed.plan) == []
    assert replacements(renamed.plan) == []
    plain = "module.geo_scada_firewall.aws_vpc_security_group_ingress_rule."
    assert moved[f"{plain}redundant_from_client_ops_viewx_10_70_20_0_24"] == (
        f"{plain}redundant_from_client_operators_viewx_10_70_20_0_24_5481")  # two moves chained
    assert moved[f"{plain}redundant_from_redundant_tcp"] == (
        f"{plain}redundant_from_redundant_tcp_5481")
    assert moved[f"{plain}redundant_from_outstation_pumps_listen_10_71_0_0_24"] == (
        f"{plain}redundant_from_outstation_wells_listen_10_71_0_0_24")

    _, step_1 = stage(STEP_1)  # both ports: only rules for 5482 come
    assert set(_actions(step_1.plan).values()) <= {("no-op",), ("update",), ("create",)}
    assert _ports(step_1.plan, "create") == {5482}
    assert _narrowed(step_1.plan) == []

    _, step_3 = stage(STEP_3)  # the servers use 5482: only the rules of 5481 go
    # (updates: descriptions moto drops from group-referencing rules, set again; nothing else)
    assert set(_actions(step_3.plan).values()) <= {("no-op",), ("update",), ("delete",)}
    assert _ports(step_3.plan, "delete") == {5481}
    assert _narrowed(step_3.plan) == []


def test_a_rename_without_renamed_from_is_a_replacement_review_names(
        stage: Any, terraform: Any, tmp_path: Path) -> None:
    stage(BEFORE)
    bare = BEFORE.replace("{name: ops,", "{name: operators,")
    system = load_topology(_write(tmp_path, bare))
    root = tmp_path / "root"
    for name, body in render_system(system)["aws"].items():
        (root / "module" / name).write_text(body)
    terraform.plan(root, "bare.out")
    plan = terraform.show(root, "bare.out")
    found = replacements(plan)
    assert any("client_ops_viewx_10_70_20_0_24_5481 -> " in f
               and "client_operators_viewx_10_70_20_0_24_5481 (deleted and created under a "
                   "new address" in f for f in found), found
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(plan))
    result = run_cli("review", path, _write(tmp_path, bare))
    assert result.code == 1
    assert "REPLACED   module.geo_scada_firewall.aws_vpc_security_group_ingress_rule." \
           "redundant_from_client_ops_viewx_10_70_20_0_24_5481 -> " in result.out, result.out
