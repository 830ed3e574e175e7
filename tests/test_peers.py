"""Topology version 2, part 1: clients, web users, advise callbacks, ICMP monitors and field
devices, judged against docs/geo-scada.md's "Beyond the server pair" as tests/domain.py transcribes it.
"""

from __future__ import annotations

import ipaddress
import re
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from netaddr import IPSet

from generator.checks.report import Report
from generator.judge.sides import Judged
from tests.conftest import ROOT, resources, run_cli
from tests.judged import as_ipset, differences, verified
from tests.strategies import topologies
from tests.test_security_invariants import emitted, rules_of

EXAMPLE = ROOT / "examples" / "control-room.yaml"
DOC = yaml.safe_load(EXAMPLE.read_text())
SERVERS = {s["name"] for s in DOC["servers"]}


def exact(target: str, port: int) -> Callable[[Judged], bool]:
    if target == "aws":
        return lambda _: True
    return lambda j: j.query.protocol != "tcp" or j.query.ports == (port, port)


@pytest.fixture
def modules(tmp_path: Path) -> Path:
    copy = tmp_path / "modules"
    shutil.copytree(ROOT / "modules" / "water-west", copy / "water-west")
    return copy


def judged(target: str, modules: Path = ROOT / "modules") -> list[Report]:
    return [r for r in verified(EXAMPLE, modules) if r.target == target]


@pytest.mark.parametrize("target", ["aws", "azure"])
def test_every_peer_flow_of_the_example_matches_the_domain_table(target: str) -> None:
    reports = judged(target)
    protocols = {(j.query.protocol, j.query.ports) for r in reports for j in r.classes}
    # every port the system uses is judged, on every server: web, advise, both outstations
    assert {("tcp", (443, 443)), ("tcp", (502, 502)), ("tcp", (5500, 5509)),
            ("tcp", (20000, 20000))} <= protocols
    assert differences(reports, DOC, exact(target, 5481)) == []
    assert all(r.ok for r in reports)


@pytest.mark.parametrize("target", ["aws", "azure"])
def test_the_outsider_reaches_nothing_and_corporate_users_reach_only_the_dmz_standby(
        target: str) -> None:
    named = IPSet([n for c in DOC["clients"] for n in c["sources"]]
                  + [n for o in DOC["outstations"] for n in o["addresses"]]
                  + [a for s in DOC["servers"] for a in s["addresses"]])
    corporate = IPSet(["172.16.0.0/16"])
    reached = set()
    for report in judged(target):
        for j in report.classes:
            got = as_ipset(j.admitted.cidrs)
            if j.inbound:
                assert not got - named, (str(j.link), j.query.label)  # nobody else, anywhere
                if got & corporate:
                    reached.add((j.link.server, j.query.label))
            elif j.link.server == "scada-dmz" and (target == "aws" or j.query.label in (
                    "TCP 5481", "ICMP echo request")):
                assert not got, j.query.label  # no advise client or monitor: it opens nothing
    assert reached == {("scada-dmz", "TCP 5481"), ("scada-dmz", "TCP 443")}


def verify_json(modules: Path) -> dict[str, Any]:
    import json  # noqa: PLC0415

    result = run_cli("verify", EXAMPLE, "--modules", modules, "--format", "json")
    assert result.code == 1, result.out[-2000:] + result.err
    return dict(json.loads(result.out))


def found(report: dict[str, Any], target: str) -> set[tuple[str, str]]:
    """(code, place) of every finding of one module."""
    (result,) = [r for r in report["results"] if r["target"] == target]
    return {(f["code"], f["place"]) for f in result["findings"] if not f["note"]}


def messages(report: dict[str, Any], target: str) -> list[str]:
    (result,) = [r for r in report["results"] if r["target"] == target]
    return [f["message"] for f in result["findings"] if not f["note"]]


