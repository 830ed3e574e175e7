"""`scadafw audit --azure` against a fake ARM on 127.0.0.1 (tests/fake_arm.py), reached through
azure-mgmt-network's real pipeline with DefaultAzureCredential and a fake managed identity.
The verdicts come from the judge; each drift below is one an operator makes by hand, and each
must be reported with the NSG rule or NIC responsible."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from netaddr import IPSet

from generator.sources import azure_live
from generator.topology import load_topology
from tests.conftest import ROOT, run_cli
from tests.fake_arm import GROUP, SUBSCRIPTION, Arm, deploy, nsg_body, rg_path, serve

DMZ = ROOT / "examples" / "dmz.yaml"
CONTROL_ROOM = ROOT / "examples" / "control-room.yaml"
NSG = {"redundant": "plant-north-redundant-nsg", "dmz": "plant-north-dmz-permanent-standby-nsg"}


@pytest.fixture(scope="module")
def endpoints(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Arm, str, str]]:
    arm, ca, identity, servers = serve(tmp_path_factory.mktemp("arm"))
    yield arm, ca, identity
    for server in servers:
        server.shutdown()


@pytest.fixture
def arm(endpoints: tuple[Arm, str, str], monkeypatch: pytest.MonkeyPatch) -> Arm:
    fake, ca, identity = endpoints
    fake.reset()
    for name in ("AZURE_CLIENT_ID", "AZURE_TENANT_ID", "AZURE_CLIENT_SECRET",
                 "AZURE_FEDERATED_TOKEN_FILE", "MSI_ENDPOINT", "AZURE_SUBSCRIPTION_ID"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("IDENTITY_ENDPOINT", identity)
    monkeypatch.setenv("IDENTITY_HEADER", "fake-identity-header")
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", ca)
    monkeypatch.setenv("SCADAFW_ARM_ENDPOINT", fake.url)
    monkeypatch.setattr(azure_live, "RETRY_BACKOFF", 0.01)
    return fake


def audit(topology: Path = DMZ, *extra: str) -> tuple[int, dict[str, Any], str]:
    result = run_cli("audit", topology, "--azure", "--subscription", SUBSCRIPTION,
                     "--resource-group", GROUP, "--format", "json", *extra)
    assert "Traceback" not in result.err
    return result.code, json.loads(result.out) if result.out else {}, result.err


def findings(report: dict[str, Any]) -> tuple[list[dict[str, Any]], list[str]]:
    """The flow findings (forbidden, missing), and the messages of everything else: drift,
    servers not found, and notes."""
    every = [f for r in report["results"] for f in r["findings"]]
    flows = [f for f in every if f["code"] in ("forbidden", "missing") and not f["note"]]
    return flows, [f["message"] for f in every if f not in flows]


def places(flows: list[dict[str, Any]]) -> set[tuple[str, str]]:
    return {(f["code"], f["place"]) for f in flows}


def deployed(arm: Arm, topology: Path = DMZ) -> None:
    system = load_topology(topology)
    deploy(arm, system, ROOT / "modules" / system.name / "azure")


def drop_rule(arm: Arm, nsg: str, rule: str) -> None:
    rules = arm.nsg(nsg)["properties"]["securityRules"]
    assert any(r["name"] == rule for r in rules), rule
    rules[:] = [r for r in rules if r["name"] != rule]


@pytest.mark.parametrize("topology", [DMZ, CONTROL_ROOM], ids=lambda p: p.stem)
def test_undrifted_deployment_is_clean(arm: Arm, topology: Path) -> None:
    deployed(arm, topology)
    code, report, err = audit(topology)
    assert (code, err) == (0, "")
    assert report["ok"]
    assert sum(r["classes"] for r in report["results"]) >= 16
    # every NIC page was followed (the fake pages two NICs at a time)
    nic_list = f"{rg_path()}/providers/Microsoft.Network/networkInterfaces".lower()
    assert arm.requests.count(nic_list) >= 2


def test_forbidden_flow_named_with_the_rules_that_let_it_through(arm: Arm) -> None:
    """The DMZ standby's outbound deny and the Main's inbound deny removed by hand: DMZ -> Main
    on the server port is now allowed by Azure's default rules (the matrix forbids it)."""
    deployed(arm)
    drop_rule(arm, NSG["dmz"], "deny-outbound-tcp")
    drop_rule(arm, NSG["redundant"], "deny-inbound-tcp")
    code, report, _ = audit()
    assert code == 1
    flows, others = findings(report)
    assert places(flows) == {("forbidden", "scada-a:10.10.1.10 inbound TCP 5481"),
                             ("forbidden", "scada-b:10.10.2.10 inbound TCP 5481")}
    main = [f for f in flows if f["place"].startswith("scada-a:")]
    (vnet,) = [f for f in main if "AllowVNetInBound" in f["message"]]
    assert vnet["message"].startswith("scada-dmz 10.30.1.10/32; anyone else: ")
    assert f"NSG {NSG['redundant']} default rule AllowVNetInBound" in vnet["message"]
    assert "10.30.1.10" in IPSet(vnet["peers"])
    (probe,) = [f for f in main if "AllowAzureLoadBalancerInBound" in f["message"]]
    assert probe["peers"] == ["168.63.129.16/32"]  # and Azure's health probe source
    # the DMZ standby's egress is open again: a latent note (the Main's side is the finding)
    assert any(o.startswith("scada-dmz:10.30.1.10 reaches scada-a 10.10.1.10/32; scada-b "
                            "10.10.2.10/32; scada-dr 10.20.1.10/32 on TCP 5481 through NSG "
                            f"{NSG['dmz']} default rule AllowVnetOutBound") for o in others)
    assert f"generated but missing: NSG {NSG['dmz']} rule deny-outbound-tcp" in others


