"""flows, diff, check and schema: what a reviewer reads and what a pipeline gates on."""

from __future__ import annotations

import csv
import io
import json
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import jsonschema
import pytest
import yaml

from generator.commands.schema import topology_schema
from tests.conftest import EXAMPLES, ROOT, run_cli, topology_text
from tests.domain import domain_allows

DMZ_EXAMPLE = ROOT / "examples" / "dmz.yaml"
PAIR = [("scada-a", "main"), ("scada-b", "standby")]


def test_flows_csv_is_the_domain_matrix_server_by_server() -> None:
    result = run_cli("flows", DMZ_EXAMPLE, "--format", "csv")
    assert result.code == 0
    rows = list(csv.DictReader(io.StringIO(result.out)))
    roles = {s["name"]: s["role"] for s in yaml.safe_load(DMZ_EXAMPLE.read_text())["servers"]}
    expected = {(a, b, p) for a in roles for b in roles if a != b
                and domain_allows(roles[a], roles[b]) for p in ("tcp", "icmp")}
    assert {(r["source"], r["destination"], r["protocol"]) for r in rows} == expected
    assert {r["port"] for r in rows if r["protocol"] == "tcp"} == {"5481"}
    assert all(r["purpose"] and r["system"] == "plant-north" for r in rows)
    assert rows[0]["source_addresses"] == "10.10.1.10"


def test_flows_table_and_markdown() -> None:
    table = run_cli("flows", DMZ_EXAMPLE).out
    assert table.startswith("plant-north: 16 flows\n")
    assert "scada-dmz  " not in [line[:11] for line in table.splitlines()]  # never a source
    markdown = run_cli("flows", DMZ_EXAMPLE, "--format", "markdown").out
    assert markdown.count("\n| scada-") == 16
    assert "| scada-a (10.10.1.10) | scada-dmz (10.30.1.10) | tcp | 5481 |" in markdown


def test_flows_json_reports_quota_headroom() -> None:
    report = json.loads(run_cli("flows", DMZ_EXAMPLE, "--format", "json").out)
    assert len(report["flows"]) == 16
    quotas = {q["scope"]: q for q in report["quotas"]}
    redundant_in = quotas["security group plant-north-redundant ingress rules (IPv4 and IPv6 each)"]
    assert (redundant_in["used"], redundant_in["limit"], redundant_in["headroom"]) == (4, 60, 56)
    assert quotas["NSG plant-north-dmz-permanent-standby-nsg rules"]["used"] == 6
    assert redundant_in["module"] == "aws"
    assert report["azure_priorities"]["plant-north-redundant-nsg"][0] == 1111


def test_flows_diagrams() -> None:
    mermaid = run_cli("flows", DMZ_EXAMPLE, "--format", "mermaid").out
    assert mermaid.startswith("flowchart LR\n")
    assert "scada_dmz --" not in mermaid  # the DMZ standby has no outgoing edge
    assert 'scada_a -- "TCP 5481, ICMP echo request" --> scada_dmz' in mermaid
    dot = run_cli("flows", DMZ_EXAMPLE, "--format", "dot").out
    assert dot.startswith('digraph "plant-north" {')
    assert dot.count(" -> ") == 5  # a <-> b, a <-> dr, b <-> dr (dir=both); a -> dmz, b -> dmz
    assert dot.count("dir=both") == 3
    assert '"scada-dmz" -> ' not in dot
    if shutil.which("dot"):  # Graphviz, where installed, must render it
        done = subprocess.run(["dot", "-Tsvg"], input=dot, capture_output=True, text=True,
                              check=False)
        assert done.returncode == 0, done.stderr


def test_module_readmes_carry_a_mermaid_diagram() -> None:
    readme = (ROOT / "modules" / "plant-north" / "azure" / "README.md").read_text()
    assert "```mermaid\nflowchart LR\n" in readme
    assert "redundant -- \"TCP 5481, ICMP echo request\" --> dmz_permanent_standby" in readme


def diff(write_topology: Callable[..., Path], old: str, new: str,
         fmt: str = "json") -> tuple[int, dict[str, object] | str]:
    result = run_cli("diff", write_topology(old), write_topology(new), "--format", fmt)
    return result.code, json.loads(result.out) if fmt == "json" else result.out


