"""The port migration window and renames, without Terraform: `previous_port` opens both ports
for every server-port flow (the denies covering both) and nothing else, judged by sets against
tests/domain.py; a renamed client or outstation keeps its Azure names and priorities and moves
on AWS; `diff` shows renames as renames and the three steps of a port move."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from tests.conftest import ROOT, parse_hcl, resources, run_cli
from tests.domain import domain_allows
from tests.judged import differences, reaches, verified

DMZ = ROOT / "examples" / "dmz.yaml"
CONTROL_ROOM = ROOT / "examples" / "control-room.yaml"


def _migrating(example: Path, tmp_path: Path) -> tuple[Path, Path]:
    text = example.read_text().replace("port: 5481\n", "port: 5482\nprevious_port: 5481\n")
    # the host firewall scripts too (target windows)
    text = text.replace("targets: [aws, azure]", "targets: [aws, azure, windows]")
    assert "previous_port" in text
    assert "windows" in text
    topology = tmp_path / example.name
    topology.write_text(text)
    out = tmp_path / "modules"
    result = run_cli("generate", topology, "--out", out)
    assert result.code == 0, result.err
    return topology, out


def _exact(target: str) -> object:
    if target == "aws":
        return lambda _: True
    if target == "windows":  # outbound is Windows' default: only what is missing counts
        return lambda _: False
    return lambda j: j.query.protocol != "tcp" or j.query.ports[0] in (5481, 5482)


@pytest.mark.parametrize("example", [DMZ, CONTROL_ROOM], ids=lambda p: p.stem)
def test_during_a_migration_both_ports_pass_where_the_domain_says_and_nothing_else(
        example: Path, tmp_path: Path) -> None:
    topology, modules = _migrating(example, tmp_path)
    doc = yaml.safe_load(topology.read_text())
    roles = {s["name"]: s["role"] for s in doc["servers"]}
    for target in ("aws", "azure", "windows"):
        reports = [r for r in verified(topology, modules) if r.target == target]
        assert reports
        assert all(r.ok for r in reports), [str(f) for r in reports for f in r.failures]
        ports = {j.query.ports for r in reports for j in r.classes if j.query.protocol == "tcp"}
        assert {(5481, 5481), (5482, 5482)} <= ports
        assert differences(reports, doc, _exact(target)) == []  # type: ignore[arg-type]
        wrong = [(a, b, port) for a in roles for b in roles if a != b for port in (5481, 5482)
                 if reaches(reports, a, b, "tcp", port) != domain_allows(roles[a], roles[b])]
        assert wrong == [], target


def test_dropping_the_previous_ports_rules_is_caught(tmp_path: Path) -> None:
    topology, modules = _migrating(DMZ, tmp_path)
    main = modules / "plant-north" / "aws" / "main.tf"
    text = main.read_text()
    start = text.index('resource "aws_vpc_security_group_ingress_rule" '
                       '"permanent_standby_from_redundant_tcp_5481"')
    end = text.index("\n}\n", start) + 3
    main.write_text(text[:start] + text[end:])
    result = run_cli("verify", topology, "--modules", modules, "--format", "json")
    assert result.code == 1
    found = [f for r in json.loads(result.out)["results"] for f in r["findings"]
             if f["code"] == "missing"]
    assert {f["place"] for f in found} == {"scada-dr:10.20.1.10 inbound TCP 5481"}


def test_aws_keeps_one_rule_per_port_and_azure_both_ports_in_each_rule(tmp_path: Path) -> None:
    _, modules = _migrating(DMZ, tmp_path)
    aws = resources(modules / "plant-north" / "aws" / "main.tf")
    ingress = aws["aws_vpc_security_group_ingress_rule"]
    assert {(n, r["from_port"]) for n, r in ingress.items() if "redundant_tcp" in n
            and n.startswith("redundant_from")} == {
        ("redundant_from_redundant_tcp_5481", 5481), ("redundant_from_redundant_tcp_5482", 5482)}
    assert "TCP 5482:" in ingress["redundant_from_redundant_tcp_5482"]["description"]
    azure = resources(modules / "plant-north" / "azure" / "main.tf")
    rules = azure["azurerm_network_security_rule"]
    for name in ("redundant_in_from_redundant_tcp", "redundant_in_deny_tcp",
                 "redundant_out_deny_tcp"):
        assert rules[name]["destination_port_ranges"] == ["5481", "5482"], name
        assert "destination_port_range" not in rules[name]


@pytest.mark.parametrize(("extra", "message"), [
    ("previous_port: 5481\n", "previous_port is the port itself (5481)"),
    ("previous_port: 0\n", "previous_port must be from 1 to 65535, got 0"),
])
def test_bad_previous_ports_are_refused(tmp_path: Path, extra: str, message: str) -> None:
    topology = tmp_path / "t.yaml"
    topology.write_text(DMZ.read_text() + extra)
    result = run_cli("generate", topology, "--out", tmp_path / "out")
    assert result.code == 2
    assert message in result.err


RENAMED = """\
version: 2
system: plant-x
servers:
  - {name: scada-a, role: main, addresses: [10.0.0.10]}
  - {name: scada-b, role: standby, addresses: [10.0.0.11]}
