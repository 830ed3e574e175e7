"""Exact by sets: verify finds a hole wherever one is, whole, and nothing where there is none.

The oracle is tests/domain.py's own transcription of the flow tables, computed with netaddr:
never generator/intent or the judge's sets.
"""

from __future__ import annotations

import ipaddress
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
from generator.targets.placement import placements
from generator.topology import load_topology
from tests.conftest import EXAMPLES, ROOT, resources
from tests.domain import GROUP_OF, expected_peers

BY_TARGET = [e for e in EXAMPLES if not load_topology(e).networks]


def azure_modules() -> list[tuple[Path, str, str]]:
    """(example, module folder, deny resource) for every deny of every Azure module."""
    found = []
    for example in EXAMPLES:
        system = load_topology(example)
        for placed in placements(system):
            if placed.target.value != "azure":
                continue
            main = ROOT / "modules" / system.name / placed.folder / "main.tf"
            for name, rule in resources(main)["azurerm_network_security_rule"].items():
                if rule["access"] == "Deny":
                    found.append((example, placed.folder, name))
    return found


@pytest.mark.parametrize(("example", "folder", "deny"), azure_modules(),
                         ids=lambda v: v.stem if isinstance(v, Path) else v)
def test_removing_any_one_azure_deny_is_caught(example: Path, folder: str, deny: str,
                                               tmp_path: Path) -> None:
    system = load_topology(example)
    copy = tmp_path / system.name / folder
    shutil.copytree(ROOT / "modules" / system.name / folder, copy)
    main = copy / "main.tf"
    text, count = re.subn(rf'\nresource "azurerm_network_security_rule" "{deny}" {{\n.*?\n}}\n',
                          "\n", main.read_text(), flags=re.DOTALL)
    assert count == 1
    main.write_text(text)
    (placed,) = [p for p in placements(system) if p.folder == folder]
    report = verify_module(placed.view, folder, placed.target, tmp_path)
    assert not report.ok
    assert {f.code for f in report.failures} == {"forbidden"}


def test_there_is_a_deny_to_remove_in_every_azure_module() -> None:
    assert len({(e, f) for e, f, _ in azure_modules()}) == 5  # dr-vnet for hybrid-dr


# One allow rule, anywhere, with a random prefix, protocol and port


def _scope(doc: dict[str, Any]) -> dict[str, set[int]]:
    """The ports the system uses, from the file itself (docs: "Scope")."""
    port = doc.get("port", 5481)
    tcp, udp = {port}, set()
    services = {s for c in doc.get("clients", []) for s in c["services"]}
    if "web" in services:
        tcp |= set(doc.get("web_ports", [443]))
    if "advise" in services:
        low, _, high = str(doc.get("advise_ports", "5500-5509")).partition("-")
        tcp |= set(range(int(low), int(high or low) + 1))
    for station in doc.get("outstations", []):
        ports = set(station["ports"]) | set(station.get("listen_ports", []))
        (tcp if station["protocol"] == "tcp" else udp).update(ports)
    return {"tcp": tcp, "udp": udp, "icmp": {8}}


def _near(doc: dict[str, Any]) -> list[int]:
    """Ports in and around the system's services."""
    used = set().union(*_scope(doc).values()) - {8}
    return sorted({p + d for p in used for d in (-1, 0, 1)} | {22, 3389})


@st.composite
def mutations(draw: st.DrawFn) -> dict[str, Any]:
    example = draw(st.sampled_from(BY_TARGET))
    doc = yaml.safe_load(example.read_text())
    target = draw(st.sampled_from(["aws", "azure"]))
    groups = sorted({GROUP_OF[s["role"]] for s in doc["servers"]})
    protocol = draw(st.sampled_from(["tcp", "tcp", "udp", "icmp"]))
    used = sorted(_scope(doc)[protocol]) or [5481]
    port = 8 if protocol == "icmp" else draw(st.one_of(
        st.sampled_from(used), st.sampled_from(used), st.sampled_from(_near(doc))))
    base = draw(st.sampled_from(["10.0.0.0", "172.16.0.0", "192.168.0.0", "0.0.0.0",
                                 *(a for s in doc["servers"] for a in s.get("addresses", [])
                                   if ":" not in a)]))
    length = draw(st.integers(0 if base == "0.0.0.0" else 8, 32))
    shift = draw(st.integers(0, 2**16))
    network = ipaddress.ip_network((int(ipaddress.ip_address(base)) + shift, length),
                                   strict=False)
    return {"example": example, "doc": doc, "target": target, "group": draw(
        st.sampled_from(groups)), "inbound": draw(st.booleans()), "protocol": protocol,
            "port": port, "network": str(network)}