def test_a_client_rule_widened_to_another_group_is_caught_on_aws(modules: Path) -> None:
    tf = modules / "water-west" / "aws" / "main.tf"
    text = tf.read_text()
    block = re.search(r'resource "aws_vpc_security_group_ingress_rule" '
                      r'"redundant_from_client_control_room_viewx_10_40_20_0_24_5481" \{\n'
                      r'  security_group_id = aws_security_group\.redundant\.id', text)
    assert block
    tf.write_text(text.replace(block.group(0), block.group(0).replace(
        "aws_security_group.redundant.id", "aws_security_group.dmz_permanent_standby.id")))
    report = verify_json(modules)
    assert found(report, "aws") == {
        ("forbidden", "scada-dmz:10.40.8.10 inbound TCP 5481"),
        ("missing", "scada-a:10.40.1.10 inbound TCP 5481"),  # and the Main lost its own
        ("missing", "scada-b:10.40.2.10 inbound TCP 5481")}
    assert all("client control-room 10.40.20.0/24" in m for m in messages(report, "aws"))


def test_a_client_rule_copied_onto_the_dmz_nsg_is_caught_on_azure(modules: Path) -> None:
    tf = modules / "water-west" / "azure" / "main.tf"
    tf.write_text(tf.read_text() + '''
resource "azurerm_network_security_rule" "dmz_in_from_control_room" {
  name                                       = "allow-control-room"
  resource_group_name                        = var.resource_group_name
  network_security_group_name                = azurerm_network_security_group.dmz_permanent_standby.name
  priority                                   = 2999
  direction                                  = "Inbound"
  access                                     = "Allow"
  protocol                                   = "Tcp"
  source_port_range                          = "*"
  destination_port_range                     = "5481"
  source_address_prefixes                    = ["10.40.20.0/24"]
  destination_application_security_group_ids = [azurerm_application_security_group.dmz_permanent_standby.id]
}
''')
    report = verify_json(modules)
    assert found(report, "azure") == {("forbidden", "scada-dmz:10.40.8.10 inbound TCP 5481")}
    (text,) = messages(report, "azure")
    assert text.startswith("client control-room 10.40.20.0/24 reaches scada-dmz:10.40.8.10")
    assert "azurerm_network_security_rule.dmz_in_from_control_room (Allow, 2999)" in text


def test_a_missing_azure_deny_on_the_web_port_is_caught(modules: Path) -> None:
    tf = modules / "water-west" / "azure" / "main.tf"
    text = tf.read_text()
    for group in ("redundant", "permanent_standby", "dmz_permanent_standby"):
        text = re.sub(rf'\nresource "azurerm_network_security_rule" '
                      rf'"{group}_in_deny_tcp_peer_ports" \{{\n.*?\n\}}\n', "\n", text,
                      flags=re.DOTALL)
    tf.write_text(text)
    report = verify_json(modules)
    places = {p for code, p in found(report, "azure") if code == "forbidden"}
    assert "scada-a:10.40.1.10 inbound TCP 443, 502, 5500-5509" in places
    assert "scada-dr:10.40.3.10 inbound TCP 443, 502, 5500-5509, 20000" in places
    assert all("AllowVNetInBound" in m or "AllowAzureLoadBalancerInBound" in m
               for m in messages(report, "azure"))
    assert found(report, "aws") == set()


@pytest.mark.parametrize("target", ["aws", "azure"])
def test_an_outstation_rule_on_the_permanent_standby_is_caught(modules: Path,
                                                               target: str) -> None:
    tf = modules / "water-west" / target / "main.tf"
    if target == "aws":
        extra = '''
resource "aws_vpc_security_group_ingress_rule" "dr_from_wells" {
  security_group_id = aws_security_group.permanent_standby.id
  cidr_ipv4         = "10.44.0.0/22"
  ip_protocol       = "tcp"
  from_port         = 20000
  to_port           = 20000
}
'''
    else:
        extra = '''
resource "azurerm_network_security_rule" "dr_from_wells" {
  name                                       = "allow-wells"
  resource_group_name                        = var.resource_group_name
  network_security_group_name                = azurerm_network_security_group.permanent_standby.name
  priority                                   = 3999
  direction                                  = "Inbound"
  access                                     = "Allow"
  protocol                                   = "Tcp"
  source_port_range                          = "*"
  destination_port_range                     = "20000"
  source_address_prefixes                    = ["10.44.0.0/22"]
  destination_application_security_group_ids = [azurerm_application_security_group.permanent_standby.id]
}
'''
    tf.write_text(tf.read_text() + extra)
    report = verify_json(modules)
    assert found(report, target) == {("forbidden", "scada-dr:10.40.3.10 inbound TCP 20000")}
    assert messages(report, target)[0].startswith("outstation wells-dnp3 10.44.0.0/22 reaches")


