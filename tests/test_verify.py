"""`scadafw verify`: it passes on correct modules, and it fails, naming the pair, on every
kind of wrong module: the mutation tests below edit emitted HCL the way a person might."""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings

from generator.model import Target
from generator.topology import load_topology
from generator.verify.report import verify_target
from tests.conftest import EXAMPLES, ROOT, resources, run_cli
from tests.domain import DMZ, domain_allows
from tests.strategies import topologies

DMZ_EXAMPLE = ROOT / "examples" / "dmz.yaml"


@pytest.fixture
def modules(tmp_path: Path) -> Path:
    """A copy of the committed modules, free to be edited."""
    copy = tmp_path / "modules"
    shutil.copytree(ROOT / "modules", copy)
    return copy


def remove_resource(tf: Path, rtype: str, name: str) -> None:
    text = tf.read_text()
    pattern = re.compile(rf'\nresource "{rtype}" "{name}" {{\n.*?\n}}\n', re.DOTALL)
    new, count = pattern.subn("\n", text)
    assert count == 1, f"{rtype}.{name} not found"
    tf.write_text(new)


def verify(modules: Path, *extra: str) -> tuple[int, str, str]:
    result = run_cli("verify", DMZ_EXAMPLE, "--modules", modules, *extra)
    return result.code, result.out, result.err


def mismatches(out: str) -> list[str]:
    return [line for line in out.splitlines() if line.strip().startswith("MISMATCH")]


def test_every_example_verifies() -> None:
    result = run_cli("verify", *EXAMPLES, "--format", "json")
    assert result.code == 0, result.err
    report = json.loads(result.out)
    assert report["ok"] is True
    assert {(r["system"], r["target"]) for r in report["results"]} == {
        (s, t) for s in ("plant-north", "pump-station", "grid-control", "water-west")
        for t in ("aws", "azure")} | {
        ("river-east", "dmz-vpc"), ("river-east", "dr-vnet"), ("river-east", "whole system"),
        ("harbour", "control-vpc"), ("harbour", "dmz-vpc"), ("harbour", "whole system")}
    assert all(r["mismatches"] == 0 and r["checks"] > 0 for r in report["results"])


def test_removing_the_azure_denies_lets_the_dmz_standby_reach_the_main(modules: Path) -> None:
    tf = modules / "plant-north" / "azure" / "main.tf"
    for name in list(resources(tf)["azurerm_network_security_rule"]):
        if "_deny_" in name:
            remove_resource(tf, "azurerm_network_security_rule", name)
    code, out, _ = verify(modules)
    assert code == 1
    wrong = mismatches(out)
    dmz_to_main = [w for w in wrong if "scada-dmz -> scada-a " in w and "TCP 5481" in w]
    assert dmz_to_main, out
    assert "AllowVNetInBound" in dmz_to_main[0]
    assert "expected deny  actual allow" in dmz_to_main[0]


def test_a_reverse_dmz_rule_is_caught_and_named(modules: Path) -> None:
    tf = modules / "plant-north" / "aws" / "main.tf"
    tf.write_text(tf.read_text() + '''
resource "aws_vpc_security_group_egress_rule" "dmz_back_to_redundant" {
  security_group_id            = aws_security_group.dmz_permanent_standby.id
  referenced_security_group_id = aws_security_group.redundant.id
  ip_protocol                  = "tcp"
  from_port                    = 5481
  to_port                      = 5481
}

resource "aws_vpc_security_group_ingress_rule" "redundant_from_dmz" {
  security_group_id            = aws_security_group.redundant.id
  referenced_security_group_id = aws_security_group.dmz_permanent_standby.id
  ip_protocol                  = "tcp"
  from_port                    = 5481
  to_port                      = 5481
}
''')
    code, out, err = verify(modules)
    assert code == 1
    assert "plant-north/aws" in err
    wrong = mismatches(out)
    assert {w.split()[1] + w.split()[3] for w in wrong} == {"scada-dmzscada-a",
                                                            "scada-dmzscada-b"}
    assert all("aws_vpc_security_group_egress_rule.dmz_back_to_redundant" in w and
               "aws_vpc_security_group_ingress_rule.redundant_from_dmz" in w for w in wrong)


def edit_resource(tf: Path, rtype: str, name: str, old: str, new: str) -> None:
    """Replace `old` by `new` inside one resource block, as a hand edit would."""
    text = tf.read_text()
    block = re.search(rf'resource "{rtype}" "{name}" \{{.*?\n\}}', text, re.DOTALL)
    assert block, f"{rtype}.{name} not found"
    assert old in block.group(0)
    tf.write_text(text.replace(block.group(0), block.group(0).replace(old, new)))