def _aws_rule(m: dict[str, Any]) -> str:
    kind = "ingress" if m["inbound"] else "egress"
    low, high = (8, -1) if m["protocol"] == "icmp" else (m["port"], m["port"])
    return f'''
resource "aws_vpc_security_group_{kind}_rule" "added" {{
  security_group_id = aws_security_group.{m["group"]}.id
  cidr_ipv4         = "{m["network"]}"
  ip_protocol       = "{m["protocol"]}"
  from_port         = {low}
  to_port           = {high}
}}
'''


def _azure_rule(m: dict[str, Any]) -> str:
    direction = "Inbound" if m["inbound"] else "Outbound"
    ends = (f'source_address_prefix = "{m["network"]}"\n  destination_address_prefix = "*"'
            if m["inbound"] else
            f'source_address_prefix = "*"\n  destination_address_prefix = "{m["network"]}"')
    port = "*" if m["protocol"] == "icmp" else str(m["port"])
    return f'''
resource "azurerm_network_security_rule" "added" {{
  name                        = "added"
  resource_group_name         = var.resource_group_name
  network_security_group_name = azurerm_network_security_group.{m["group"]}.name
  priority                    = 100
  direction                   = "{direction}"
  access                      = "Allow"
  protocol                    = "{m["protocol"].capitalize()}"
  source_port_range           = "*"
  destination_port_range      = "{port}"
  {ends}
}}
'''


def _expected_extra(m: dict[str, Any], address: str, server: str) -> IPSet:
    """What the added rule lets through on one server address that the tables do not name,
    within scope: empty where the port is not one the system uses, or where the module does not
    own that egress (Azure: only the server port and ICMP are denied to anything)."""
    doc = m["doc"]
    if m["port"] not in _scope(doc)[m["protocol"]] or ":" in address:
        return IPSet()
    if m["target"] == "azure" and not m["inbound"] and m["protocol"] != "icmp" \
            and m["port"] != doc.get("port", 5481):
        return IPSet()
    links = {s["name"]: s.get("addresses", []) for s in doc["servers"]}
    named = expected_peers(doc, links, server, m["protocol"], m["port"], m["inbound"])
    return IPSet([m["network"]]) - named - IPSet(links[server])


def _found(report: Report, address: str, m: dict[str, Any]) -> IPSet:
    """The forbidden prefixes verify names on one server address, side and port."""
    way = "inbound" if m["inbound"] else "outbound"
    found = IPSet()
    for f in report.failures:
        if f.code == "forbidden" and f.place.startswith(f"{f.place.split(':')[0]}:{address} "
                                                        f"{way} "):
            label = f.place.split(f" {way} ", 1)[1]
            if _covers(label, m):
                found |= IPSet(list(f.peers))
    return found


def _covers(label: str, m: dict[str, Any]) -> bool:
    if m["protocol"] == "icmp":
        return label.startswith("ICMP echo")
    if not label.startswith(m["protocol"].upper() + " "):
        return False
    for part in label.split(" ", 1)[1].split(", "):
        low, _, high = part.partition("-")
        if int(low) <= m["port"] <= int(high or low):
            return True
    return False


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(m=mutations())
def test_one_added_allow_rule_is_caught_exactly_when_it_opens_something(
        m: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> None:
    modules = tmp_path_factory.mktemp("exact")
    system = load_topology(m["example"])
    folder = modules / system.name / m["target"]
    shutil.copytree(ROOT / "modules" / system.name / m["target"], folder)
    main = folder / "main.tf"
    main.write_text(main.read_text() + (_aws_rule(m) if m["target"] == "aws"
                                        else _azure_rule(m)))
    (placed,) = [p for p in placements(system) if p.folder == m["target"]]
    report = verify_module(placed.view, m["target"], placed.target, modules)
    members = [(s["name"], a) for s in m["doc"]["servers"] if GROUP_OF[s["role"]] == m["group"]
               for a in s.get("addresses", [])]
    opened = False
    for server, address in members:
        extra = _expected_extra(m, address, server)
        assert _found(report, address, m) == extra, (server, address, m["network"])
        opened |= bool(extra)
    if not opened:
        assert report.ok, [str(f) for f in report.failures]
