"""The host firewall (target `windows`): each server's Windows Defender Firewall script, read
back by the strict reader and judged by sets against tests/domain.py (the flow matrix and
"Beyond the server pair" of docs/geo-scada.md), never against generator/intent."""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from netaddr import IPSet

from generator.checks.report import Report
from generator.checks.verify import verify_module
from generator.targets import render_system
from generator.targets.placement import placements
from generator.targets.windows.script import ps_string
from generator.topology import load_topology
from generator.writer import write_modules
from tests.conftest import ROOT, run_cli
from tests.domain import DMZ, domain_allows
from tests.judged import admitted, differences, reaches
from tests.test_peers import topologies_v2

EXAMPLE = ROOT / "examples" / "hybrid-dr.yaml"
SCRIPTS = ROOT / "modules" / "river-east" / "windows"
GOLDEN = ROOT / "tests" / "data" / "golden-windows" / "scada-dmz.ps1"
WITH_HOST_FIREWALL = [EXAMPLE]  # every example with `host_firewall` or target windows


def windows_reports(topology: Path, modules: Path) -> list[Report]:
    system = load_topology(topology)
    return [verify_module(p.view, p.folder, p.target, modules) for p in placements(system)
            if p.folder == "windows"]


def dmz_leaks(reports: list[Report], doc: dict[str, Any]) -> list[str]:
    """What a DMZ permanent standby's own host lets out towards another server, on the server
    port or ICMP echo: nothing, says the flow matrix (it never initiates)."""
    ports = {doc.get("port", 5481), doc.get("previous_port", doc.get("port", 5481))}
    servers = doc["servers"]
    found = []
    for dmz in (s for s in servers if s["role"] == DMZ):
        others = IPSet([a for s in servers if s["name"] != dmz["name"]
                        for a in s.get("addresses", [])])
        for address in dmz.get("addresses", []):
            checks = [("tcp", p) for p in ports] + [("icmp", 8), ("icmpv6", 128)]
            for protocol, port in checks:
                out = admitted(reports, address, False, protocol, port)
                if out is not None and out & others:
                    found.append(f"{dmz['name']} {address} -> {out & others} {protocol} {port}")
    return found


def check_against_domain(reports: list[Report], doc: dict[str, Any]) -> None:
    assert reports
    assert all(r.classes for r in reports)
    assert differences(reports, doc, lambda _: False) == []  # inbound exact, outbound whole
    assert dmz_leaks(reports, doc) == []
    assert all(r.ok for r in reports), [str(f) for r in reports for f in r.failures]


@pytest.mark.parametrize("example", WITH_HOST_FIREWALL, ids=lambda p: p.stem)
def test_every_host_admits_exactly_what_the_domain_names(example: Path) -> None:
    doc = yaml.safe_load(example.read_text())
    reports = windows_reports(example, ROOT / "modules")
    check_against_domain(reports, doc)
    roles = {s["name"]: s["role"] for s in doc["servers"]}
    assert len(roles) == 4
    assert {r.classes[0].link.server for r in reports} <= set(roles)
    for a, role_a in roles.items():  # the flow matrix, pair by pair, through both hosts
        for b, role_b in roles.items():
            if a != b:
                for protocol, port in (("tcp", 5481), ("icmp", 8)):
                    assert reaches(reports, a, b, protocol, port) == domain_allows(
                        role_a, role_b), (a, b, protocol)


def test_examples_with_a_host_firewall_are_all_listed() -> None:
    found = [p for p in sorted((ROOT / "examples").glob("*.yaml"))
             if any(pl.folder == "windows" for pl in placements(load_topology(p)))]
    assert found == WITH_HOST_FIREWALL
    doc = yaml.safe_load(EXAMPLE.read_text())  # on premises and in a cloud, as the issue asks
    clouds = {n["cloud"] for n in doc["networks"].values() if n.get("host_firewall")}
    assert {"onprem", "azure"} <= clouds


