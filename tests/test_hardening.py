"""Modules that survive a real account: one attachment pattern, Azure's existing NSGs, names
that never force a replacement, renames as moves, links keyed by name, outputs callers need,
and a `check` that tells stale from edited. (The real-Terraform proofs of the same points are in
test_terraform.py and test_review.py.)"""

from __future__ import annotations

import ipaddress
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from generator.judge.addresses import PRIVATE, AddressSet
from generator.judge.azure import azure_sides
from generator.judge.gates import run
from generator.judge.rules import Query
from generator.judge.sides import Link
from generator.sources.azure_module import build_nsgs
from generator.sources.hcl_module import read_module
from generator.topology import load_topology
from tests.conftest import EXAMPLES, ROOT, TERRAFORM_MODULES, parse_hcl, resources, run_cli
from tests.judged import decide_pair

DMZ = ROOT / "examples" / "dmz.yaml"


def _generate(tmp_path: Path, text: str, name: str = "t.yaml") -> Path:
    topology = tmp_path / name
    topology.write_text(text)
    result = run_cli("generate", topology, "--out", tmp_path / "modules")
    assert result.code == 0, result.err
    return tmp_path / "modules"


def _with(base: str, **top: object) -> str:
    doc = yaml.safe_load(base)
    doc.update(top)
    return yaml.safe_dump(doc, sort_keys=False)


# One AWS attachment pattern that never fights


def test_aws_modules_attach_nothing_and_the_examples_list_groups_in_the_owner() -> None:
    for tf in (ROOT / "modules").glob("*/*/main.tf"):
        assert "aws_network_interface_sg_attachment" not in tf.read_text(), tf
    roots = sorted(p for p in (ROOT / "examples").glob("*/*/main.tf")
                   if "hashicorp/aws" in p.read_text())
    assert len(roots) == 8
    for root in roots:
        found = resources(root)
        assert "aws_network_interface_sg_attachment" not in found, root
        (link,) = found["aws_network_interface"].values()
        assert "security_group_ids_by_server" in link["security_groups"]
        assert link["private_ips"] == ["${each.key}"]  # keyed by address, not list position


def test_example_roots_share_one_body() -> None:
    """The eight AWS roots differ only in their comment and the module they call."""
    bodies = set()
    for root in (ROOT / "examples").glob("*/*/main.tf"):
        text = root.read_text()
        if "hashicorp/aws" in text:
            body = re.sub(r'source = "[^"]+"', "", text.split("terraform {", 1)[1])
            bodies.add(body)
    assert len(bodies) == 1


def test_aws_rules_take_the_tags() -> None:
    main = resources(ROOT / "modules" / "plant-north" / "aws" / "main.tf")
    for rtype in ("aws_vpc_security_group_ingress_rule", "aws_vpc_security_group_egress_rule"):
        for name, attrs in main[rtype].items():
            assert "var.tags" in attrs["tags"], name
            assert '"scadafw:system" = "plant-north"' in attrs["tags"], name


# Names and descriptions that never force a replacement


def test_names_come_from_the_prefix_and_descriptions_name_no_system() -> None:
    for folder in TERRAFORM_MODULES:
        main = resources(folder / "main.tf")
        system = folder.parent.name
        for rtype in ("aws_security_group", "azurerm_network_security_group",
                      "azurerm_application_security_group"):
            for name, attrs in main.get(rtype, {}).items():
                given = attrs.get("name_prefix") or attrs["name"]
                assert given.startswith("${var.name_prefix}"), (folder, name)
                assert system not in attrs.get("description", ""), (folder, name)
                assert attrs["lifecycle"][0]["create_before_destroy"] is True


def test_a_system_rename_with_renamed_from_replaces_nothing(tmp_path: Path) -> None:
    base = DMZ.read_text()
    old = tmp_path / "old.yaml"
    old.write_text(base)
    new = tmp_path / "new.yaml"
    new.write_text(_with(base, system="plant-south", renamed_from="plant-north"))
    result = run_cli("diff", old, new, "--format", "json")
    report = json.loads(result.out)
    for cloud in ("aws", "azure"):
        changes = report["resources"][cloud]
        assert changes["replaced"] == {} and changes["removed"] == [], cloud  # noqa: PT018
        # only tags and wording that names the system change, in place
        assert {k for v in changes["changed"].values() for k in v} <= {"tags", "description"}
    # without renamed_from the groups are replaced, and diff says so
    new.write_text(_with(base, system="plant-south"))
    text = run_cli("diff", old, new).out
    assert "-/+ aws_security_group.redundant (replaced: name_prefix changes)" in text
    assert ("-/+ aws_vpc_security_group_ingress_rule.redundant_from_redundant_tcp_5481 (replaced: "
            "security_group_id refers to aws_security_group.redundant, which is replaced)"
            ) in text


