"""The emitted modules, evaluated in moto (AWS) and by the NSG evaluator (Azure), against the
flow matrix of docs/geo-scada.md as transcribed in tests/domain.py (not generator/intent)."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from generator.checks.report import Report
from generator.intent.flows import group_flows
from generator.judge.sides import Judged
from generator.model import DEFAULT_PORT, Target
from generator.topology import load_topology
from tests.conftest import EXAMPLES, ROOT, resources, run_cli, topology_text
from tests.domain import DMZ, GROUP_OF, PERMANENT, REDUNDANT, domain_allows
from tests.judged import differences, reaches, verified
from tests.strategies import topologies

TARGETS = [Target.AWS, Target.AZURE]


@cache
def evaluated(example: Path, target: Target) -> tuple[dict[str, str], list[Report], int]:
    """Role per server, the committed module of `target` judged, and the server port."""
    system = load_topology(example)
    roles = {s.name: s.role.value for s in system.servers}
    reports = [r for r in verified(example, ROOT / "modules") if r.target == target.value]
    return roles, reports, system.port


def passes(example: Path, target: Target, src: str, dst: str, service: str) -> bool:
    _, reports, port = evaluated(example, target)
    protocol, number = {"tcp": ("tcp", port), "icmp": ("icmp", 8),
                        "icmpv6": ("icmpv6", 128)}[service]
    return reaches(reports, src, dst, protocol, number)


def outbound_exact(target: Target, port: int) -> Callable[[Judged], bool]:
    """AWS: the module's groups are all an interface has in verify. Azure: the server port and
    ICMP, which the module's NSGs deny to anything not allowed above."""
    if target is Target.AWS:
        return lambda _: True
    return lambda j: j.query.protocol != "tcp" or j.query.ports == (port, port)


# examples with one module per target; those with `networks` are judged in test_networks.py
BY_TARGET = [e for e in EXAMPLES if not load_topology(e).networks]
DMZ_EXAMPLE = ROOT / "examples" / "dmz.yaml"
TRIPLE_EXAMPLE = ROOT / "examples" / "triple-standby-dr.yaml"


@pytest.mark.parametrize("target", TARGETS, ids=lambda t: t.value)
@pytest.mark.parametrize("example", BY_TARGET, ids=lambda p: p.stem)
def test_every_pair_matches_the_domain_matrix(example: Path, target: Target) -> None:
    roles, reports, _ = evaluated(example, target)
    assert reports
    assert all(r.classes for r in reports)
    wrong = [(a, b, service) for a in roles for b in roles if a != b
             for service in ("tcp", "icmp")
             if passes(example, target, a, b, service) != domain_allows(roles[a], roles[b])]
    assert not wrong


@pytest.mark.parametrize("target", TARGETS, ids=lambda t: t.value)
@pytest.mark.parametrize("example", BY_TARGET, ids=lambda p: p.stem)
def test_every_side_admits_exactly_what_the_domain_names(example: Path, target: Target) -> None:
    """Every address of every server, inbound and outbound, every protocol and port the
    system uses: the admitted set equals tests/domain.py's, to the last address."""
    _, reports, port = evaluated(example, target)
    doc = yaml.safe_load(example.read_text())
    assert differences(reports, doc, outbound_exact(target, port)) == []
    assert all(r.ok for r in reports), [str(f) for r in reports for f in r.failures]


@pytest.mark.parametrize("target", TARGETS, ids=lambda t: t.value)
def test_dmz_standby_never_initiates(target: Target) -> None:
    roles, _, _ = evaluated(DMZ_EXAMPLE, target)
    assert DMZ in roles.values()
    dmz = next(n for n, r in roles.items() if r == DMZ)
    assert not [b for b in roles for service in ("tcp", "icmp")
                if b != dmz and passes(DMZ_EXAMPLE, target, dmz, b, service)]


@pytest.mark.parametrize("target", TARGETS, ids=lambda t: t.value)
def test_every_redundant_server_may_reach_the_dmz_standby(target: Target) -> None:
    roles, _, _ = evaluated(DMZ_EXAMPLE, target)
    dmz = next(n for n, r in roles.items() if r == DMZ)
    senders = [n for n, r in roles.items() if r in REDUNDANT]
    assert len(senders) == 2  # the standby too
    assert all(passes(DMZ_EXAMPLE, target, s, dmz, service) for s in senders
               for service in ("tcp", "icmp"))


@pytest.mark.parametrize("target", TARGETS, ids=lambda t: t.value)
def test_permanent_standbys_do_not_talk_to_each_other(target: Target) -> None:
    roles, _, _ = evaluated(TRIPLE_EXAMPLE, target)
    permanent = [n for n, r in roles.items() if r == PERMANENT]
    assert len(permanent) == 3
    assert not [(a, b) for a in permanent for b in permanent if a != b
                for service in ("tcp", "icmp", "icmpv6")
                if passes(TRIPLE_EXAMPLE, target, a, b, service)]