# Mutations of the emitted scripts: each must be caught, with the right rule named


@pytest.fixture
def scripts(tmp_path: Path) -> Path:
    copy = tmp_path / "modules"
    shutil.copytree(SCRIPTS.parent, copy / "river-east")
    return copy


def edit(modules: Path, server: str, change: Any) -> None:
    path = modules / "river-east" / "windows" / f"{server}.ps1"
    text = path.read_text()
    changed = change(text)
    assert changed != text, "the mutation changed nothing"
    path.write_text(changed)


def drop(rule: str) -> Any:
    return lambda text: "".join(line for line in text.splitlines(keepends=True)
                                if f"-{rule}'" not in line)


def failures(modules: Path) -> list[str]:
    (report,) = windows_reports(EXAMPLE, modules)
    return [str(f) for f in report.failures]


def test_the_scripts_as_emitted_verify(scripts: Path) -> None:
    assert failures(scripts) == []


def test_a_missing_icmp_allow_is_caught(scripts: Path) -> None:
    edit(scripts, "scada-a", drop("in-icmp-redundant"))
    found = failures(scripts)
    assert len(found) == 1
    assert "scada-b 192.168.10.11/32" in found[0]
    assert "cannot reach scada-a" in found[0]
    assert "ICMP echo request" in found[0]
    assert "Windows blocks inbound by default" in found[0]


def test_an_allow_scoped_to_a_whole_private_range_is_caught(scripts: Path) -> None:
    edit(scripts, "scada-dr", lambda t: t.replace(
        "-RemoteAddress '10.20.50.0/24'", "-RemoteAddress '10.0.0.0/8'"))
    (report,) = windows_reports(EXAMPLE, scripts)
    (finding,) = report.failures
    found = str(finding)
    assert found.startswith("scada-dr:10.20.1.10 inbound TCP 5481")
    assert " reaches scada-dr:10.20.1.10 on TCP 5481 through " in found
    # the exact remainder, whole: the /8 but the client's /24 and the server's own address
    assert IPSet(finding.peers) == IPSet(["10.0.0.0/8"]) - IPSet(["10.20.50.0/24",
                                                                 "10.20.1.10/32"])
    assert "scada-dmz 10.30.9.10/32" in found  # named: the DMZ standby, among the rest
    assert finding.rules == ("scada-dr.ps1:11 scadafw-river-east-scada-dr-in-viewx-client-"
                             "dr-operators",)


def test_the_dmz_standbys_missing_outbound_block_is_caught(scripts: Path) -> None:
    edit(scripts, "scada-dmz", drop("out-block-tcp-servers"))
    found = failures(scripts)
    assert found
    assert all("scada-dmz:10.30.9.10 outbound TCP 5481" in f for f in found)
    assert "scada-a 192.168.10.10/32" in found[0]
    assert "Windows allows outbound" in found[0]
    edit(scripts, "scada-dmz", drop("out-block-icmp-servers"))
    assert any("outbound ICMP echo request" in f for f in failures(scripts))


def test_a_block_that_hides_a_needed_allow_is_caught(scripts: Path) -> None:
    block = ("New-NetFirewallRule -Name 'ops-block' -DisplayName 'x' -Description 'x' -Group "
             "'scadafw river-east scada-a' -Direction Inbound -Action Block -Protocol TCP "
             "-LocalPort 5000-6000 -RemoteAddress '10.20.0.0/16' -PolicyStore $PolicyStore\n")
    edit(scripts, "scada-a", lambda t: t + block)
    (found,) = failures(scripts)
    assert "scada-dr 10.20.1.10/32 cannot reach scada-a:192.168.10.10 on TCP 5481" in found
    assert "scada-a.ps1:" in found
    assert "ops-block" in found