def test_a_changed_port_is_caught(modules: Path) -> None:
    edit_resource(modules / "plant-north" / "aws" / "main.tf",
                  "aws_vpc_security_group_ingress_rule", "permanent_standby_from_redundant_tcp",
                  "5481", "5482")
    code, out, _ = verify(modules)
    assert code == 1
    wrong = mismatches(out)
    assert len(wrong) == 2  # scada-a and scada-b can no longer reach scada-dr on TCP
    assert all(" -> scada-dr " in w and "expected allow actual deny" in w for w in wrong)
    assert all("aws_vpc_security_group_ingress_rule.permanent_standby_from_redundant_tcp" in w
               for w in wrong)


def test_a_changed_azure_port_is_caught(modules: Path) -> None:
    edit_resource(modules / "plant-north" / "azure" / "main.tf",
                  "azurerm_network_security_rule", "dmz_permanent_standby_in_from_redundant_tcp",
                  '"5481"', '"5482"')
    code, out, _ = verify(modules)
    assert code == 1
    wrong = mismatches(out)
    assert {w.split()[1] for w in wrong} == {"scada-a", "scada-b"}
    assert all("-> scada-dmz" in w for w in wrong)
    assert all("dmz_permanent_standby_in_deny_tcp (Deny, 4010)" in w for w in wrong)


def test_a_deleted_egress_rule_is_caught(modules: Path) -> None:
    remove_resource(modules / "plant-north" / "aws" / "main.tf",
                    "aws_vpc_security_group_egress_rule", "permanent_standby_to_redundant_icmp")
    code, out, _ = verify(modules, "--format", "json")
    assert code == 1
    report = json.loads(out)
    aws = next(r for r in report["results"] if r["target"] == "aws")
    wrong = [f for f in aws["flows"] if not f["ok"]]
    assert {(f["source"], f["destination"], f["service"]) for f in wrong} == {
        ("scada-dr", "scada-a", "ICMP echo request"), ("scada-dr", "scada-b", "ICMP echo request")}
    assert all("no egress rule on scada-dr's groups" in f["because"] for f in wrong)
    assert all("aws_vpc_security_group_egress_rule.permanent_standby_to_redundant_icmp"
               in f["because"] for f in wrong)


def test_an_unattached_server_is_judged_with_the_default_group(modules: Path) -> None:
    outputs = modules / "plant-north" / "aws" / "outputs.tf"
    text = outputs.read_text()
    line = '    "scada-dr"  = [aws_security_group.permanent_standby.id]\n'
    assert line in text
    outputs.write_text(text.replace(line, ""))
    code, out, _ = verify(modules)
    assert code == 1
    assert any("scada-a -> scada-dr" in w for w in mismatches(out))


def test_a_module_that_does_not_parse_is_a_clear_error(modules: Path) -> None:
    (modules / "plant-north" / "aws" / "main.tf").write_text('resource "x" {\n')
    code, _, err = verify(modules)
    assert code == 2
    assert "not valid HCL" in err
    assert "Traceback" not in err


def _write(doc: dict[str, object], folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "topology.yaml"
    path.write_text(yaml.safe_dump(doc))
    return path


@settings(max_examples=12, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(doc=topologies())
def test_random_topologies_generate_modules_that_verify(doc: dict[str, object],
                                                        tmp_path_factory: pytest.TempPathFactory
                                                        ) -> None:
    folder = tmp_path_factory.mktemp("prop")
    path = _write(doc, folder)
    assert run_cli("generate", path, "--out", folder / "modules").code == 0
    system = load_topology(path)
    roles = {s.name: s.role.value for s in system.servers}
    for target in system.targets:
        report = verify_target(system, target, folder / "modules")
        assert report.ok, [c for c in report.checks if not c.ok] + report.problems
        for check in report.checks:  # and against the test's own transcription of DOMAIN.md
            assert check.actual == domain_allows(roles[check.source], roles[check.destination])
            if roles[check.source] == DMZ:
                assert not check.actual


def test_verify_reads_the_files_not_the_generator(modules: Path,
                                                  write_topology: Callable[..., Path]) -> None:
    """A module generated for another topology fails: verify judges what is on disk."""
    other = write_topology(DMZ_EXAMPLE.read_text().replace(
        "role: dmz_permanent_standby", "role: permanent_standby"), "dmz.yaml")
    assert run_cli("generate", other, "--out", modules).code == 0
    report = verify_target(load_topology(DMZ_EXAMPLE), Target.AWS, modules)
    assert not report.ok
    assert any(c.source == "scada-dmz" and c.actual for c in report.checks)