@pytest.mark.parametrize("target", TARGETS, ids=lambda t: t.value)
def test_permanent_standby_reaches_every_redundant_server(target: Target) -> None:
    roles, _, _ = evaluated(TRIPLE_EXAMPLE, target)
    up = [(p, r) for p, rp in roles.items() if rp == PERMANENT
          for r, rr in roles.items() if rr in REDUNDANT]
    assert {r for _, r in up} == {"scada-1", "scada-2", "scada-3"}
    assert all(passes(TRIPLE_EXAMPLE, target, p, r, "tcp") for p, r in up)


@pytest.mark.parametrize("target", TARGETS, ids=lambda t: t.value)
def test_standbys_reach_each_other_as_well_as_the_main(target: Target) -> None:
    # after a failover a standby is the Main: standby <-> standby must pass too
    assert passes(TRIPLE_EXAMPLE, target, "scada-2", "scada-3", "tcp")
    assert passes(TRIPLE_EXAMPLE, target, "scada-3", "scada-2", "icmp")
    assert passes(TRIPLE_EXAMPLE, target, "scada-2", "scada-1", "tcp")


def test_icmpv6_echo_only_between_dual_stack_servers() -> None:
    assert passes(TRIPLE_EXAMPLE, Target.AWS, "scada-1", "dr-1", "icmpv6")
    assert passes(TRIPLE_EXAMPLE, Target.AWS, "dr-1", "scada-2", "icmpv6")
    assert not passes(TRIPLE_EXAMPLE, Target.AWS, "scada-1", "dr-2", "icmpv6")  # no IPv6


def test_main_is_not_special(write_topology: Callable[..., Path],
                             generate: Callable[[Path], Path]) -> None:
    """Swapping which server is named main changes no rule: Main is a run-time state."""
    first = generate(write_topology(topology_text(servers=[
        ("scada-a", "main"), ("scada-b", "standby"), ("dr", "permanent_standby")])))
    second = generate(write_topology(topology_text(servers=[
        ("scada-a", "standby"), ("scada-b", "main"), ("dr", "permanent_standby")])))
    for target in ("aws", "azure"):
        a = resources(first / "plant-x" / target / "main.tf")
        b = resources(second / "plant-x" / target / "main.tf")
        assert a == b


@pytest.mark.parametrize("port", [1, 443, 5481, 20000, 65535])
def test_custom_port_in_every_rule(port: int, write_topology: Callable[..., Path],
                                   generate: Callable[[Path], Path]) -> None:
    out = generate(write_topology(topology_text(port=port, servers=[
        ("scada-a", "main"), ("scada-b", "standby"), ("dr", "permanent_standby"),
        ("dmz", "dmz_permanent_standby")])))
    aws = resources(out / "plant-x" / "aws" / "main.tf")
    tcp_rules = [a for t, named in aws.items() if t.startswith("aws_vpc_security_group_")
                 for a in named.values() if a["ip_protocol"] == "tcp"]
    assert len(tcp_rules) == 8  # R->R, R->P, R->D, P->R, each an ingress and an egress rule
    assert all(r["from_port"] == port and r["to_port"] == port for r in tcp_rules)
    azure = resources(out / "plant-x" / "azure" / "main.tf")["azurerm_network_security_rule"]
    tcp = [a for a in azure.values() if a["protocol"] == "Tcp"]
    assert tcp
    assert all(a["destination_port_range"] == str(port) for a in tcp)
    assert all(str(port) in a["description"] for a in tcp)


def test_standalone_main_gets_no_self_rule(write_topology: Callable[..., Path],
                                           generate: Callable[[Path], Path]) -> None:
    out = generate(write_topology(topology_text(servers=[
        ("solo", "main"), ("dmz", "dmz_permanent_standby")])))
    aws = resources(out / "plant-x" / "aws" / "main.tf")
    ingress = set(aws["aws_vpc_security_group_ingress_rule"])
    assert ingress == {"dmz_permanent_standby_from_redundant_tcp_5481",
                       "dmz_permanent_standby_from_redundant_icmp"}