def test_a_rule_on_the_wrong_port_is_caught(scripts: Path) -> None:
    edit(scripts, "scada-dr", lambda t: t.replace(
        "-LocalPort 5481 -RemoteAddress '192.168", "-LocalPort 5482 -RemoteAddress '192.168"))
    (found,) = failures(scripts)
    assert "scada-a 192.168.10.10/32; scada-b 192.168.10.11/32 cannot reach scada-dr" in found


def test_a_disabled_allow_counts_for_nothing(scripts: Path) -> None:
    edit(scripts, "scada-b", lambda t: t.replace(
        "-Enabled True", "-Enabled False", 1))
    assert any("cannot reach scada-b" in f for f in failures(scripts))


def test_a_missing_script_is_a_problem_and_its_server_is_judged_closed(scripts: Path) -> None:
    (scripts / "river-east" / "windows" / "scada-b.ps1").unlink()
    found = failures(scripts)
    assert any("scada-b.ps1: missing" in f for f in found)
    assert any("cannot reach scada-b" in f for f in found)


# The strict reader: anything it does not recognise is a problem at FILE:LINE (fail closed)

@pytest.mark.parametrize(("change", "says"), [
    (lambda t: t.replace("New-NetFirewallRule -Name 'scadafw-river-east-scada-a-in-icmp",
                         "Set-NetFirewallRule -Name 'scadafw-river-east-scada-a-in-icmp"),
     "`Set-NetFirewallRule` is not a statement scadafw writes"),
    (lambda t: t.replace("-Profile Any", "-Profile Any -Program 'C:\\x.exe'", 1),
     "-Program is not a parameter scadafw writes"),
    (lambda t: t.replace("-Direction Inbound -Action Allow", "-Action Allow -Direction Inbound",
                         1), "parameters out of order"),
    (lambda t: t.replace("-RemoteAddress '192.168.10.11'", "-RemoteAddress Any", 1),
     "-RemoteAddress Any: expected a quoted address"),
    (lambda t: t.replace("-Group 'scadafw river-east scada-a' -Direction",
                         "-Group 'other' -Direction", 1), "is not the group the script removes"),
    (lambda t: t.replace("param([string]$PolicyStore = 'PersistentStore')\n", ""),
     "the first statement must be"),
    (lambda t: t.replace("-LocalPort 5481", "-LocalPort 5481,$x", 1), "cannot read the value"),
    (lambda t: t.replace("-Protocol TCP", "-Protocol 6", 1), "-Protocol 6 is not one of"),
    (lambda t: t.replace("-IcmpType 8", "-IcmpType 8:0", 1), "unexpected `:0"),
    (lambda t: t + t.splitlines(keepends=True)[-1], "appears twice"),
])
def test_the_reader_refuses_what_it_does_not_know(scripts: Path, change: Any,
                                                  says: str) -> None:
    edit(scripts, "scada-a", change)
    found = failures(scripts)
    problem = [f for f in found if says in f]
    assert problem, found
    assert re.search(r"scada-a\.ps1:\d+: ", problem[0])
    result = run_cli("verify", EXAMPLE, "--modules", scripts)
    assert result.code == 1


@pytest.mark.parametrize("value", ["plain", "it's", "\u2018curly\u2019", "''", "a ' b \u201b"])
def test_quoted_values_read_back_as_written(value: str, tmp_path: Path) -> None:
    from generator.sources.windows_script import read_script  # noqa: PLC0415

    group = f"scadafw x {value}"
    text = (f"param([string]$PolicyStore = 'PersistentStore')\n"
            f"Remove-NetFirewallRule -Group {ps_string(group)} -PolicyStore $PolicyStore "
            "-ErrorAction SilentlyContinue\n"
            f"New-NetFirewallRule -Name {ps_string(value)} -DisplayName 'd' -Description "
            f"{ps_string(value)} -Group {ps_string(group)} -Direction Inbound -Action Allow "
            "-Protocol TCP -LocalPort 1-2,9 -PolicyStore $PolicyStore\n")
    script = read_script(tmp_path / "x.ps1", text)
    assert script.problems == []
    assert script.group == group
    (rule,) = script.rules
    assert rule.name == value
    assert rule.local_ports == ((1, 2), (9, 9))


