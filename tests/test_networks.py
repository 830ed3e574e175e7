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
import yaml

from generator.targets.placement import placements
from generator.topology import load_topology
from tests.conftest import ROOT, resources, run_cli
from tests.domain import domain_allows
from tests.judged import differences, reaches, verified

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
    """(code, place, the start of the message) of every finding of one module."""
    (found,) = [r for r in report["results"] if r["target"] == target]
    return {(f["code"], f["place"], f["message"].split(" reach")[0])
            for f in found["findings"] if not f["note"]}


def test_one_module_per_cloud_network_and_none_on_premises() -> None:
    """On premises, the network's perimeter policy instead; and one folder of host firewall
    scripts, for every network with `host_firewall`."""
    assert [(p.folder, p.target.value) for p in placements(load_topology(HYBRID))] == [
        ("dmz-vpc", "aws"), ("dr-vnet", "azure"), ("plant", "perimeter"),
        ("windows", "windows")]
    assert sorted(p.name for p in (ROOT / "modules" / "river-east").iterdir()) == [
        "dmz-vpc", "dr-vnet", "plant", "windows"]


@pytest.mark.parametrize("example", [HYBRID, TWO_VPC], ids=lambda p: p.stem)
def test_the_whole_system_matches_the_domain_matrix(example: Path) -> None:
    """Every pair, each side judged in its own network's module and, where the network has
    `host_firewall`, in its host's script too (a server on premises with neither is outside
    this proof)."""
    reports = verified(example, ROOT / "modules")
    assert all(r.ok for r in reports)
    system = load_topology(example)
    roles = {s.name: s.role.value for s in system.servers}
    links = {s.name: [str(a) for a in s.addresses] for s in system.servers}
    network = {s.name: s.network for s in system.servers}
    onprem = {n.name for n in system.networks if n.cloud == "onprem"}
    for a, role_a in roles.items():
        for b, role_b in roles.items():
            if a != b:
                # two servers of one on-premises network never cross its perimeter
                crossing = [r for r in reports if not (
                    r.target in onprem and network[a] == network[b] == r.target)]
                for protocol, port in (("tcp", system.port), ("icmp", 8)):
                    assert reaches(crossing, a, b, protocol, port, links) == domain_allows(
                        role_a, role_b), (a, b, protocol)
    doc = yaml.safe_load(example.read_text())
    for report in reports:
        if report.target in onprem:
            continue  # judged against the domain in tests/test_perimeter.py, inside aside
        exact = (lambda _: True) if report.target in ("dmz-vpc", "control-vpc") else (
            lambda j: j.query.protocol != "tcp" or j.query.ports == (system.port,) * 2)
        if report.target == "windows":  # outbound is Windows' default
            exact = lambda _: False  # noqa: E731
        assert differences([report], doc, exact) == []


def test_on_premises_servers_are_judged_at_their_perimeter(tmp_path: Path) -> None:
    """Each on-premises network's perimeter policy proves its servers' side of every flow
    that crosses it, with or without their host firewall scripts."""
    bare = tmp_path / "hybrid.yaml"
    bare.write_text(HYBRID.read_text().replace(", host_firewall: true", ""))
    assert run_cli("generate", bare, "--out", tmp_path / "modules").code == 0
    for topology, modules in ((HYBRID, None), (bare, tmp_path / "modules")):
        code, report = verify(topology, modules)
        assert code == 0
        notes = [f["message"] for r in report["results"] for f in r["findings"] if f["note"]]
        assert not [n for n in notes if "outside this proof" in n]
        (plant,) = [r for r in report["results"] if r["target"] == "plant"]
        assert plant["classes"] == 12  # scada-a and scada-b, both sides, 3 services


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
    assert wrong(report, "dr-vnet") == {
        ("missing", "scada-dr:10.20.1.10 inbound TCP 5481", "scada-a 192.168.10.10/32 cannot")}


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
    assert wrong(report, "control-vpc") == {
        ("forbidden", f"{link} inbound TCP 5481",
         "scada-dmz 10.60.1.10/32; anyone else: 10.60.0.0/16 but 10.60.1.10/32")
        for link in ("scada-a:10.50.1.10", "scada-b:10.50.2.10")}


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
    assert wrong(report, "dmz-vpc") == {
        ("forbidden", "scada-dmz:10.60.1.10 outbound TCP 5481", "scada-dmz:10.60.1.10")}
    (result,) = [r for r in report["results"] if r["target"] == "dmz-vpc"]
    assert "reaches scada-a 10.50.1.10/32 on TCP 5481 through " \
           "aws_vpc_security_group_egress_rule.dmz_to_main" in result["findings"][0]["message"]


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