def test_an_outstation_poll_from_the_permanent_standby_is_caught_on_aws(modules: Path) -> None:
    tf = modules / "water-west" / "aws" / "main.tf"
    tf.write_text(tf.read_text() + '''
resource "aws_vpc_security_group_egress_rule" "dr_to_wells" {
  security_group_id = aws_security_group.permanent_standby.id
  cidr_ipv4         = "10.44.0.0/22"
  ip_protocol       = "tcp"
  from_port         = 20000
  to_port           = 20000
}
''')
    report = verify_json(modules)
    assert found(report, "aws") == {("forbidden", "scada-dr:10.40.3.10 outbound TCP 20000")}
    assert "outstation wells-dnp3 10.44.0.0/22" in messages(report, "aws")[0]


def test_a_version_1_file_is_judged_on_its_server_port_and_icmp_only() -> None:
    reports = verified(ROOT / "examples" / "dmz.yaml", ROOT / "modules")
    assert {(j.query.protocol, j.query.ports) for r in reports for j in r.classes} == {
        ("tcp", (5481, 5481)), ("icmp", (8, 8))}


def test_flows_lists_the_peers_in_every_format() -> None:
    for fmt in ("table", "json", "csv", "markdown", "mermaid", "dot"):
        result = run_cli("flows", EXAMPLE, "--format", fmt)
        assert result.code == 0, result.err
        assert "corporate" in result.out, fmt
        assert "wells-dnp3" in result.out, fmt
    csv_out = run_cli("flows", EXAMPLE, "--format", "csv").out
    assert "corporate,client,172.16.0.0/16,scada-dmz,dmz_permanent_standby,10.40.8.10,tcp,443" \
        in csv_out


# The security invariants, over random version-2 topologies

PRIVATE = st.sampled_from(["10.{a}.{b}.0/24", "172.16.{b}.0/24", "192.168.{a}.{b}",
                           "10.{a}.0.0/16"])


@st.composite
def topologies_v2(draw: st.DrawFn) -> dict[str, Any]:
    doc = draw(topologies())
    doc["version"] = 2
    port = doc.get("port", 5481)
    groups = sorted({{"main": "redundant", "standby": "redundant"}.get(s["role"], s["role"])
                     for s in doc["servers"]})

    def networks(n: int, slot: int) -> list[str]:
        # each entry in a slot of its own (two entries naming one network for one service are
        # refused as a duplicate rule), all in 10.20-10.199, apart from the servers (10.0-10.8,
        # 10.200-10.208); overlaps with servers have a property of their own
        # (test_a_party_holding_a_server_is_refused_as_the_matrix_says)
        low = 20 + 35 * slot
        picks = [draw(PRIVATE).format(a=draw(st.integers(low, low + 34)),
                                      b=draw(st.integers(50 * slot, 50 * slot + 49)))
                 for _ in range(n)]
        return sorted(set(picks))

    for server in doc["servers"]:  # clients and outstations are c0, o1...: name servers apart
        if server["name"][0] in "co" and server["name"][1:].isdigit():
            server["name"] += "-s"
    doc["clients"] = [{
        "name": f"c{i}", "sources": networks(draw(st.integers(1, 3)), i),
        "services": draw(st.lists(st.sampled_from(["viewx", "web", "advise"]), min_size=1,
                                  max_size=3, unique=True)),
        "connects_to": draw(st.lists(st.sampled_from(groups), min_size=1, unique=True)),
    } for i in range(draw(st.integers(0, 3)))]
    free = [p for p in (443, 80, 20000, 502, 2404) if p != port]
    doc["web_ports"] = [free[0]]
    doc["outstations"] = [{
        "name": f"o{i}", "addresses": networks(1, 3 + i),
        "protocol": draw(st.sampled_from(["tcp", "udp"])), "ports": [free[2]],
        **({"listen_ports": [free[3]]} if draw(st.booleans()) else {}),
    } for i in range(draw(st.integers(0, 2)))]
    if port in range(5500, 5510):
        doc["advise_ports"] = "6500-6509"
    for server in doc["servers"]:
        if draw(st.booleans()):
            server["icmp_monitors"] = [f"192.0.2.{draw(st.integers(1, 250))}"]
    if draw(st.booleans()):  # several networks: on premises, AWS VPCs, Azure VNets
        clouds = draw(st.lists(st.sampled_from(["aws", "azure", "onprem"]), min_size=1,
                               max_size=3))
        doc["networks"] = {f"net-{i}": {"cloud": c, "azure_slot": i} for i, c in enumerate(clouds)}
        doc.pop("targets", None)
        for i, server in enumerate(doc["servers"]):
            server["network"] = f"net-{draw(st.integers(0, len(clouds) - 1))}"
            server["addresses"] = [f"10.{200 + i}.0.10"]
    return doc