def test_diff_of_a_port_change(write_topology: Callable[..., Path]) -> None:
    code, report = diff(write_topology, topology_text(servers=PAIR),
                        topology_text(servers=PAIR, port=5500))
    assert code == 1
    assert isinstance(report, dict)
    flows = report["flows"]
    assert {(f["source"], f["destination"], f["port"]) for f in flows["added"]} == {
        ("scada-a", "scada-b", "5500"), ("scada-b", "scada-a", "5500")}
    assert {(f["source"], f["destination"], f["port"]) for f in flows["removed"]} == {
        ("scada-a", "scada-b", "5481"), ("scada-b", "scada-a", "5481")}
    # in one step: the port's rules go and the new port's come (AWS names a rule with its
    # port, so a migration's two ports are two rules), and diff says to take three steps
    aws = report["resources"]["aws"]
    assert aws["changed"] == {}
    assert set(aws["removed"]) == {
        "aws_vpc_security_group_ingress_rule.redundant_from_redundant_tcp_5481",
        "aws_vpc_security_group_egress_rule.redundant_to_redundant_tcp_5481"}
    assert set(aws["added"]) == {
        "aws_vpc_security_group_ingress_rule.redundant_from_redundant_tcp_5500",
        "aws_vpc_security_group_egress_rule.redundant_to_redundant_tcp_5500"}
    (step,) = report["port_steps"]
    assert step.startswith("! port: 5481 -> 5500 in one step")
    assert "`previous_port: 5481`" in step
    azure = report["resources"]["azure"]
    assert set(azure["changed"]) == {f"azurerm_network_security_rule.{n}" for n in (
        "redundant_in_from_redundant_tcp", "redundant_out_to_redundant_tcp",
        "redundant_in_deny_tcp", "redundant_out_deny_tcp")}
    assert azure["changed"]["azurerm_network_security_rule.redundant_in_deny_tcp"][
        "destination_port_range"] == {"old": "5481", "new": "5500"}


def test_diff_of_a_new_permanent_standby(write_topology: Callable[..., Path]) -> None:
    code, report = diff(write_topology, topology_text(servers=PAIR),
                        topology_text(servers=[*PAIR, ("dr", "permanent_standby")]))
    assert code == 1
    assert isinstance(report, dict)
    assert report["flows"]["removed"] == []
    assert len(report["flows"]["added"]) == 8  # a, b -> dr and dr -> a, b; tcp and icmp
    aws = report["resources"]["aws"]
    assert aws["removed"] == []
    assert aws["changed"] == {}  # no existing rule moves: names depend only on what they are
    assert set(aws["added"]) == {
        "aws_security_group.permanent_standby",
        *(f"aws_vpc_security_group_{k}_rule.{n}_{s}" for s in ("tcp_5481", "icmp") for k, n in (
            ("egress", "redundant_to_permanent_standby"),
            ("ingress", "permanent_standby_from_redundant"),
            ("egress", "permanent_standby_to_redundant"),
            ("ingress", "redundant_from_permanent_standby")))}
    azure = report["resources"]["azure"]
    assert len(azure["added"]) == 2 + 8 + 4 + 2  # ASG+NSG, allows, denies, associations
    # no existing rule changes: the outbound denies name anything, not the groups there are
    assert azure["changed"] == {}


def test_diff_of_a_removed_dmz_standby(write_topology: Callable[..., Path]) -> None:
    with_dmz = [*PAIR, ("dmz", "dmz_permanent_standby")]
    code, report = diff(write_topology, topology_text(servers=with_dmz),
                        topology_text(servers=PAIR))
    assert code == 1
    assert isinstance(report, dict)
    assert report["flows"]["added"] == []
    assert {(f["source"], f["destination"]) for f in report["flows"]["removed"]} == {
        ("scada-a", "dmz"), ("scada-b", "dmz")}
    aws = report["resources"]["aws"]
    assert aws["added"] == []
    assert len(aws["removed"]) == 1 + 4  # group, R->D egress and ingress x2 (no attachments:
    # the module attaches nothing)


