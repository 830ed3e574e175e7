"""The NSG evaluator on small hand-written modules. Rule names say the expected outcome:
`allow_*` rules must be the ones that let a flow through, `deny_*` the ones that stop it."""

from __future__ import annotations

import ipaddress
from pathlib import Path

import pytest

from generator.judge.addresses import PRIVATE, AddressSet
from generator.judge.azure import azure_sides
from generator.judge.rules import Query
from generator.judge.sides import Link
from generator.model import Role, Server
from generator.sources.azure_module import build_nsgs
from generator.sources.hcl_module import read_module
from tests.judged import decide_pair

A = Server("a", Role.MAIN, (ipaddress.ip_address("10.0.1.4"),))
B = Server("b", Role.STANDBY, (ipaddress.ip_address("10.0.2.4"),))
C = Server("c", Role.PERMANENT_STANDBY, (ipaddress.ip_address("10.0.3.4"),))
TCP = Query("tcp", (5481, 5481), (49152, 65535))
ICMP = Query("icmp", (8, 8), (0, 0))

HEAD = """
resource "azurerm_application_security_group" "x" {
  name = "x"
}
resource "azurerm_network_security_group" "nb" {
  name = "nb"
}
resource "azurerm_network_interface_application_security_group_association" "a" {
  for_each                      = { for i, id in lookup(var.network_interface_ids, "a", []) : tostring(i) => id }
  application_security_group_id = azurerm_application_security_group.x.id
}
resource "azurerm_network_interface_security_group_association" "b" {
  for_each                  = { for i, id in lookup(var.network_interface_ids, "b", []) : tostring(i) => id }
  network_security_group_id = azurerm_network_security_group.nb.id
}
"""


def rule(name: str, priority: int, access: str, *, protocol: str = "Tcp", port: str = "5481",
         source: str = 'source_address_prefix = "*"', direction: str = "Inbound") -> str:
    return f"""
resource "azurerm_network_security_rule" "{name}" {{
  name                        = "{name}"
  network_security_group_name = azurerm_network_security_group.nb.name
  priority                    = {priority}
  direction                   = "{direction}"
  access                      = "{access}"
  protocol                    = "{protocol}"
  source_port_range           = "*"
  destination_port_range      = "{port}"
  {source}
  destination_address_prefix  = "*"
}}
"""


def decide(tmp_path: Path, *rules: str, src: Server = A, dst: Server = B,
           service: Query = TCP, extra: str = "") -> tuple[bool, str]:
    (tmp_path / "main.tf").write_text(HEAD + extra + "".join(rules))
    state = build_nsgs(read_module(tmp_path))
    assert not state.problems, state.problems
    links = {s.name: Link(s.name, s.addresses[0]) for s in (A, B, C)}
    sides, undecided = azure_sides(state, [(k, AddressSet.of(k.address))
                                           for k in links.values()], PRIVATE)
    assert not undecided, undecided
    return decide_pair(sides, links[src.name], links[dst.name], service)


def test_lower_priority_number_wins(tmp_path: Path) -> None:
    allowed, because = decide(tmp_path, rule("allow_later", 160, "Allow"),
                              rule("deny_first", 150, "Deny"))
    assert not allowed
    assert "deny_first (Deny, 150)" in because


def test_first_match_stops_evaluation(tmp_path: Path) -> None:
    allowed, because = decide(tmp_path, rule("allow_first", 150, "Allow"),
                              rule("deny_later", 160, "Deny"))
    assert allowed
    assert "allow_first" in because


def test_asg_membership_decides(tmp_path: Path) -> None:
    asg = "source_application_security_group_ids = [azurerm_application_security_group.x.id]"
    rules = (rule("allow_from_asg_x", 200, "Allow", source=asg), rule("deny_rest", 4000, "Deny"))
    allowed, because = decide(tmp_path, *rules)  # a is in x
    assert allowed
    assert "allow_from_asg_x" in because
    allowed, because = decide(tmp_path, *rules, src=C)  # c is not
    assert not allowed
    assert "deny_rest" in because


def test_default_allow_vnet_inbound_admits_what_no_rule_names(tmp_path: Path) -> None:
    allowed, because = decide(tmp_path)
    assert allowed
    assert "AllowVNetInBound" in because


def test_internet_tag_matches_no_server(tmp_path: Path) -> None:
    allowed, because = decide(tmp_path, rule(
        "deny_internet", 100, "Deny", source='source_address_prefix = "Internet"'))
    assert allowed
    assert "AllowVNetInBound" in because