def _named(doc: dict[str, Any]) -> set[str]:
    import ipaddress  # noqa: PLC0415

    found = {str(ipaddress.ip_network(n)) for c in doc["clients"] for n in c["sources"]}
    found |= {str(ipaddress.ip_network(n)) for o in doc["outstations"] for n in o["addresses"]}
    found |= {f"{m}/32" for s in doc["servers"] for m in s.get("icmp_monitors", [])}
    found |= {str(ipaddress.ip_network(a)) for s in doc["servers"] for a in s.get("addresses", [])}
    return found


@settings(max_examples=50, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(doc=topologies_v2())
def test_version_2_rules_open_only_what_the_file_names(doc: dict[str, Any],
                                                        tmp_path: Path) -> None:
    modules = emitted(doc, tmp_path)
    named = _named(doc)
    dmz = "dmz_permanent_standby"
    servers = {str(ipaddress.ip_network(a)) for s in doc["servers"]
               for a in s.get("addresses", [])}
    for files in modules.values():
        if "main.tf" in files:
            check_module(files["main.tf"], named, servers, dmz)
        elif "policy.yaml" in files:
            check_policy(files, named)


def check_policy(files: dict[str, str], named: set[str]) -> None:
    """A perimeter policy allows nothing between addresses the file does not name."""
    networks = yaml.safe_load(files["definitions/networks.yaml"])["networks"]
    for term in yaml.safe_load(files["policy.yaml"])["filters"][0]["terms"]:
        if term["action"] != "accept" or "option" in term:
            continue
        for end in (term["source-address"], term["destination-address"]):
            assert {v["address"] for v in networks[end]["values"]} <= named, term["name"]


def check_module(main: str, named: set[str], servers: set[str], dmz: str) -> None:
    """No rule opens to more than the file names; nothing leaves the DMZ standby towards a
    server (by group or by a server's address); nothing admits it (by group)."""
    if "aws_security_group" in main:
        dmz_group = f"${{aws_security_group.{dmz}.id}}"
        rules = rules_of(main)
        for kind in ("ingress", "egress"):
            for name, rule in rules.get(f"aws_vpc_security_group_{kind}_rule", {}).items():
                cidr = rule.get("cidr_ipv4") or rule.get("cidr_ipv6")
                if cidr is not None:
                    assert cidr in named, name  # never more than the file names
                    if kind == "egress" and rule["security_group_id"] == dmz_group:
                        assert cidr not in servers, name
                elif kind == "egress":
                    assert rule["security_group_id"] != dmz_group, name
                else:
                    assert rule["referenced_security_group_id"] != dmz_group, name
        return
    dmz_asg = f"${{azurerm_application_security_group.{dmz}.id}}"
    for name, rule in rules_of(main)["azurerm_network_security_rule"].items():
        if rule["access"] != "Allow":
            continue
        prefixes = [*rule.get("source_address_prefixes", []),
                    *rule.get("destination_address_prefixes", [])]
        assert set(prefixes) <= named, name
        assert "*" not in (rule.get("source_address_prefix"),
                           rule.get("destination_address_prefix")), name
        if rule["direction"] == "Outbound" and dmz_asg in rule.get(
                "source_application_security_group_ids", []):
            assert not rule.get("destination_application_security_group_ids"), name
            assert not set(rule.get("destination_address_prefixes", [])) & servers, name


def test_the_property_draws_every_kind_of_peer() -> None:
    """The strategy above is not vacuous: it produces clients, outstations and monitors."""
    seen: set[str] = set()

    @settings(max_examples=60, deadline=None)
    @given(doc=topologies_v2())
    def collect(doc: dict[str, Any]) -> None:
        if doc["clients"]:
            seen.add("clients")
        if doc["outstations"]:
            seen.add("outstations")
        if any(s.get("icmp_monitors") for s in doc["servers"]):
            seen.add("monitors")

    collect()
    assert seen == {"clients", "outstations", "monitors"}


def test_aws_peer_rules_have_stable_names_that_do_not_depend_on_order(tmp_path: Path) -> None:
    doc = dict(DOC)
    flipped = {**doc, "clients": list(reversed(doc["clients"]))}
    flipped["clients"][0] = {**flipped["clients"][0],
                             "sources": list(reversed(flipped["clients"][0]["sources"]))}
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    a = emitted(doc, tmp_path / "a")
    b = emitted(flipped, tmp_path / "b")
    assert a == b
    names = resources_names(a["aws"]["main.tf"])
    assert "redundant_from_client_legacy_hmi_viewx_10_40_21_15_32_5481" in names


def resources_names(text: str) -> set[str]:
    return {n for rules in rules_of(text).values() for n in rules}


def test_resources_helper_reads_the_committed_example() -> None:
    found = resources(ROOT / "modules" / "water-west" / "azure" / "main.tf")
    priorities = sorted(r["priority"] for r in found["azurerm_network_security_rule"].values()
                        if r["direction"] == "Inbound" and r["access"] == "Allow")
    assert max(priorities) < 4010  # every allow above every deny


def test_more_than_100_clients_are_refused(tmp_path: Path) -> None:
    lines = ["version: 2", "system: plant-x", "servers:", "  - {name: scada-a, role: main}",
             "clients:"]
    lines += [f"  - {{name: c{i}, sources: [10.1.{i}.0/24], services: [viewx]}}"
              for i in range(101)]
    path = tmp_path / "many.yaml"
    path.write_text("\n".join(lines) + "\n")
    result = run_cli("generate", path, "--out", tmp_path / "out")
    assert result.code == 2
    assert f"{path}:106:5: at most 100 clients per system" in result.err
    assert not (tmp_path / "out").exists()


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(roles=st.lists(st.sampled_from(["standby", "permanent_standby", "dmz_permanent_standby"]),
                      min_size=1, max_size=2),
       inside=st.integers(0, 3), services=st.lists(st.sampled_from(["viewx", "web", "advise"]),
                                                  min_size=1, max_size=3, unique=True),
       reach=st.lists(st.sampled_from(["redundant", "permanent_standby", "dmz_permanent_standby"]),
                      min_size=1, max_size=3, unique=True))
def test_a_party_holding_a_server_is_refused_as_the_matrix_says(
        roles: list[str], inside: int, services: list[str], reach: list[str],
        tmp_path: Path) -> None:
    """A client network holding one server: refused exactly when the client's flows give that
    server a flow the matrix (tests/domain.py) does not, towards another server."""
    from tests.domain import GROUP_OF, domain_allows  # noqa: PLC0415

    servers = [{"name": "s0", "role": "main", "addresses": ["10.9.0.10"]}]
    servers += [{"name": f"s{i + 1}", "role": r, "addresses": [f"10.9.{i + 1}.10"]}
                for i, r in enumerate(roles)]
    held = servers[min(inside, len(servers) - 1)]
    doc = {"version": 2, "system": "plant-x", "targets": ["aws"], "servers": servers,
           "clients": [{"name": "desk", "sources": [f"{held['addresses'][0]}"],
                        "services": services, "connects_to": reach}]}
    path = tmp_path / "t.yaml"
    path.write_text(yaml.safe_dump(doc))
    result = run_cli("generate", path, "--out", tmp_path / "out")
    others = [s for s in servers if s is not held and GROUP_OF[s["role"]] in reach]
    # the client's flows, as the held server's: ViewX is the server port, which the matrix may
    # give it anyway; web (to the others) and advise (from them) are no server flow at all
    harmful = any(
        ("viewx" in services and not domain_allows(held["role"], t["role"]))
        or "web" in services or "advise" in services
        for t in others)
    assert (result.code == 2) == harmful, result.err
    if harmful:
        assert f"{path}:" in result.err
        assert "client desk:" in result.err
        assert f"holds server {held['name']}" in result.err