def test_one_script_is_pinned_byte_for_byte() -> None:
    """The golden script: what a DMZ permanent standby's host gets. Changed only on purpose,
    with the commit saying why."""
    rendered = render_system(load_topology(EXAMPLE))["windows"]["scada-dmz.ps1"]
    assert rendered.encode() == GOLDEN.read_bytes()


def test_scripts_are_one_rule_a_line_in_the_documented_order() -> None:
    text = (SCRIPTS / "scada-dmz.ps1").read_text()
    rules = [line for line in text.splitlines() if line.startswith("New-NetFirewallRule")]
    assert len(rules) == 6  # 4 inbound allows, 2 outbound blocks
    order = ["Name", "DisplayName", "Description", "Group", "Direction", "Action", "Protocol"]
    for line in rules:
        named = re.findall(r" -([A-Za-z]+) ", line + " ")
        assert named[:7] == order
        assert named[-1] == "PolicyStore"
    assert text.index("param(") < text.index("Remove-NetFirewallRule") < text.index(rules[0])


def test_the_ports_baseline_lists_every_listening_port_with_its_purpose() -> None:
    result = run_cli("flows", EXAMPLE, "--format", "ports")
    assert result.code == 0
    lines = result.out.splitlines()
    assert lines[0] == "server,protocol,port,sources,purpose"
    rows = [line.split(",", 4) for line in lines[1:]]
    # every inbound flow of the domain's tables, server by server (tests/domain.py)
    assert ["scada-dmz", "tcp", "443", "172.16.0.0/16"] in [r[:4] for r in rows]
    assert ["scada-dmz", "icmp", "8", "192.168.10.10/32 192.168.10.11/32"] in [
        r[:4] for r in rows]
    assert not [r for r in rows if r[0] == "scada-a" and "10.30.9.10/32" in r[3]]  # no DMZ
    assert all(re.search(r"\((item \d|KB \d+|20\d\d help)\)", r[4]) for r in rows), rows
    baseline = (SCRIPTS / "ports-and-services.md").read_text()
    assert "| scada-dmz | tcp | 443 | 172.16.0.0/16 |" in baseline


# Random topologies, every server with addresses and a host firewall

@st.composite
def hosted(draw: st.DrawFn) -> dict[str, Any]:
    doc = draw(topologies_v2())
    for i, server in enumerate(doc["servers"]):
        server.setdefault("addresses", [f"10.{i}.0.10"])
    if "networks" in doc:
        names = sorted(doc["networks"])
        chosen = draw(st.lists(st.sampled_from(names), min_size=1, unique=True))
        for name in chosen:
            doc["networks"][name]["host_firewall"] = True
    else:
        doc["targets"] = [*doc["targets"], "windows"]
    return doc


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(doc=hosted())
def test_random_topologies_give_hosts_exactly_what_the_domain_names(
        doc: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> None:
    folder = tmp_path_factory.mktemp("hosts")
    path = folder / "topology.yaml"
    path.write_text(yaml.safe_dump(doc))
    system = load_topology(path)
    write_modules(folder / "modules", {Path(system.name) / k: v
                                       for k, v in render_system(system).items()
                                       if k == "windows"})
    reports = windows_reports(path, folder / "modules")
    hosts = {n for n, v in doc.get("networks", {}).items() if v.get("host_firewall")}
    expected = {s["name"] for s in doc["servers"] if "networks" not in doc
                or s["network"] in hosts}
    assert {j.link.server for r in reports for j in r.classes} == expected
    if expected:  # a network with `host_firewall` may hold no server: then no scripts
        check_against_domain(reports, doc)