# Renames as moves


def test_a_server_rename_emits_moved_blocks_that_diff_follows(tmp_path: Path) -> None:
    base = DMZ.read_text()
    renamed = base.replace("  - name: scada-b\n", "  - name: scada-c\n    renamed_from: scada-b\n")
    modules = _generate(tmp_path, renamed)
    moved = parse_hcl(modules / "plant-north" / "azure" / "renames.tf")["moved"]
    main = resources(modules / "plant-north" / "azure" / "main.tf")
    pairs = {(m["from"], m["to"]) for m in moved}
    for rtype in ("azurerm_network_interface_security_group_association",
                  "azurerm_network_interface_application_security_group_association"):
        assert (f"${{{rtype}.scada_b}}", f"${{{rtype}.scada_c}}") in pairs
        assert "scada_c" in main[rtype]
    # on AWS nothing is named after a server: its moves are only the port-named rules'
    aws_moves = parse_hcl(modules / "plant-north" / "aws" / "renames.tf")["moved"]
    assert not [m for m in aws_moves if "scada" in str(m)]
    old = tmp_path / "old.yaml"
    old.write_text(base)
    report = json.loads(run_cli("diff", old, tmp_path / "t.yaml", "--format", "json").out)
    azure = report["resources"]["azure"]
    assert azure["added"] == azure["removed"] == []
    assert len(azure["moved"]) == 2


@pytest.mark.parametrize(("renamed", "message"), [
    ("    renamed_from: scada-a\n", "is the name of another server"),
    ("    renamed_from: scada-b\n", "is renamed from its own name"),
    ("    renamed_from: Old\n", "renamed_from 'Old' must match"),
])
def test_bad_renames_are_refused_with_the_line(tmp_path: Path, renamed: str,
                                               message: str) -> None:
    text = DMZ.read_text().replace("  - name: scada-b\n", "  - name: scada-b\n" + renamed)
    topology = tmp_path / "t.yaml"
    topology.write_text(text)
    result = run_cli("generate", topology, "--out", tmp_path / "out")
    assert result.code == 2
    line = text.splitlines().index(renamed.rstrip("\n")) + 1
    assert f"{topology}:{line}:" in result.err
    assert message in result.err
    assert not (tmp_path / "out").exists()


# Azure: links keyed by name; outputs; mode "existing"


def test_azure_associations_are_keyed_by_link_name() -> None:
    main = resources(ROOT / "modules" / "plant-north" / "azure" / "main.tf")
    for rtype in ("azurerm_network_interface_security_group_association",
                  "azurerm_network_interface_application_security_group_association"):
        for name, attrs in main[rtype].items():
            assert attrs["for_each"].startswith("${lookup(var.network_interface_ids, "), name
    variables = parse_hcl(ROOT / "modules" / "plant-north" / "azure" / "variables.tf")
    types = {k: v["type"] for block in variables["variable"] for k, v in block.items()}
    assert types["network_interface_ids"] == "${map(map(string))}"


def test_azure_outputs_give_names_port_and_free_priorities_that_hold_no_rule() -> None:
    for folder in TERRAFORM_MODULES:
        outputs = {k: v for block in parse_hcl(folder / "outputs.tf")["output"]
                   for k, v in block.items()}
        assert outputs["server_port"]["value"] == load_port(folder)
        if "azurerm" not in (folder / "main.tf").read_text():
            continue
        assert "network_security_group_names" in outputs
        free = [(r["first"], r["last"]) for r in outputs["free_priority_ranges"]["value"]]
        assert free
        assert all(100 <= a <= b <= 4096 for a, b in free)
        priorities = [a["priority"] for a in resources(folder / "main.tf")[
            "azurerm_network_security_rule"].values()]
        assert not [p for p in priorities for a, b in free if a <= p <= b], folder