def test_diff_without_change_exits_0_and_markdown_says_so(
        write_topology: Callable[..., Path]) -> None:
    code, text = diff(write_topology, topology_text(), topology_text(), "markdown")
    assert code == 0
    assert "No change" in str(text)
    code, text = diff(write_topology, topology_text(servers=PAIR),
                      topology_text(servers=PAIR, port=5500), "markdown")
    assert code == 1
    assert "**aws**: 2 to add, 0 to change, 0 to replace, 2 to destroy, 0 to move" in str(text)
    assert "| - | `aws_vpc_security_group_egress_rule.redundant_to_redundant_tcp_5481` |" in str(
        text)
    assert "> :warning: port: 5481 -> 5500 in one step" in str(text)


@pytest.fixture
def modules(tmp_path: Path) -> Path:
    copy = tmp_path / "modules"
    shutil.copytree(ROOT / "modules", copy)
    return copy


def test_check_passes_on_fresh_modules(modules: Path) -> None:
    result = run_cli("check", *EXAMPLES, "--modules", modules)
    assert result.code == 0, result.out + result.err
    assert result.out == ""


def test_check_catches_a_one_byte_edit(modules: Path) -> None:
    tf = modules / "plant-north" / "azure" / "main.tf"
    before = tf.read_bytes()
    tf.write_bytes(before.replace(b"= 4010\n", b"= 4011\n", 1))
    assert tf.read_bytes() != before
    result = run_cli("check", *EXAMPLES, "--modules", modules)
    assert result.code == 1
    assert result.out == (f"{tf}: edited by hand (it no longer matches the seal in its "
                          "header); regenerate\n")


def test_check_lists_missing_and_extra_files(modules: Path) -> None:
    (modules / "pump-station" / "aws" / "outputs.tf").unlink()
    (modules / "pump-station" / "aws" / "override.tf").write_text(
        'resource "aws_vpc_security_group_ingress_rule" "mine" {}\n')
    result = run_cli("check", ROOT / "examples" / "hot-standby.yaml", "--modules", modules)
    assert result.code == 1
    assert "outputs.tf: missing" in result.out
    assert "override.tf: not generated" in result.out


def test_schema_command_equals_the_committed_schema() -> None:
    committed = (ROOT / "schema" / "topology.schema.json").read_text()
    assert run_cli("schema").out == committed
    jsonschema.Draft202012Validator.check_schema(json.loads(committed))


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.stem)
def test_schema_accepts_every_example(example: Path) -> None:
    jsonschema.validate(yaml.safe_load(example.read_text()), topology_schema(),
                        format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)


@pytest.mark.parametrize("change", [
    {"colour": "blue"},
    {"servers": [{"name": "a", "role": "main", "nick": "x"}]},
    {"servers": [{"name": "a", "role": "boss"}]},
    {"servers": [{"name": "a", "role": "main"}, {"name": "b", "role": "main"}]},
    {"servers": [{"name": "a", "role": "standby"}]},
    {"port": 0}, {"port": 65536}, {"port": "5481"}, {"version": 3}, {"system": "Bad"},
    {"clients": [{"name": "c", "sources": ["10.0.0.0/24"], "services": ["viewx"]}]},
    {"version": 2, "clients": [{"name": "c", "sources": ["10.0.0.0/24"],
                                "services": ["opcua"]}]},
    {"version": 2, "outstations": [{"name": "o", "addresses": ["10.0.0.0/24"],
                                    "protocol": "icmp", "ports": [1]}]},
    {"version": 2, "servers": [{"name": "a", "role": "main",
                                "icmp_monitors": [f"10.0.0.{i}" for i in range(7)]}]},
    {"targets": ["gcp"]},
    {"servers": [{"name": "a", "role": "main", "addresses": ["10.0.0.0/8"]}]},
], ids=lambda c: json.dumps(c)[:40])
def test_schema_rejects_what_the_loader_rejects(change: dict[str, object]) -> None:
    """One schema for both versions: version-2 keys only with `version: 2`."""
    doc = {"version": 1, "system": "plant-x", "servers": [{"name": "a", "role": "main"}],
           **change}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(doc, topology_schema(),
                            format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)


def test_pre_commit_hook_runs_check() -> None:
    (hook,) = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    assert hook["id"] == "scadafw-check"
    assert hook["entry"] == "scadafw check"
