"""Azure, from the module's HCL: its NSGs as Azure would hold them (azure-mgmt-network models
with Azure's default rules), its rules in them, and its NIC, subnet and ASG associations, in
the judge's Azure shape (generator/judge/azure.py). Mode "existing" stands the caller's NSG of
each role group on its servers. Constraints the models do not check are checked here: priority
100-4096 and one priority per direction in an NSG.
"""

from __future__ import annotations

import re
from typing import Any

from azure.mgmt.network.models import (
    ApplicationSecurityGroup,
    NetworkSecurityGroup,
    NetworkSecurityGroupPropertiesFormat,
    SecurityRule,
    SecurityRulePropertiesFormat,
)

from generator.judge.azure import DEFAULT_RULES, AzureState, arm_text
from generator.model import System
from generator.sources.hcl_module import Module, as_list, interface_owner, referenced_name

FIRST_EPHEMERAL_PORT = 49152


def _rules(nsg: NetworkSecurityGroup) -> list[SecurityRule]:
    assert nsg.properties is not None
    assert nsg.properties.security_rules is not None
    return nsg.properties.security_rules


def _all_rules(nsg: NetworkSecurityGroup) -> list[SecurityRule]:
    assert nsg.properties is not None
    return [*_rules(nsg), *(nsg.properties.default_security_rules or [])]


def _props(rule: SecurityRule) -> SecurityRulePropertiesFormat:
    assert rule.properties is not None
    return rule.properties


def _asg_id(name: str) -> str:
    return f"asg/{name}"


def _asg_refs(values: object) -> list[ApplicationSecurityGroup] | None:
    refs = [referenced_name(v, "azurerm_application_security_group") for v in as_list(values)]
    if not refs:
        return None
    return [ApplicationSecurityGroup(id=_asg_id(r or "?")) for r in refs]


def _rule_model(attrs: dict[str, Any]) -> SecurityRule:
    fields: dict[str, Any] = {
        key: attrs.get(key) for key in (
            "priority", "direction", "access", "protocol", "description", "source_port_range",
            "destination_port_range", "source_address_prefix", "destination_address_prefix")
    }
    for key in ("source_port_ranges", "destination_port_ranges", "source_address_prefixes",
                "destination_address_prefixes"):
        fields[key] = as_list(attrs.get(key)) or None
    for end in ("source", "destination"):
        fields[f"{end}_application_security_groups"] = _asg_refs(
            attrs.get(f"{end}_application_security_group_ids"))
    return SecurityRule(name=attrs.get("name"), properties=SecurityRulePropertiesFormat(**fields))


_EXISTING_NSG = re.compile(r'var\.network_security_group_names\["([a-z_]+)"\]')


def _rule_owner(value: object) -> str | None:
    """The NSG a rule goes into: one of the module's, or (mode "existing") the caller's NSG of
    a role group, `existing:<group>`."""
    owner = referenced_name(value, "azurerm_network_security_group")
    if owner is not None:
        return owner
    match = _EXISTING_NSG.search(str(value or ""))
    return f"existing:{match.group(1)}" if match else None


def _existing_nsgs(module: Module, state: AzureState, system: System | None) -> None:
    """Mode "existing": the caller's NSG of each role group stands on its servers (on their
    NICs or their subnet: the same to them), holding scadafw's rules and Azure's defaults.
    Rules of the caller's own are not in the module; `audit` reads them from the account."""
    for resource in module.of_type("azurerm_network_security_rule"):
        owner = _rule_owner(resource.attrs.get("network_security_group_name"))
        if owner is None or not owner.startswith("existing:") or owner in state.nsgs:
            continue
        properties = NetworkSecurityGroupPropertiesFormat(security_rules=[])
        properties.default_security_rules = list(DEFAULT_RULES)
        state.nsgs[owner] = NetworkSecurityGroup(id=f"nsg/{owner}", properties=properties)
        group = owner.removeprefix("existing:")
        for server in system.servers if system else ():
            if server.group.value == group:
                state.nic_nsgs.setdefault(server.name, []).append(owner)


def build_nsgs(module: Module, system: System | None = None) -> AzureState:
    """The module's NSGs as Azure would hold them; `system` (the servers the module is for)
    places the caller's NSGs of mode "existing"."""
    state = AzureState()
    for resource in module.of_type("azurerm_network_security_group"):
        properties = NetworkSecurityGroupPropertiesFormat(security_rules=[])
        # read-only in the model (Azure fills it in); set it as Azure would
        properties.default_security_rules = list(DEFAULT_RULES)
        nsg = NetworkSecurityGroup(id=f"nsg/{resource.name}", properties=properties)
        state.nsgs[resource.name] = nsg
        for inline in as_list(resource.attrs.get("security_rule")):
            rule = _rule_model(inline)
            _rules(nsg).append(rule)
            state.rule_address[id(rule)] = f"{resource.address} rule {inline.get('name')}"
    _existing_nsgs(module, state, system)
    for resource in module.of_type("azurerm_network_security_rule"):
        owner = _rule_owner(resource.attrs.get("network_security_group_name"))
        if owner not in state.nsgs:
            state.problems.append(f"{resource.address}: network_security_group_name does not "
                                  "name an NSG of this module")
            continue
        rule = _rule_model(resource.attrs)
        _rules(state.nsgs[owner]).append(rule)
        state.rule_address[id(rule)] = resource.address
    for resource in module.of_type("azurerm_network_interface_security_group_association"):
        server = interface_owner(resource)
        nsg_name = referenced_name(resource.attrs.get("network_security_group_id"),
                                   "azurerm_network_security_group")
        if server is None or nsg_name not in state.nsgs:
            state.problems.append(f"{resource.address}: cannot tell which server and NSG")
            continue
        state.nic_nsgs.setdefault(server, []).append(nsg_name)
    for resource in module.of_type("azurerm_subnet_network_security_group_association"):
        nsg_name = referenced_name(resource.attrs.get("network_security_group_id"),
                                   "azurerm_network_security_group")
        if nsg_name in state.nsgs:
            state.subnet_nsgs.append(nsg_name)
    for resource in module.of_type(
            "azurerm_network_interface_application_security_group_association"):
        server = interface_owner(resource)
        asg = referenced_name(resource.attrs.get("application_security_group_id"),
                              "azurerm_application_security_group")
        if server is None or asg is None:
            state.problems.append(f"{resource.address}: cannot tell which server and ASG")
            continue
        state.asgs_of.setdefault(server, set()).add(_asg_id(asg))
    state.problems.extend(_constraint_problems(state))
    return state


def _constraint_problems(state: AzureState) -> list[str]:
    problems = []
    for name, nsg in sorted(state.nsgs.items()):
        seen: dict[tuple[str, int], str] = {}
        for rule in _rules(nsg):
            where = state.rule_address[id(rule)]
            priority = _props(rule).priority
            if not isinstance(priority, int) or not 100 <= priority <= 4096:
                problems.append(f"{where}: priority {priority!r} is outside 100-4096")
                continue
            key = (arm_text(_props(rule).direction), priority)
            if key in seen:
                problems.append(f"{where}: priority {priority} {key[0]} is also "
                                f"used by {seen[key]} in NSG {name}")
            seen[key] = where
    return problems
