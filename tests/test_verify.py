"""`scadafw verify`: it passes on correct modules, and it fails, naming the pair, on every
kind of wrong module: the mutation tests below edit emitted HCL the way a person might."""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings

from tests.conftest import EXAMPLES, ROOT, resources, run_cli
from tests.domain import DMZ
from tests.judged import differences, reaches, verified
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


def findings(modules: Path, target: str, code: str = "") -> list[dict[str, Any]]:
    """The findings of one module of the dmz example, from the JSON report."""
    status, out, err = verify(modules, "--format", "json")
    assert status in (0, 1), err
    (result,) = [r for r in json.loads(out)["results"] if r["target"] == target]
    return [f for f in result["findings"] if not f["note"] and code in ("", f["code"])]


def test_every_example_verifies() -> None:
    result = run_cli("verify", *EXAMPLES, "--format", "json")
    assert result.code == 0, result.err
    report = json.loads(result.out)
    assert report["ok"] is True
    assert {(r["system"], r["target"]) for r in report["results"]} == {
        (s, t) for s in ("plant-north", "pump-station", "grid-control", "water-west")
        for t in ("aws", "azure")} | {
        ("river-east", "dmz-vpc"), ("river-east", "dr-vnet"), ("river-east", "windows"),
        ("river-east", "plant"), ("lake-shore", "north"), ("lake-shore", "south"),
        ("lake-shore", "dmz-vpc"),
        ("harbour", "control-vpc"), ("harbour", "dmz-vpc")}
    assert all(r["classes"] > 0 and not [f for f in r["findings"] if not f["note"]]
               for r in report["results"])


def test_removing_the_azure_denies_lets_the_dmz_standby_reach_the_main(modules: Path) -> None:
    tf = modules / "plant-north" / "azure" / "main.tf"
    for name in list(resources(tf)["azurerm_network_security_rule"]):
        if "_deny_" in name:
            remove_resource(tf, "azurerm_network_security_rule", name)
    found = findings(modules, "azure", "forbidden")
    into_main = [f for f in found if f["place"] == "scada-a:10.10.1.10 inbound TCP 5481"]
    assert into_main, found
    assert "scada-dmz 10.30.1.10/32" in into_main[0]["message"]
    assert "AllowVNetInBound" in into_main[0]["message"]
    # and anyone else in the virtual network, not only the parties the topology names
    assert "anyone else" in into_main[0]["message"]


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
    code, _, err = verify(modules)
    assert code == 1
    assert "plant-north/aws" in err
    found = findings(modules, "aws", "forbidden")
    assert {f["place"] for f in found} == {"scada-a:10.10.1.10 inbound TCP 5481",
                                           "scada-b:10.10.2.10 inbound TCP 5481",
                                           "scada-dmz:10.30.1.10 outbound TCP 5481"}
    inbound = [f for f in found if "inbound" in f["place"]]
    assert all(f["message"].startswith("scada-dmz 10.30.1.10/32 reaches") and
               "aws_vpc_security_group_ingress_rule.redundant_from_dmz" in f["message"]
               for f in inbound)
    (out,) = [f for f in found if "outbound" in f["place"]]
    assert "aws_vpc_security_group_egress_rule.dmz_back_to_redundant" in out["message"]
    assert "scada-a 10.10.1.10/32; scada-b 10.10.2.10/32" in out["message"]


def edit_resource(tf: Path, rtype: str, name: str, old: str, new: str) -> None:
    """Replace `old` by `new` inside one resource block, as a hand edit would."""
    text = tf.read_text()
    block = re.search(rf'resource "{rtype}" "{name}" \{{.*?\n\}}', text, re.DOTALL)
    assert block, f"{rtype}.{name} not found"
    assert old in block.group(0)
    tf.write_text(text.replace(block.group(0), block.group(0).replace(old, new)))


