"""Security invariants, as hypothesis properties over random valid topologies, checked on the
emitted HCL as python-hcl2 reads it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import hcl2
import yaml
from hypothesis import HealthCheck, given, settings

from generator.model import RoleGroup
from generator.sources.hcl_module import resource_blocks
from generator.targets import render_system
from generator.topology import parse_topology
from generator.topology.yaml_source import load_spanned
from tests.conftest import HCL_OPTIONS
from tests.strategies import topologies

OPEN = {"0.0.0.0/0", "::/0", "*", "internet", "any"}
DMZ = RoleGroup.DMZ_PERMANENT_STANDBY.value


def emitted(doc: dict[str, Any], folder: Path) -> dict[str, dict[str, str]]:
    path = folder / "topology.yaml"
    path.write_text(yaml.safe_dump(doc))
    system = parse_topology(load_spanned(path), str(path), path.name)
    return dict(render_system(system))


def rules_of(text: str) -> dict[str, dict[str, dict[str, Any]]]:
    found: dict[str, dict[str, dict[str, Any]]] = {}
    doc = hcl2.loads(text, serialization_options=HCL_OPTIONS)
    for rtype, name, attrs in resource_blocks(doc):
        found.setdefault(rtype, {})[name] = attrs
    return found


def check_aws(main: str) -> None:
    found = rules_of(main)
    for kind in ("ingress", "egress"):
        for name, rule in found.get(f"aws_vpc_security_group_{kind}_rule", {}).items():
            assert rule.get("description"), name
            assert "cidr_ipv4" not in rule, name
            assert "cidr_ipv6" not in rule, name
            assert rule["referenced_security_group_id"].startswith("${aws_security_group.")
            if rule["ip_protocol"] == "icmp":
                assert (rule["from_port"], rule["to_port"]) == (8, -1), name
            elif rule["ip_protocol"] == "icmpv6":
                assert (rule["from_port"], rule["to_port"]) == (128, -1), name
            else:
                assert rule["ip_protocol"] == "tcp"
                assert rule["from_port"] == rule["to_port"]
            dmz = f"${{aws_security_group.{DMZ}.id}}"
            if kind == "egress":  # the DMZ standby opens nothing
                assert rule["security_group_id"] != dmz, name
            else:  # and nothing admits it
                assert rule["referenced_security_group_id"] != dmz, name


def check_azure(main: str) -> None:
    rules = rules_of(main)["azurerm_network_security_rule"]
    allows = {n: r for n, r in rules.items() if r["access"] == "Allow"}
    denies = {n: r for n, r in rules.items() if r["access"] == "Deny"}
    dmz_asg = f"${{azurerm_application_security_group.{DMZ}.id}}"
    for name, rule in rules.items():
        assert rule.get("description"), name
    for name, rule in allows.items():
        for end in ("source", "destination"):
            prefixes = [rule.get(f"{end}_address_prefix"),
                        *rule.get(f"{end}_address_prefixes", [])]
            assert not [p for p in prefixes if p and str(p).lower() in OPEN], name
            assert rule.get(f"{end}_application_security_group_ids"), name
        assert dmz_asg not in rule["source_application_security_group_ids"], name
    by_nsg: dict[str, list[dict[str, Any]]] = {}
    for rule in rules.values():
        by_nsg.setdefault(rule["network_security_group_name"], []).append(rule)
    for nsg, members in by_nsg.items():
        highest_allow = max((r["priority"] for r in members if r["access"] == "Allow"),
                            default=0)
        inbound_denies = {r["protocol"] for r in members if r["access"] == "Deny"
                          and r["direction"] == "Inbound" and r["priority"] > highest_allow}
        assert inbound_denies == {"Tcp", "Icmp"}, nsg
    assert denies


@settings(max_examples=120, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(doc=topologies())
def test_emitted_rules_hold_the_invariants(doc: dict[str, Any], tmp_path: Path) -> None:
    modules = emitted(doc, tmp_path)
    for target, files in modules.items():
        for name, text in files.items():
            if name.endswith(".tf"):
                # nothing the tool writes is an interpolation or directive inside a string,
                # but the caller's name prefix at the start of a name
                assert "${" not in text.replace('"${var.name_prefix}', '"'), (target, name)
                assert "%{" not in text, (target, name)
        (check_aws if target == "aws" else check_azure)(files["main.tf"])
