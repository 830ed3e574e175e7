"""Topology version 2, part 2: servers in several networks (on premises, AWS VPCs, Azure VNets).
Each cloud network gets a module; partners elsewhere are named by their host addresses, on both
cloud ends, and `verify` judges the whole system with both ends' rules."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest

from generator.placement import placements
from generator.topology import load_topology
from tests.conftest import ROOT, resources, run_cli
from tests.domain import domain_allows

HYBRID = ROOT / "examples" / "hybrid-dr.yaml"
TWO_VPC = ROOT / "examples" / "two-vpc.yaml"


@pytest.fixture
def modules(tmp_path: Path) -> Path:
    copy = tmp_path / "modules"
    for system in ("river-east", "harbour"):
        shutil.copytree(ROOT / "modules" / system, copy / system)
    return copy


def verify(topology: Path, modules: Path | None = None) -> tuple[int, dict[str, Any]]:
    extra = ["--modules", str(modules)] if modules else []
    result = run_cli("verify", topology, *extra, "--format", "json")
    return result.code, json.loads(result.out)


def wrong(report: dict[str, Any], target: str) -> set[tuple[str, str, str]]:
    (found,) = [r for r in report["results"] if r["target"] == target]
    return {(f["source"], f["destination"], f["service"]) for f in found["flows"] if not f["ok"]}


def test_one_module_per_cloud_network_and_none_on_premises() -> None:
    assert [(p.folder, p.target.value) for p in placements(load_topology(HYBRID))] == [
        ("dmz-vpc", "aws"), ("dr-vnet", "azure")]
    assert sorted(p.name for p in (ROOT / "modules" / "river-east").iterdir()) == [
        "dmz-vpc", "dr-vnet"]


@pytest.mark.parametrize("example", [HYBRID, TWO_VPC], ids=lambda p: p.stem)
def test_the_whole_system_matches_the_domain_matrix(example: Path) -> None:
    code, report = verify(example)
    assert code == 0
    system = load_topology(example)
    roles = {s.name: s.role.value for s in system.servers}
    (whole,) = [r for r in report["results"] if r["target"] == "whole system"]
    pairs = {(f["source"].split()[0], f["destination"].split()[0], f["service"]): f["actual"]
             for f in whole["flows"]}
    assert len(pairs) == len(roles) * (len(roles) - 1) * 2
    assert all((actual == "allow") == domain_allows(roles[a], roles[b])
               for (a, b, _), actual in pairs.items())


def test_on_premises_ends_are_said_to_be_outside_the_proof() -> None:
    _, report = verify(HYBRID)
    (whole,) = [r for r in report["results"] if r["target"] == "whole system"]
    assert any("outside the proof: scada-a, scada-b" in n for n in whole["notes"])


def test_partners_in_other_networks_are_named_by_their_host_addresses() -> None:
    rules = resources(ROOT / "modules" / "river-east" / "dr-vnet" / "main.tf")[
        "azurerm_network_security_rule"]
    inbound = rules["permanent_standby_in_from_partner_plant_redundant_tcp"]
    assert inbound["source_address_prefixes"] == ["192.168.10.10/32", "192.168.10.11/32"]
    outbound = rules["permanent_standby_out_to_partner_plant_redundant_tcp"]
    assert outbound["destination_address_prefixes"] == ["192.168.10.10/32", "192.168.10.11/32"]
    # the DMZ standby elsewhere gets nothing from or to the permanent standby
    assert not [n for n in rules if "dmz" in n and "partner" in n]


def test_dropping_the_on_premises_mains_address_on_the_dr_standby_is_caught(
        modules: Path) -> None:
    tf = modules / "river-east" / "dr-vnet" / "main.tf"
    text = tf.read_text()
    text = re.sub(r'(permanent_standby_in_from_partner_plant_redundant_tcp" \{.*?)'
                  r'"192\.168\.10\.10/32", ', r"\1", text, count=1, flags=re.DOTALL)
    tf.write_text(text)
    code, report = verify(HYBRID, modules)
    assert code == 1
    assert wrong(report, "dr-vnet") == {("scada-a 192.168.10.10", "scada-dr", "TCP 5481")}
    assert wrong(report, "whole system") == {
        ("scada-a (plant)", "scada-dr (dr-vnet)", "TCP 5481")}


def test_letting_the_dmz_vpc_reach_the_mains_address_is_caught(modules: Path) -> None:
    tf = modules / "harbour" / "control-vpc" / "main.tf"
    tf.write_text(tf.read_text() + '''
resource "aws_vpc_security_group_ingress_rule" "redundant_from_dmz_vpc" {
  security_group_id = aws_security_group.redundant.id
  cidr_ipv4         = "10.60.0.0/16"
  ip_protocol       = "tcp"
  from_port         = 5481
  to_port           = 5481
}
''')
    code, report = verify(TWO_VPC, modules)
    assert code == 1
    assert wrong(report, "control-vpc") == {("scada-dmz 10.60.1.10", "scada-a", "TCP 5481"),
                                            ("scada-dmz 10.60.1.10", "scada-b", "TCP 5481")}


def test_letting_the_dmz_standby_open_towards_the_mains_address_is_caught(
        modules: Path) -> None:
    tf = modules / "harbour" / "dmz-vpc" / "main.tf"
    tf.write_text(tf.read_text() + '''
resource "aws_vpc_security_group_egress_rule" "dmz_to_main" {
  security_group_id = aws_security_group.dmz_permanent_standby.id
  cidr_ipv4         = "10.50.1.10/32"
  ip_protocol       = "tcp"
  from_port         = 5481
  to_port           = 5481
}
''')
    code, report = verify(TWO_VPC, modules)
    assert code == 1
    assert wrong(report, "dmz-vpc") == {("scada-dmz", "scada-a 10.50.1.10", "TCP 5481")}


def test_flows_and_diff_show_networks(tmp_path: Path) -> None:
    out = run_cli("flows", HYBRID, "--format", "csv").out
    assert ",plant,dr-vnet" in out
    moved = tmp_path / "moved.yaml"
    moved.write_text(HYBRID.read_text().replace(
        "{name: scada-dmz, role: dmz_permanent_standby, network: dmz-vpc",
        "{name: scada-dmz, role: dmz_permanent_standby, network: dr-vnet"))
    result = run_cli("diff", HYBRID, moved)
    assert result.code == 1
    assert "+ scada-a (plant) -> scada-dmz (dr-vnet) tcp 5481" in result.out
    assert "- scada-a (plant) -> scada-dmz (dmz-vpc) tcp 5481" in result.out