def test_a_changed_port_is_caught(modules: Path) -> None:
    edit_resource(modules / "plant-north" / "aws" / "main.tf",
                  "aws_vpc_security_group_ingress_rule",
                  "permanent_standby_from_redundant_tcp_5481",
                  "5481", "5482")
    found = findings(modules, "aws")
    assert [(f["code"], f["place"]) for f in found] == [
        ("missing", "scada-dr:10.20.1.10 inbound TCP 5481")]
    assert found[0]["message"].startswith(
        "scada-a 10.10.1.10/32; scada-b 10.10.2.10/32 cannot reach scada-dr:10.20.1.10 on "
        "TCP 5481: no rule of the groups on")
    # 5482 is no port the system uses: what the edited rule opens there is out of scope


def test_a_changed_azure_port_is_caught(modules: Path) -> None:
    edit_resource(modules / "plant-north" / "azure" / "main.tf",
                  "azurerm_network_security_rule", "dmz_permanent_standby_in_from_redundant_tcp",
                  '"5481"', '"5482"')
    found = findings(modules, "azure")
    assert [(f["code"], f["place"]) for f in found] == [
        ("missing", "scada-dmz:10.30.1.10 inbound TCP 5481")]
    assert "scada-a 10.10.1.10/32; scada-b 10.10.2.10/32 cannot reach" in found[0]["message"]
    assert "dmz_permanent_standby_in_deny_tcp (Deny, 4010)" in found[0]["message"]


def test_a_deleted_egress_rule_is_caught(modules: Path) -> None:
    remove_resource(modules / "plant-north" / "aws" / "main.tf",
                    "aws_vpc_security_group_egress_rule", "permanent_standby_to_redundant_icmp")
    found = findings(modules, "aws")
    assert [(f["code"], f["place"]) for f in found] == [
        ("missing", "scada-dr:10.20.1.10 outbound ICMP echo request")]
    assert found[0]["message"].startswith("scada-dr:10.20.1.10 cannot reach scada-a "
                                          "10.10.1.10/32; scada-b 10.10.2.10/32 on ICMP")


def test_an_unattached_server_is_judged_with_the_default_group(modules: Path) -> None:
    outputs = modules / "plant-north" / "aws" / "outputs.tf"
    text = outputs.read_text()
    line = '    "scada-dr"  = [aws_security_group.permanent_standby.id]\n'
    assert line in text
    outputs.write_text(text.replace(line, ""))
    found = findings(modules, "aws")
    missing = {f["place"] for f in found if f["code"] == "missing"}
    assert "scada-dr:10.20.1.10 inbound TCP 5481" in missing
    # the default group lets everything out: scada-dr now reaches the DMZ standby
    forbidden = [f for f in found if f["code"] == "forbidden"]
    assert any(f["place"] == "scada-dr:10.20.1.10 outbound TCP 5481"
               and "scada-dmz 10.30.1.10/32" in f["message"] for f in forbidden)


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
def test_random_topologies_generate_modules_that_verify(doc: dict[str, Any],
                                                        tmp_path_factory: pytest.TempPathFactory
                                                        ) -> None:
    folder = tmp_path_factory.mktemp("prop")
    path = _write(doc, folder)
    assert run_cli("generate", path, "--out", folder / "modules").code == 0
    reports = verified(path, folder / "modules")
    assert all(r.ok for r in reports), [str(f) for r in reports for f in r.failures]
    port = doc.get("port", 5481)
    for report in reports:  # and against the test's own transcription of docs/geo-scada.md
        exact = (lambda _: True) if report.target == "aws" else (
            lambda j: j.query.protocol != "tcp" or j.query.ports == (port, port))
        assert differences([report], doc, exact) == []
    roles = {s["name"]: s["role"] for s in doc["servers"]}
    for dmz in (n for n, r in roles.items() if r == DMZ):
        assert not any(reaches(reports, dmz, other, "tcp", port) for other in roles)


def test_verify_reads_the_files_not_the_generator(modules: Path,
                                                  write_topology: Callable[..., Path]) -> None:
    """A module generated for another topology fails: verify judges what is on disk."""
    other = write_topology(DMZ_EXAMPLE.read_text().replace(
        "role: dmz_permanent_standby", "role: permanent_standby"), "dmz.yaml")
    assert run_cli("generate", other, "--out", modules).code == 0
    (report,) = [r for r in verified(DMZ_EXAMPLE, modules) if r.target == "aws"]
    assert not report.ok
    assert reaches([report], "scada-dmz", "scada-a", "tcp", 5481)