clients:
  - {name: NEW_CLIENT, sources: [10.50.0.0/24], services: [viewx, web, advise]}
outstations:
  - {name: NEW_STATION, addresses: [10.60.0.0/22], protocol: tcp, ports: [20000],
     listen_ports: [20001]}
"""


def _pair(tmp_path: Path, renamed: bool) -> tuple[Path, Path]:
    old = tmp_path / "old.yaml"
    old.write_text(RENAMED.replace("NEW_CLIENT", "ops").replace("NEW_STATION", "pumps"))
    new = tmp_path / "new.yaml"
    new.write_text(RENAMED.replace("NEW_CLIENT", "operators, renamed_from: ops" if renamed
                                   else "operators")
                   .replace("NEW_STATION", "wells, renamed_from: pumps" if renamed
                            else "wells"))
    return old, new


def test_a_renamed_client_and_outstation_keep_their_azure_names_and_priorities(
        tmp_path: Path) -> None:
    old, new = _pair(tmp_path, renamed=True)
    for topology in (old, new):
        assert run_cli("generate", topology, "--out", tmp_path / topology.stem).code == 0
    before = resources(tmp_path / "old" / "plant-x" / "azure" / "main.tf")[
        "azurerm_network_security_rule"]
    after = resources(tmp_path / "new" / "plant-x" / "azure" / "main.tf")[
        "azurerm_network_security_rule"]
    moved = {m["from"].strip("${}"): m["to"].strip("${}") for m in parse_hcl(
        tmp_path / "new" / "plant-x" / "azure" / "renames.tf")["moved"]}
    assert len(moved) == 5  # viewx, web, advise; poll, listen
    for source, target in moved.items():
        was, now = before[source.split(".")[1]], after[target.split(".")[1]]
        assert {k: v for k, v in now.items() if k != "description"} == {
            k: v for k, v in was.items() if k != "description"}, target
        assert "operators" in now["description"] or "wells" in now["description"]
    aws_moved = parse_hcl(tmp_path / "new" / "plant-x" / "aws" / "renames.tf")["moved"]
    assert any("client_ops_web" in m["from"] and "client_operators_web" in m["to"]
               for m in aws_moved)


def test_diff_shows_a_rename_as_moves_and_without_renamed_from_as_destroy_and_create(
        tmp_path: Path) -> None:
    old, new = _pair(tmp_path, renamed=True)
    report = json.loads(run_cli("diff", old, new, "--format", "json").out)
    assert {(r["kind"], r["from"], r["to"]) for r in report["renamed"]} == {
        ("client", "ops", "operators"), ("outstation", "pumps", "wells")}
    assert report["flows"] == {"added": [], "removed": []}
    for cloud in ("aws", "azure"):
        changes = report["resources"][cloud]
        assert changes["added"] == changes["removed"] == [], cloud
        assert changes["replaced"] == {}
        assert {k for v in changes["changed"].values() for k in v} == {"description"}
        assert len(changes["moved"]) == 5
    old, bare = _pair(tmp_path, renamed=False)
    report = json.loads(run_cli("diff", old, bare, "--format", "json").out)
    assert report["renamed"] == []
    assert len(report["resources"]["aws"]["removed"]) == 5
    assert len(report["resources"]["aws"]["added"]) == 5


def test_diff_walks_a_port_move_through_its_three_steps(tmp_path: Path) -> None:
    texts = {"before": DMZ.read_text(),
             "direct": DMZ.read_text().replace("port: 5481", "port: 5482"),
             "step1": DMZ.read_text().replace("port: 5481", "port: 5482\nprevious_port: 5481"),
             "step3": DMZ.read_text().replace("port: 5481", "port: 5482")}
    paths = {}
    for name, text in texts.items():
        paths[name] = tmp_path / f"{name}.yaml"
        paths[name].write_text(text)
    direct = run_cli("diff", paths["before"], paths["direct"]).out
    assert direct.startswith("! port: 5481 -> 5482 in one step cuts every partner off")
    assert "(1) set `port: 5482` and `previous_port: 5481`" in direct
    step1 = run_cli("diff", paths["before"], paths["step1"]).out
    assert step1.startswith("port: step 1 of 3: TCP 5482 opens beside 5481")
    # AWS: a rule per port, four flows each way; Azure: the same rules, both ports in each
    assert "aws: 8 to add, 0 to change, 0 to replace, 0 to destroy, 0 to move" in step1
    assert "azure: 0 to add, 14 to change, 0 to replace, 0 to destroy" in step1
    step3 = run_cli("diff", paths["step1"], paths["step3"]).out
    assert step3.startswith("port: step 3 of 3: TCP 5481 closes")
    assert "aws: 0 to add, 0 to change, 0 to replace, 8 to destroy, 0 to move" in step3
    assert "azure: 0 to add, 14 to change, 0 to replace, 0 to destroy" in step3