def test_a_missing_inbound_deny_opens_the_main_while_the_dmz_side_still_holds(arm: Arm) -> None:
    """The Main's own side must refuse what the matrix forbids: the DMZ standby's outbound
    deny does not make up for it, and the rest of the virtual network is open too."""
    deployed(arm)
    drop_rule(arm, NSG["redundant"], "deny-inbound-tcp")
    code, report, _ = audit()
    flows, others = findings(report)
    assert code == 1
    assert places(flows) == {("forbidden", "scada-a:10.10.1.10 inbound TCP 5481"),
                             ("forbidden", "scada-b:10.10.2.10 inbound TCP 5481")}
    assert [o for o in others if o.startswith("generated but")] == [
        f"generated but missing: NSG {NSG['redundant']} rule deny-inbound-tcp"]


def test_subnet_nsg_allowing_virtual_network_on_the_server_port(arm: Arm) -> None:
    """A subnet NSG with an allow for VirtualNetwork on 5481 above nothing: only scadafw's NIC
    NSGs still refuse DMZ -> Main, and the audit names the subnet rule that lets it by."""
    deployed(arm)
    rule = {"name": "allow-vnet-5481", "properties": {
        "priority": 100, "direction": "Inbound", "access": "Allow", "protocol": "Tcp",
        "sourcePortRange": "*", "destinationPortRange": "5481",
        "sourceAddressPrefix": "VirtualNetwork", "destinationAddressPrefix": "VirtualNetwork"}}
    arm.put(nsg_body("ops-subnet-nsg", [rule], {}))
    subnet = next(v for k, v in arm.resources.items() if k.endswith("/subnets/servers"))
    subnet["properties"]["networkSecurityGroup"] = {
        "id": f"{rg_path()}/providers/Microsoft.Network/networkSecurityGroups/ops-subnet-nsg"}
    code, report, _ = audit()
    flows, others = findings(report)
    assert code == 0
    assert flows == []
    held = [o for o in others if "is stopped only by" in o
            and o.startswith("scada-dmz 10.30.1.10/32; anyone else: ")]
    assert held
    assert all("NSG ops-subnet-nsg rule allow-vnet-5481 (Allow, 100)" in o for o in held)


def test_swapped_nic_nsg(arm: Arm) -> None:
    """The Main's NIC NSG swapped for another (the association resource does not notice)."""
    deployed(arm)
    arm.put(nsg_body("ops-rdp-nsg", [], {}))
    arm.nic("scada-a")["properties"]["networkSecurityGroup"] = {
        "id": f"{rg_path()}/providers/Microsoft.Network/networkSecurityGroups/ops-rdp-nsg"}
    code, report, _ = audit()
    flows, others = findings(report)
    assert code == 1
    assert ("scada-a:10.10.1.10: NIC scada-a-nic does not carry scadafw's redundant NSG (it "
            "has ops-rdp-nsg)") in others
    # and the Main is open to the whole virtual network through Azure's default rule
    assert ("forbidden", "scada-a:10.10.1.10 inbound TCP 5481") in places(flows)