def load_port(folder: Path) -> int:
    system = folder.parent.name
    example = next(e for e in EXAMPLES if load_topology(e).name == system)
    return load_topology(example).port


EXISTING = """version: 1
system: plant-ex
targets: [azure]
azure: {nsgs: existing, priority_offset: -500}
servers:
  - {name: scada-a, role: main, addresses: [10.10.1.10]}
  - {name: scada-b, role: standby, addresses: [10.10.2.10]}
  - {name: scada-dr, role: permanent_standby, addresses: [10.20.1.10]}
  - {name: scada-dmz, role: dmz_permanent_standby, addresses: [10.30.1.10]}
"""


def test_existing_mode_writes_into_the_callers_nsgs_and_verifies(tmp_path: Path) -> None:
    modules = _generate(tmp_path, EXISTING)
    folder = modules / "plant-ex" / "azure"
    main = resources(folder / "main.tf")
    assert "azurerm_network_security_group" not in main
    assert "azurerm_network_interface_security_group_association" not in main
    rules = main["azurerm_network_security_rule"]
    assert all(r["network_security_group_name"].startswith(
        "${var.network_security_group_names[") for r in rules.values())
    assert all(r["name"].startswith("scadafw-") for r in rules.values())
    assert {r["priority"] for r in rules.values()} == {
        p - 500 for p in (1111, 1112, 1121, 1122, 1131, 1132, 1211, 1212, 4010, 4020)}
    result = run_cli("verify", tmp_path / "t.yaml", "--modules", modules)
    assert result.code == 0, result.out


def test_existing_mode_denies_touch_nothing_else_behind_the_nsg(tmp_path: Path) -> None:
    """The caller's NSG may stand on a subnet holding other machines: scadafw's denies name its
    ASGs, so a machine behind the same NSG outside them keeps Azure's defaults."""
    modules = _generate(tmp_path, EXISTING)
    system = load_topology(tmp_path / "t.yaml")
    state = build_nsgs(read_module(modules / "plant-ex" / "azure"), system)
    state.nic_nsgs["historian"] = list(state.nic_nsgs["scada-a"])  # behind the same NSG
    links = {s.name: Link(s.name, s.addresses[0]) for s in system.servers}
    links["historian"] = Link("historian", ipaddress.ip_address("10.10.1.50"))
    sides, _ = azure_sides(state, [(k, AddressSet.of(k.address)) for k in links.values()],
                           PRIVATE)
    for query in (Query("tcp", (5481, 5481), (49152, 65535)), Query("icmp", (8, 8), (0, 0))):
        # the servers still refuse the neighbour, and the DMZ standby still reaches nothing
        assert decide_pair(sides, links["historian"], links["scada-b"], query)[0] is False
        assert decide_pair(sides, links["scada-dmz"], links["scada-a"], query)[0] is False
        # the neighbour itself keeps Azure's defaults both ways: scadafw's denies name its ASGs
        for inbound in (True, False):
            side = next(x for x in sides if x.link.server == "historian" and x.inbound is inbound)
            parts = run(side.gates, query, PRIVATE)
            assert all(p.allowed for p in parts), [p.because for p in parts]


@pytest.mark.parametrize(("azure", "message"), [
    ("{nsgs: reuse}", "azure.nsgs must be one of: create, existing"),
    ("{priority_offset: 100}", "azure.priority_offset must be a whole number from -1000 to 50"),
    ("{priority_offset: -1001}", "from -1000 to 50"),
    ("{nsg: existing}", "unknown key 'nsg' in azure (did you mean 'nsgs'?)"),
])
def test_bad_azure_options_are_refused(tmp_path: Path, azure: str, message: str) -> None:
    topology = tmp_path / "t.yaml"
    topology.write_text(EXISTING.replace("azure: {nsgs: existing, priority_offset: -500}",
                                         f"azure: {azure}"))
    result = run_cli("generate", topology, "--out", tmp_path / "out")
    assert result.code == 2
    assert f"{topology}:4:" in result.err
    assert message in result.err


# generate and check