@pytest.mark.parametrize("example", BY_TARGET, ids=lambda p: p.stem)
def test_aws_rules_are_the_minimum_for_the_flows(example: Path) -> None:
    """One rule per distinct (source group, destination group, service) and direction, where
    the distinct triples come from the docs/geo-scada.md matrix applied to the servers."""
    doc = load_topology(example)
    group = {"main": "redundant", "standby": "redundant"}
    needed = set()
    for a in doc.servers:
        for b in doc.servers:
            if a.name != b.name and domain_allows(a.role.value, b.role.value):
                services = ["tcp", "icmp"] + (["icmpv6"] if a.has_ipv6 and b.has_ipv6 else [])
                for service in services:
                    needed.add((group.get(a.role.value, a.role.value),
                                group.get(b.role.value, b.role.value), service))
    aws = resources(ROOT / "modules" / doc.name / "aws" / "main.tf")
    emitted = [n for t in ("aws_vpc_security_group_ingress_rule",
                           "aws_vpc_security_group_egress_rule")
               for n, attrs in aws.get(t, {}).items() if "referenced_security_group_id" in attrs]
    assert len(emitted) == 2 * len(needed)


def test_generate_refuses_a_topology_over_a_quota(monkeypatch: pytest.MonkeyPatch,
                                                  tmp_path: Path) -> None:
    from generator.targets import aws  # noqa: PLC0415

    monkeypatch.setattr(aws, "RULES_PER_GROUP_AND_DIRECTION", 3)
    monkeypatch.setenv("SCADAFW_CACHE", "off")  # a cached render would skip the quota check
    example = ROOT / "examples" / "dmz.yaml"
    result = run_cli("generate", example, "--out", tmp_path / "out")
    assert result.code == 2
    assert ("aws module aws: security group plant-north-redundant ingress rules (IPv4 and IPv6 "
            "each): 4 exceed the quota of 3") in result.err
    assert not (tmp_path / "out").exists()


def test_quotas_count_what_each_placed_module_writes() -> None:
    """Partners in another VPC are named by address in each VPC's module: their rules count
    there (two-vpc: 2 egress rules in the control VPC, 4 ingress rules in the DMZ VPC)."""
    from generator.targets.quotas import usage  # noqa: PLC0415

    found = {(u.module, u.scope): u.used for u in usage(load_topology(
        ROOT / "examples" / "two-vpc.yaml"))}
    # refs to the redundant group itself (tcp, icmp) + the DMZ standby's address (tcp, icmp)
    assert found[("control-vpc", "security group harbour-redundant egress rules (IPv4)")] == 4
    # scada-a and scada-b by address (tcp, icmp each) + corporate web users
    assert found[("dmz-vpc", "security group harbour-dmz-permanent-standby ingress rules "
                             "(IPv4)")] == 5


def test_an_nsg_with_more_than_4000_prefixes_is_refused(tmp_path: Path) -> None:
    lines = ["version: 2", "system: plant-x", "targets: [azure]", "servers:",
             "  - {name: scada-a, role: main, addresses: [10.10.1.10]}", "clients:"]
    lines += [f"  - {{name: c{i}, services: [viewx], sources: ["
              + ", ".join(f"10.{100 + i}.{j // 250}.{j % 250 + 1}" for j in range(450)) + "]}"
              for i in range(10)]
    path = tmp_path / "many.yaml"
    path.write_text("\n".join(lines) + "\n")
    result = run_cli("generate", path, "--out", tmp_path / "out")
    assert result.code == 2
    assert ("azure module azure: NSG plant-x-redundant-nsg address prefixes: 4500 exceed the "
            "quota of 4000") in result.err
    assert run_cli("flows", path, "--format", "json").code == 2  # no headroom reported


def _group_flows_by_the_matrix(doc: dict[str, Any]) -> set[tuple[str, str, str]]:
    """(from group, to group, service) wherever docs/geo-scada.md gives two distinct servers
    of the file the flow: TCP and ICMP echo by the matrix, ICMPv6 echo where both also have
    an IPv6 address."""
    servers = doc["servers"]
    found = set()
    for a in servers:
        for b in servers:
            if a["name"] == b["name"] or not domain_allows(a["role"], b["role"]):
                continue
            pair = (GROUP_OF[a["role"]], GROUP_OF[b["role"]])
            found |= {(*pair, "tcp"), (*pair, "icmp")}
            if all(":" in " ".join(s.get("addresses", [])) for s in (a, b)):
                found.add((*pair, "icmpv6"))
    return found


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(docs=st.lists(topologies(), min_size=2, max_size=8))
def test_systems_of_one_shape_share_flows_and_only_theirs(docs: list[dict[str, Any]],
                                                          tmp_path: Path) -> None:
    """Flows between role groups are worked out once per shape of system (intent/flows.py):
    read one after another in one process, every system still gets exactly the flows the
    matrix gives its own servers, on its own port."""
    for doc in docs:
        path = tmp_path / "topology.yaml"
        path.write_text(yaml.safe_dump(doc))
        system = load_topology(path)
        flows = group_flows(system)
        assert {(*(g.value for g in f.groups), f.service) for f in flows} == \
            _group_flows_by_the_matrix(doc)
        port = doc.get("port", DEFAULT_PORT)
        assert all(f.ports == ((port, port),) for f in flows if f.service == "tcp")