def test_changed_port(arm: Arm) -> None:
    deployed(arm)
    rules = arm.nsg(NSG["redundant"])["properties"]["securityRules"]
    rule = next(r for r in rules if r["name"] == "allow-inbound-from-redundant-tcp")
    rule["properties"]["destinationPortRange"] = "5482"
    code, report, _ = audit()
    flows, others = findings(report)
    assert code == 1
    assert places(flows) == {("missing", "scada-a:10.10.1.10 inbound TCP 5481"),
                             ("missing", "scada-b:10.10.2.10 inbound TCP 5481")}
    assert [f["peers"] for f in flows if f["place"].startswith("scada-a")] == [["10.10.2.10/32"]]
    assert any(p.startswith(f"changed since generated: NSG {NSG['redundant']} rule "
                            "allow-inbound-from-redundant-tcp (now 1111 Inbound Allow tcp port "
                            "5482") for p in others)


def test_a_server_not_found_and_the_interface_that_took_its_place(arm: Arm) -> None:
    """The DR standby's NIC now holds another address: the server is not found, and the NIC,
    still in the permanent standby's ASG, reaches the redundant servers from an address the
    topology does not name: every rule naming that ASG admits it."""
    deployed(arm)
    arm.nic("scada-dr")["properties"]["ipConfigurations"][0]["properties"][
        "privateIPAddress"] = "10.99.0.1"
    code, report, _ = audit()
    flows, others = findings(report)
    assert code == 1
    assert any(p.startswith("scada-dr: no network interface in resource group scada-rg has "
                            "its address 10.20.1.10") for p in others)
    opened = {(f["place"], tuple(f["peers"])) for f in flows if f["code"] == "forbidden"}
    assert opened == {(f"{server} inbound {service}", ("10.99.0.1/32",))
                      for server in ("scada-a:10.10.1.10", "scada-b:10.10.2.10")
                      for service in ("TCP 5481", "ICMP echo request")}
    lost = {(f["place"], tuple(f["peers"])) for f in flows if f["code"] == "missing"}
    assert ("scada-a:10.10.1.10 outbound TCP 5481", ("10.20.1.10/32",)) in lost


@pytest.mark.parametrize(("status", "code", "message"), [
    (403, "AuthorizationFailed", "Azure: access denied (AuthorizationFailed) in resource group "
     "scada-rg; the audit needs the read-only role in the README"),
    (404, "ResourceGroupNotFound", "Azure: resource group scada-rg does not exist in "
     f"subscription {SUBSCRIPTION}"),
])
def test_refusals_are_one_line(arm: Arm, status: int, code: str, message: str) -> None:
    deployed(arm)
    arm.failures[rg_path()] = (status, code)
    exit_code, report, err = audit()
    assert (exit_code, report) == (2, {})
    assert err.strip().splitlines() == [f"scadafw: {message}"]


def test_throttling_retries_a_bounded_number_of_times(arm: Arm) -> None:
    deployed(arm)
    arm.failures[rg_path()] = (429, "TooManyRequests")
    exit_code, _, err = audit()
    assert exit_code == 2
    assert "throttled (HTTP 429) after 4 retries" in err
    assert len(arm.requests) == azure_live.RETRIES + 1


