"""`scadafw review`: real plans made here by Terraform (against moto), and real plans of other
people's systems (tests/data/plan-samples, sources in SOURCES.md there)."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from netaddr import IPSet

from generator.sources.terraform_apply import Applied
from generator.topology import load_topology
from tests.conftest import ROOT, run_cli
from tests.domain import domain_allows
from tests.terraform_variants import DMZ_EXAMPLE

SAMPLES = sorted((ROOT / "tests" / "data" / "plan-samples").glob("*.json"))


def review(plan: dict[str, Any] | Path, tmp_path: Path, *topologies: Path,
           fmt: str = "json") -> tuple[int, Any]:
    if isinstance(plan, dict):
        path = tmp_path / f"plan-{len(list(tmp_path.glob('plan-*')))}.json"
        path.write_text(json.dumps(plan))
    else:
        path = plan
    result = run_cli("review", path, *(topologies or (DMZ_EXAMPLE,)), "--format", fmt)
    assert "Traceback" not in result.err
    return result.code, (json.loads(result.out) if fmt == "json" and result.out else result)


def findings(report: dict[str, Any]) -> dict[str, Any]:
    (system,) = report["systems"]
    return dict(system)


def test_a_clean_plan_of_the_example_is_clean(apply_example: Callable[..., Applied],
                                              tmp_path: Path) -> None:
    code, report = review(apply_example(DMZ_EXAMPLE).plan, tmp_path)
    found = findings(report)
    assert code == 0, found
    assert (found["forbidden"], found["missing"], found["replaced"]) == ([], [], [])
    assert found["undecided"] == []


def test_a_permissive_group_on_every_link_is_named(
        apply_example: Callable[..., Applied], tmp_path: Path) -> None:
    """The group is listed in the root's interfaces beside the module's output (a list known
    only after apply): the review follows both references."""
    applied = apply_example(DMZ_EXAMPLE, tag="-maintenance")
    code, report = review(applied.plan, tmp_path)
    found = findings(report)
    assert code == 1
    system = load_topology(DMZ_EXAMPLE)
    # every server address now admits its whole VPC on TCP 5481, beyond what the matrix names,
    # one finding per maintenance rule (one per VPC block)
    assert {f["flow"].split(" -> ")[1] for f in found["forbidden"]} == {
        f"{s.name}:{s.addresses[0]} TCP 5481" for s in system.servers}
    assert all("aws_security_group.maintenance" in f["opened_by"] for f in found["forbidden"])
    vpc = IPSet(applied.landscape.cidrs)
    addresses = {s.name: IPSet([str(a) for a in s.addresses]) for s in system.servers}
    roles = {s.name: s.role.value for s in system.servers}
    opened: dict[str, IPSet] = {}
    for f in found["forbidden"]:
        dst = f["flow"].split(" -> ")[1].split(":")[0]
        opened[dst] = opened.get(dst, IPSet()) | IPSet(f["peers"])
    for dst, peers in opened.items():
        named = IPSet([a for s, ips in addresses.items() if s != dst
                       and domain_allows(roles[s], roles[dst]) for a in ips.iter_cidrs()])
        assert peers == vpc - named - addresses[dst], dst
    assert found["missing"] == []


def test_a_root_rule_from_the_dmz_group_is_named(apply_example: Callable[..., Applied],
                                                 tmp_path: Path) -> None:
    code, report = review(apply_example(DMZ_EXAMPLE, tag="-dmzrule").plan, tmp_path)
    found = findings(report)
    assert code == 1
    assert [f["flow"] for f in found["forbidden"]] == [
        "scada-dmz 10.30.1.10/32 -> scada-a:10.10.1.10 TCP 5481",
        "scada-dmz 10.30.1.10/32 -> scada-b:10.10.2.10 TCP 5481"]
    assert all(f["opened_by"].startswith("aws_vpc_security_group_ingress_rule.redundant_from_dmz")
               for f in found["forbidden"])


def test_a_plan_on_applied_state_is_clean_and_changes_no_flow(
        apply_example: Callable[..., Applied], tmp_path: Path) -> None:
    replan = apply_example(DMZ_EXAMPLE).replan
    assert replan is not None and replan.get("prior_state")  # noqa: PT018
    code, report = review(replan, tmp_path)
    found = findings(report)
    assert code == 0
    assert (found["added"], found["removed"]) == ([], [])


@pytest.fixture(scope="module")
def changed_plans(apply_example: Callable[..., Applied], terraform: Any,
                  tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    """Plans on the applied dmz example after a port change and after a server rename."""
    applied = apply_example(DMZ_EXAMPLE)
    tree = applied.root.parent.parent.parent  # holds examples/ and modules/
    base = DMZ_EXAMPLE.read_text()
    variants = {"port": base.replace("port: 5481", "port: 5482"),
                "rename": base.replace("  - name: scada-b\n",
                                       "  - name: scada-c\n    renamed_from: scada-b\n")}
    roots = {}
    for name, text in variants.items():
        copy = tmp_path_factory.mktemp(f"review-{name}")
        shutil.copytree(tree, copy, symlinks=True, dirs_exist_ok=True)
        topology = copy / "topology" / "dmz.yaml"  # same file name: same headers
        topology.parent.mkdir()
        topology.write_text(text)
        assert run_cli("generate", topology, "--out", copy / "modules").code == 0
        root = copy / applied.root.relative_to(tree)
        if name == "rename":  # the caller passes the renamed server's interfaces
            inputs = root / "scadafw.auto.tfvars.json"
            inputs.write_text(inputs.read_text().replace('"scada-b"', '"scada-c"'))
        roots[name] = (root, topology)

    def plan(item: tuple[str, tuple[Path, Path]]) -> tuple[str, dict[str, Any]]:
        name, (root, _) = item
        terraform.plan(root, "change.out")
        return name, terraform.show(root, "change.out")

    with ThreadPoolExecutor(max_workers=2) as pool:
        plans = dict(pool.map(plan, roots.items()))
    return {name: {"plan": plans[name], "topology": roots[name][1]} for name in roots}


def test_a_port_change_loses_every_flow_on_the_old_port(
        changed_plans: dict[str, dict[str, Any]], tmp_path: Path) -> None:
    plan = changed_plans["port"]["plan"]
    code, report = review(plan, tmp_path)  # judged against the topology still on 5481
    found = findings(report)
    assert code == 1
    assert found["forbidden"] == []
    missing = sorted(f["flow"] for f in found["missing"])
    assert missing
    assert all(m.endswith("TCP 5481") for m in missing)
    assert sorted(found["removed"]) == missing  # the prior state had them
    code, report = review(plan, tmp_path, changed_plans["port"]["topology"])
    assert code == 0, findings(report)  # against the new topology, the plan is right


def test_a_server_rename_with_renamed_from_plans_no_destroy(
        changed_plans: dict[str, dict[str, Any]], tmp_path: Path) -> None:
    plan = changed_plans["rename"]["plan"]
    actions = {a for c in plan["resource_changes"] for a in c["change"]["actions"]}
    assert "delete" not in actions, [c["address"] for c in plan["resource_changes"]
                                     if "delete" in c["change"]["actions"]]
    code, report = review(plan, tmp_path, changed_plans["rename"]["topology"])
    found = findings(report)
    assert code == 0, found
    assert found["replaced"] == found["forbidden"] == found["missing"] == []


@pytest.mark.parametrize("sample", SAMPLES, ids=lambda p: p.stem)
def test_public_plans_are_read_without_a_traceback(sample: Path, tmp_path: Path) -> None:
    code, report = review(sample, tmp_path)
    found = findings(report)
    assert code == 1  # none of them holds this system
    assert any(n.startswith("no server of plant-north was found") for n in found["notes"])
    assert any(n.startswith("firewall resources in the plan: ") for n in found["notes"])


def test_public_plan_resources_are_counted() -> None:
    result = run_cli("review", SAMPLES[0].parent / "tfc-012-module-output-sgrule.json",
                     DMZ_EXAMPLE)
    assert "firewall resources in the plan: 3 aws_security_group, 5 aws_security_group_rule" \
        in result.out


@pytest.mark.parametrize(("content", "message"), [
    ("not json", "not JSON"),
    ('{"values": {}}', "no format_version"),
    ('{"format_version": "1.0", "values": {"root_module": {}}}', "not a plan"),
    ('{"format_version": "2.0", "planned_values": {}}', "format_version 2.0 is not supported"),
    ("[1, 2]", "no format_version"),
])
def test_what_is_not_a_plan_exits_2(content: str, message: str, tmp_path: Path) -> None:
    path = tmp_path / "x.json"
    path.write_text(content)
    result = run_cli("review", path, DMZ_EXAMPLE)
    assert result.code == 2
    assert message in result.err
    assert "Traceback" not in result.err


def test_markdown_is_one_marked_comment(apply_example: Callable[..., Applied],
                                        tmp_path: Path) -> None:
    _, result = review(apply_example(DMZ_EXAMPLE, tag="-maintenance").plan, tmp_path,
                       fmt="markdown")
    assert result.out.startswith("<!-- scadafw review -->\n## Geo SCADA firewall review")
    assert "| forbidden, opened | " in result.out
    assert ("| forbidden, opened | scada-dmz 10.30.1.10/32; anyone else: 10.30.0.0/16 but "
            "10.30.1.10/32 -> scada-a:10.10.1.10 TCP 5481 | aws_vpc_security_group_ingress_rule."
            "maintenance_1 in aws_security_group.maintenance") in result.out


# Azure: plans built in the JSON plan's shape (tests/azure_plans.py says how and why)

def _azure_plan(**kwargs: Any) -> dict[str, Any]:
    from generator.topology import load_topology  # noqa: PLC0415
    from tests.azure_plans import plan_for  # noqa: PLC0415

    return plan_for(load_topology(DMZ_EXAMPLE), ROOT / "modules" / "plant-north" / "azure",
                    **kwargs)


def test_azure_plan_of_the_example_is_clean(tmp_path: Path) -> None:
    code, report = review(_azure_plan(), tmp_path)
    (found,) = report["systems"]
    assert found["system"] == "plant-north (azure)"
    assert code == 0, found
    assert found["undecided"] == []


def test_azure_rule_letting_the_dmz_standby_in_is_named(tmp_path: Path) -> None:
    rule = {"address": "azurerm_network_security_rule.vendor", "type":
            "azurerm_network_security_rule", "name": "vendor", "values": {
                "name": "vendor", "priority": 900, "direction": "Inbound", "access": "Allow",
                "protocol": "Tcp", "source_port_range": "*", "destination_port_range": "5481",
                "source_address_prefix": "10.30.1.10", "destination_address_prefix": "*",
                "network_security_group_name": "plant-north-redundant-nsg"}}
    # the DMZ standby's own NSG denies its outbound server port too: a vendor opens both
    out = {"address": "azurerm_network_security_rule.vendor_out", "type":
           "azurerm_network_security_rule", "name": "vendor_out", "values": {
               **rule["values"], "name": "vendor-out", "direction": "Outbound",
               "source_address_prefix": "*", "destination_address_prefix": "10.10.0.0/16",
               "network_security_group_name": "plant-north-dmz-permanent-standby-nsg"}}
    code, report = review(_azure_plan(extra=[out]), tmp_path)
    assert code == 0  # the outbound half alone opens nothing: the redundant NSG still denies
    code, report = review(_azure_plan(extra=[rule, out]), tmp_path)
    (found,) = report["systems"]
    assert code == 1
    assert [f["flow"] for f in found["forbidden"]] == [
        "scada-dmz 10.30.1.10/32 -> scada-a:10.10.1.10 TCP 5481",
        "scada-dmz 10.30.1.10/32 -> scada-b:10.10.2.10 TCP 5481"]
    assert all("azurerm_network_security_rule.vendor (Allow, 900)" in f["opened_by"]
               for f in found["forbidden"])


def test_azure_plan_without_a_rule_lacks_its_flow(tmp_path: Path) -> None:
    code, report = review(_azure_plan(drop=(
        "azurerm_network_security_rule.redundant_in_from_permanent_standby_tcp",)), tmp_path)
    (found,) = report["systems"]
    assert code == 1
    assert [f["flow"] for f in found["missing"]] == [
        "scada-dr 10.20.1.10/32 -> scada-a:10.10.1.10 TCP 5481",
        "scada-dr 10.20.1.10/32 -> scada-b:10.10.2.10 TCP 5481"]


def _admin_rule(action: str, source: str, destination: str, name: str = "maintenance") -> dict[
        str, Any]:
    return {"address": f"azurerm_network_manager_admin_rule.{name}", "type":
            "azurerm_network_manager_admin_rule", "name": name, "values": {
                "name": name, "admin_rule_collection_id": "/subscriptions/0/resourceGroups/net/"
                "providers/Microsoft.Network/networkManagers/nm/securityAdminConfigurations/"
                "plant/ruleCollections/ops", "action": action, "direction": "Inbound",
                "priority": 10, "protocol": "Tcp", "source_port_ranges": [],
                "destination_port_ranges": ["5481"],
                "source": [{"address_prefix": source, "address_prefix_type": "IPPrefix"}],
                "destination": [{"address_prefix": destination,
                                 "address_prefix_type": "IPPrefix"}]}}


def test_an_always_allow_admin_rule_in_an_azure_plan_is_counted_and_named(
        tmp_path: Path) -> None:
    """Virtual Network Manager's AlwaysAllow skips the NSGs: the Main's deny never sees it."""
    code, report = review(_azure_plan(extra=[_admin_rule("AlwaysAllow", "10.30.1.10",
                                                         "10.10.1.10")]), tmp_path)
    (found,) = report["systems"]
    assert code == 1
    assert [f["flow"] for f in found["forbidden"]] == [
        "scada-dmz 10.30.1.10/32 -> scada-a:10.10.1.10 TCP 5481"]
    assert found["forbidden"][0]["opened_by"] == (
        "azurerm_network_manager_admin_rule.maintenance (AlwaysAllow, 10)")
    assert any("1 azurerm_network_manager_admin_rule" in n for n in found["notes"])


def test_a_deny_admin_rule_in_an_azure_plan_stops_synchronisation(tmp_path: Path) -> None:
    code, report = review(_azure_plan(extra=[_admin_rule("Deny", "10.10.2.10", "10.10.1.10")]),
                          tmp_path)
    (found,) = report["systems"]
    assert code == 1
    assert [(f["flow"], f["because"]) for f in found["missing"]] == [(
        "scada-b 10.10.2.10/32 -> scada-a:10.10.1.10 TCP 5481",
        "azurerm_network_manager_admin_rule.maintenance (Deny, 10)")]
    # an Allow admin rule passes the packet on: the NSGs still decide, and nothing changes
    code, report = review(_azure_plan(extra=[_admin_rule("Allow", "10.30.1.10",
                                                         "10.10.1.10")]), tmp_path)
    assert code == 0