def test_virtual_network_tag_matches_every_server(tmp_path: Path) -> None:
    allowed, because = decide(tmp_path, rule(
        "deny_vnet", 100, "Deny", source='source_address_prefix = "VirtualNetwork"'))
    assert not allowed
    assert "deny_vnet" in because


def test_cidr_matches_the_servers_address(tmp_path: Path) -> None:
    cidr = rule("deny_cidr_of_a", 100, "Deny", source='source_address_prefix = "10.0.1.0/24"')
    assert not decide(tmp_path, cidr)[0]
    assert decide(tmp_path, cidr, src=C)[0]


def test_port_ranges_and_other_ports(tmp_path: Path) -> None:
    assert not decide(tmp_path, rule("deny_range", 100, "Deny", port="5000-6000"))[0]
    assert decide(tmp_path, rule("deny_other_port", 100, "Deny", port="5482"))[0]


def test_icmp_rules_ignore_ports_and_tcp_rules_ignore_icmp(tmp_path: Path) -> None:
    assert not decide(tmp_path, rule("deny_icmp", 100, "Deny", protocol="Icmp", port="5481"),
                      service=ICMP)[0]
    assert decide(tmp_path, rule("deny_tcp", 100, "Deny"), service=ICMP)[0]
    assert not decide(tmp_path, rule("deny_any", 100, "Deny", protocol="*"), service=ICMP)[0]


def test_outbound_rules_of_the_source_apply(tmp_path: Path) -> None:
    nic_a = """
resource "azurerm_network_interface_security_group_association" "a" {
  for_each                  = { for i, id in lookup(var.network_interface_ids, "a", []) : tostring(i) => id }
  network_security_group_id = azurerm_network_security_group.nb.id
}
"""
    allowed, because = decide(tmp_path, rule("deny_out", 100, "Deny", direction="Outbound"),
                              extra=nic_a)
    assert not allowed
    assert "deny_out" in because


def test_subnet_and_nic_nsgs_must_both_allow(tmp_path: Path) -> None:
    subnet = """
resource "azurerm_network_security_group" "subnet" {
  name = "subnet"
}
resource "azurerm_subnet_network_security_group_association" "s" {
  network_security_group_id = azurerm_network_security_group.subnet.id
}
resource "azurerm_network_security_rule" "deny_in_subnet" {
  name                        = "deny_in_subnet"
  network_security_group_name = azurerm_network_security_group.subnet.name
  priority                    = 100
  direction                   = "Inbound"
  access                      = "Deny"
  protocol                    = "Tcp"
  source_port_range           = "*"
  destination_port_range      = "*"
  source_address_prefix       = "*"
  destination_address_prefix  = "*"
}
"""
    allowed, because = decide(tmp_path, rule("allow_on_nic", 100, "Allow"), extra=subnet)
    assert not allowed
    assert "deny_in_subnet" in because


def test_no_nsg_at_all_passes_everything(tmp_path: Path) -> None:
    (tmp_path / "main.tf").write_text('resource "azurerm_application_security_group" "x" {\n'
                                      '  name = "x"\n}\n')
    state = build_nsgs(read_module(tmp_path))
    a, c = Link("a", A.addresses[0]), Link("c", C.addresses[0])
    sides, _ = azure_sides(state, [(a, AddressSet.of(a.address)), (c, AddressSet.of(c.address))],
                           PRIVATE)
    assert decide_pair(sides, a, c, TCP) == (True, "")


@pytest.mark.parametrize(("rules", "problem"), [
    ((rule("bad_low", 99, "Allow"),), "priority 99 is outside 100-4096"),
    ((rule("bad_high", 4097, "Allow"),), "priority 4097 is outside 100-4096"),
    ((rule("one", 300, "Allow"), rule("two", 300, "Deny")), "priority 300 Inbound is also used"),
])
def test_constraints_the_models_do_not_check(tmp_path: Path, rules: tuple[str, ...],
                                             problem: str) -> None:
    (tmp_path / "main.tf").write_text(HEAD + "".join(rules))
    problems = build_nsgs(read_module(tmp_path)).problems
    assert any(problem in p for p in problems), problems


def test_same_priority_in_both_directions_is_fine(tmp_path: Path) -> None:
    (tmp_path / "main.tf").write_text(HEAD + rule("allow_in", 300, "Allow") +
                                      rule("allow_out", 300, "Allow", direction="Outbound"))
    assert build_nsgs(read_module(tmp_path)).problems == []