def test_check_tells_stale_from_edited_and_ignores_what_is_not_the_modules(
        tmp_path: Path) -> None:
    modules = _generate(tmp_path, DMZ.read_text(), "dmz.yaml")
    folder = modules / "plant-north" / "aws"
    (folder / ".terraform" / "providers").mkdir(parents=True)
    (folder / ".terraform.lock.hcl").write_text("# lock\n")
    (folder / "moved.tf").write_text("moved {\n  from = a.b\n  to   = a.c\n}\n")
    renamed = tmp_path / "north.yaml"  # the same topology under another file name
    shutil.copy(tmp_path / "dmz.yaml", renamed)
    assert run_cli("check", renamed, "--modules", modules).code == 0
    # stale: written by scadafw from an older topology (its seal is intact)
    changed = tmp_path / "changed" / "dmz.yaml"
    changed.parent.mkdir()
    changed.write_text(DMZ.read_text().replace("port: 5481", "port: 5482"))
    result = run_cli("check", changed, "--modules", modules)
    assert result.code == 1
    assert f"{folder / 'main.tf'}: stale: written by scadafw from dmz.yaml" in result.out
    # edited by hand: the seal no longer matches
    main = folder / "main.tf"
    main.write_text(main.read_text().replace("5481", "5480", 1))
    result = run_cli("check", renamed, "--modules", modules)
    assert result.out.splitlines() == [f"{main}: edited by hand (it no longer matches the seal "
                                       "in its header); regenerate"]


def test_check_names_module_folders_no_topology_produces(tmp_path: Path) -> None:
    modules = _generate(tmp_path, DMZ.read_text(), "dmz.yaml")
    only_aws = tmp_path / "aws-only" / "dmz.yaml"
    only_aws.parent.mkdir()
    only_aws.write_text(DMZ.read_text().replace("targets: [aws, azure]", "targets: [aws]"))
    result = run_cli("check", only_aws, "--modules", modules)
    assert result.code == 1
    assert result.out.splitlines() == [
        f"{modules / 'plant-north' / 'azure'}: stale module folder: no topology given produces "
        "it (a system, target or network removed); delete it"]


def test_the_pre_commit_hook_works_with_its_default_arguments(tmp_path: Path) -> None:
    (hook,) = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    (tmp_path / "topologies").mkdir()
    shutil.copy(DMZ, tmp_path / "topologies" / "dmz.yaml")
    generated = run_cli("generate", tmp_path / "topologies", "--out", tmp_path / "modules")
    assert generated.code == 0, generated.err
    command = [sys.executable, "-m", "generator", *hook["entry"].split()[1:], *hook["args"]]
    ran = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, check=False,
                         env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})
    assert (ran.returncode, ran.stdout, ran.stderr) == (0, "", "")
    (tmp_path / "modules" / "plant-north" / "aws" / "main.tf").write_text("# gone\n")
    ran = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, check=False,
                         env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})
    assert ran.returncode == 1


# The project's own docs


def test_docs_are_in_the_repository_and_nothing_points_outside_it() -> None:
    assert (ROOT / "docs" / "geo-scada.md").is_file()
    assert (ROOT / "docs" / "design.md").is_file()
    readmes = [ROOT / "README.md", *(ROOT / "modules").glob("*/*/README.md"),
               *(ROOT / "docs").glob("*.md")]
    for readme in readmes:
        text = readme.read_text()
        for outside in ("DOMAIN", "DESIGN", "STYLE"):  # the team's notes, not in a user's clone
            assert f"{outside}.md" not in text, readme
        for link in re.findall(r"\]\(([^)#]+)\)", text):
            if not link.startswith("http"):
                assert (readme.parent / link).exists(), (readme, link)


def test_readme_maps_examples_to_modules_and_its_ci_is_for_any_topology() -> None:
    text = (ROOT / "README.md").read_text()
    assert "`examples/dmz/aws/` calls `modules/plant-north/aws/`" in text
    assert "|| true" not in text
    ci = text[text.index("A CI job (GitHub Actions shown)"):text.index("## Reviewing a plan")]
    assert "topologies/*.yaml" in ci
    assert "plant-north" not in ci
    assert "<!-- scadafw diff -->" in ci
    assert "PATCH" in ci


def test_examples_hold_what_each_table_row_says() -> None:
    table = (ROOT / "README.md").read_text().split("| example | modules | system |")[1]
    rows = re.findall(r"\| `examples/([a-z-]+)\.yaml` \| `modules/([a-z-]+)/", table)
    assert len(rows) == len(EXAMPLES)
    for example, modules in rows:
        assert load_topology(ROOT / "examples" / f"{example}.yaml").name == modules