def test_no_credentials(arm: Arm, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    deployed(arm)
    for name in ("IDENTITY_ENDPOINT", "IDENTITY_HEADER"):
        monkeypatch.delenv(name)
    monkeypatch.setenv("AZURE_CLIENT_ID", "00000000-0000-0000-0000-000000000001")
    monkeypatch.setenv("AZURE_TENANT_ID", "00000000-0000-0000-0000-000000000002")
    monkeypatch.setenv("AZURE_FEDERATED_TOKEN_FILE", str(tmp_path / "missing-token"))
    monkeypatch.setenv("AZURE_AUTHORITY_HOST", "https://127.0.0.1:9")
    monkeypatch.setenv("PATH", str(tmp_path))  # no `az`, `azd` or `pwsh` to fall back on
    # a process of its own, as a user runs it: the SDK's logging reaches the real stderr
    ran = subprocess.run([sys.executable, "-m", "generator", "audit", str(DMZ), "--azure",
                          "--subscription", SUBSCRIPTION, "--resource-group", GROUP],
                         capture_output=True, text=True, check=False, cwd=ROOT,
                         env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert ran.returncode == 2
    assert ran.stderr.strip().splitlines() == [
        "scadafw: Azure: no credentials: DefaultAzureCredential found none (AZURE_CLIENT_ID/"
        "AZURE_TENANT_ID/AZURE_CLIENT_SECRET, workload or managed identity, `az login`)"]
    assert arm.requests == []


@pytest.mark.parametrize("args", [
    ("--azure", "--subscription", SUBSCRIPTION),
    ("--azure", "--aws"),
    (),
])
def test_usage(args: tuple[str, ...], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AZURE_SUBSCRIPTION_ID", raising=False)
    result = run_cli("audit", DMZ, *args)
    assert result.code == 2
    assert len(result.err.strip().splitlines()) == 1


# Azure Virtual Network Manager: security admin rules ahead of the NSGs

VNET = f"{rg_path()}/providers/Microsoft.Network/virtualNetworks/plant-vnet".lower()


def admin_rule(name: str, access: str, priority: int, sources: list[str],
               destinations: list[str], ports: list[str], direction: str = "Inbound",
               protocol: str = "Tcp") -> dict[str, Any]:
    def items(prefixes: list[str]) -> list[dict[str, str]]:
        return [{"addressPrefix": p, "addressPrefixType": "IPPrefix"} for p in prefixes]

    return {"id": f"/subscriptions/{SUBSCRIPTION}/resourceGroups/netops/providers/Microsoft."
                  f"Network/networkManagers/nm/securityAdminConfigurations/plant/ruleCollections/"
                  f"ops/rules/{name}", "kind": "Custom",
            "properties": {"access": access, "priority": priority, "direction": direction,
                           "protocol": protocol, "sources": items(sources),
                           "destinations": items(destinations), "sourcePortRanges": [],
                           "destinationPortRanges": ports}}


def test_an_always_allow_admin_rule_from_the_dmz_standby_is_named(arm: Arm) -> None:
    """AlwaysAllow ends evaluation: the NSGs' denies never see DMZ -> Main."""
    deployed(arm)
    arm.admin[VNET] = [admin_rule("dmz-maintenance", "AlwaysAllow", 10, ["10.30.1.10"],
                                  ["10.10.1.10"], ["5481"])]
    code, report, _ = audit()
    flows, _ = findings(report)
    assert code == 1
    assert places(flows) == {("forbidden", "scada-a:10.10.1.10 inbound TCP 5481")}
    (opened,) = flows
    assert opened["peers"] == ["10.30.1.10/32"]
    assert "security admin rule dmz-maintenance of collection ops (AlwaysAllow, 10)" in \
        opened["message"]
    assert any(r.endswith("/listnetworkmanagereffectivesecurityadminrules")
               for r in arm.requests)


def test_admin_rules_deny_and_allow_passes_on_to_the_nsgs(arm: Arm) -> None:
    """A Deny admin rule stops synchronisation whatever the NSGs allow; an Allow admin rule
    from anywhere leaves the NSGs to decide. Three rules: two pages of the listing."""
    deployed(arm)
    arm.admin[VNET] = [
        admin_rule("block-sync", "Deny", 20, ["10.10.2.10"], ["10.10.1.10"], ["5481"]),
        admin_rule("allow-any", "Allow", 30, [], [], []),
        admin_rule("allow-icmp", "Allow", 40, [], [], [], protocol="Icmp")]
    code, report, _ = audit()
    flows, _ = findings(report)
    assert code == 1
    assert places(flows) == {("missing", "scada-a:10.10.1.10 inbound TCP 5481")}
    assert flows[0]["peers"] == ["10.10.2.10/32"]
    assert "security admin rule block-sync of collection ops (Deny, 20)" in flows[0]["message"]
    pages = [r for r in arm.requests
             if r.endswith("/listnetworkmanagereffectivesecurityadminrules")]
    assert len(pages) == 2
