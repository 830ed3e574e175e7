"""The emitted modules, evaluated in moto (AWS) and by the NSG evaluator (Azure), against the
flow matrix of DOMAIN.md as transcribed in tests/domain.py (not generator/policy.py)."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from pathlib import Path

import pytest

from generator.model import Target
from generator.topology import load_topology
from generator.verify.reachability import Check
from generator.verify.report import verify_target
from tests.conftest import EXAMPLES, ROOT, resources, run_cli, topology_text
from tests.domain import DMZ, PERMANENT, REDUNDANT, domain_allows

TARGETS = [Target.AWS, Target.AZURE]


@cache
def evaluated(example: Path, target: Target) -> tuple[dict[str, str], tuple[Check, ...]]:
    """Role per server, and the actual reachability of the committed modules."""
    system = load_topology(example)
    roles = {s.name: s.role.value for s in system.servers}
    report = verify_target(system, target, ROOT / "modules")
    return roles, tuple(report.checks)


def actual(example: Path, target: Target) -> dict[tuple[str, str, str], bool]:
    _, checks = evaluated(example, target)
    return {(c.source, c.destination, c.service): c.actual for c in checks}


# examples with one module per target; those with `networks` are judged in test_networks.py
BY_TARGET = [e for e in EXAMPLES if not load_topology(e).networks]
DMZ_EXAMPLE = ROOT / "examples" / "dmz.yaml"
TRIPLE_EXAMPLE = ROOT / "examples" / "triple-standby-dr.yaml"


@pytest.mark.parametrize("target", TARGETS, ids=lambda t: t.value)
@pytest.mark.parametrize("example", BY_TARGET, ids=lambda p: p.stem)
def test_every_pair_matches_the_domain_matrix(example: Path, target: Target) -> None:
    roles, checks = evaluated(example, target)
    assert checks, "no pair was evaluated"
    pairs = [c for c in checks if c.source in roles and c.destination in roles]
    wrong = [c for c in pairs
             if c.actual != domain_allows(roles[c.source], roles[c.destination])]
    assert not wrong, "\n".join(f"{c.source} -> {c.destination} {c.service}: {c.because}"
                                for c in wrong)


@pytest.mark.parametrize("target", TARGETS, ids=lambda t: t.value)
def test_dmz_standby_never_initiates(target: Target) -> None:
    roles, checks = evaluated(DMZ_EXAMPLE, target)
    from_dmz = [c for c in checks if roles[c.source] == DMZ]
    assert from_dmz, "the example has a DMZ standby"
    assert not [c for c in from_dmz if c.actual]


@pytest.mark.parametrize("target", TARGETS, ids=lambda t: t.value)
def test_every_redundant_server_may_reach_the_dmz_standby(target: Target) -> None:
    roles, checks = evaluated(DMZ_EXAMPLE, target)
    to_dmz = [c for c in checks if roles[c.destination] == DMZ and roles[c.source] in REDUNDANT]
    senders = {c.source for c in to_dmz}
    assert senders == {n for n, r in roles.items() if r in REDUNDANT}  # the standby too
    assert all(c.actual for c in to_dmz)


@pytest.mark.parametrize("target", TARGETS, ids=lambda t: t.value)
def test_permanent_standbys_do_not_talk_to_each_other(target: Target) -> None:
    roles, checks = evaluated(TRIPLE_EXAMPLE, target)
    between = [c for c in checks if roles[c.source] == roles[c.destination] == PERMANENT]
    assert len(between) >= 6  # three permanent standbys: six ordered pairs, two services each
    assert not [c for c in between if c.actual]


@pytest.mark.parametrize("target", TARGETS, ids=lambda t: t.value)
def test_permanent_standby_reaches_every_redundant_server(target: Target) -> None:
    roles, checks = evaluated(TRIPLE_EXAMPLE, target)
    up = [c for c in checks if roles[c.source] == PERMANENT and roles[c.destination] in REDUNDANT]
    assert {c.destination for c in up} == {"scada-1", "scada-2", "scada-3"}
    assert all(c.actual for c in up)


@pytest.mark.parametrize("target", TARGETS, ids=lambda t: t.value)
def test_standbys_reach_each_other_as_well_as_the_main(target: Target) -> None:
    # after a failover a standby is the Main: standby <-> standby must pass too
    flows = actual(TRIPLE_EXAMPLE, target)
    assert flows[("scada-2", "scada-3", "TCP 5482")]
    assert flows[("scada-3", "scada-2", "ICMP echo request")]
    assert flows[("scada-2", "scada-1", "TCP 5482")]


def test_icmpv6_echo_only_between_dual_stack_servers() -> None:
    flows = actual(TRIPLE_EXAMPLE, Target.AWS)
    assert flows[("scada-1", "dr-1", "ICMPv6 echo request")]
    assert flows[("dr-1", "scada-2", "ICMPv6 echo request")]
    assert ("scada-1", "dr-2", "ICMPv6 echo request") not in flows  # dr-2 has no IPv6


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
    assert ingress == {"dmz_permanent_standby_from_redundant_tcp",
                       "dmz_permanent_standby_from_redundant_icmp"}


@pytest.mark.parametrize("example", BY_TARGET, ids=lambda p: p.stem)
def test_aws_rules_are_the_minimum_for_the_flows(example: Path) -> None:
    """One rule per distinct (source group, destination group, service) and direction, where
    the distinct triples come from the DOMAIN.md matrix applied to the servers."""
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
    from generator import quotas  # noqa: PLC0415

    monkeypatch.setattr(quotas, "AWS_RULES_PER_GROUP_AND_DIRECTION", 3)
    monkeypatch.setenv("SCADAFW_CACHE", "off")  # a cached render would skip the quota check
    example = ROOT / "examples" / "dmz.yaml"
    result = run_cli("generate", example, "--out", tmp_path / "out")
    assert result.code == 2
    assert ("aws: security group plant-north-redundant ingress rules (IPv4 and IPv6 each): "
            "4 rules exceed the quota of 3") in result.err
    assert not (tmp_path / "out").exists()
