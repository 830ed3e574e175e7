"""Azure NSGs as a plan leaves them, in the shape the shared NSG evaluator reads
(generator/judge/azure.py: azure-mgmt-network models with Azure's default rules).

NSGs with their rule resources (linked by `network_security_group_name`) and inline
`security_rule` blocks where the configuration writes them; ASGs; NIC and subnet associations.
A scadafw module's NIC associations are named after the server, which is how its NICs are
found; an ASG or NSG id unknown until apply stands as its resource's address.
"""

from __future__ import annotations

from typing import Any

from azure.mgmt.network.models import (
    ApplicationSecurityGroup,
    NetworkSecurityGroup,
    NetworkSecurityGroupPropertiesFormat,
    SecurityRule,
    SecurityRulePropertiesFormat,
)

from generator.judge.azure import DEFAULT_RULES, AdminRule, AzureState
from generator.model import System
from generator.sources.plan import PlanResource, Resolver

ADMIN_RULE = "azurerm_network_manager_admin_rule"
NIC_NSG = "azurerm_network_interface_security_group_association"
NIC_ASG = "azurerm_network_interface_application_security_group_association"
SUBNET_NSG = "azurerm_subnet_network_security_group_association"
_RULE_FIELDS = ("priority", "direction", "access", "protocol", "description",
                "source_port_range", "destination_port_range", "source_address_prefix",
                "destination_address_prefix")
_LIST_FIELDS = ("source_port_ranges", "destination_port_ranges", "source_address_prefixes",
                "destination_address_prefixes")


def _model(values: dict[str, Any], asgs: dict[str, list[str]]) -> SecurityRule:
    fields: dict[str, Any] = {k: values.get(k) for k in _RULE_FIELDS}
    fields.update({k: list(values.get(k) or []) or None for k in _LIST_FIELDS})
    for end in ("source", "destination"):
        ids = asgs.get(end, [])
        fields[f"{end}_application_security_groups"] = (
            [ApplicationSecurityGroup(id=i) for i in ids] or None)
    return SecurityRule(name=values.get("name"), properties=SecurityRulePropertiesFormat(
        **fields))


class AzurePlan:
    """The Azure side of one plan."""

    def __init__(self, found: list[PlanResource], resolver: Resolver) -> None:
        self.resolve = resolver
        self.state = AzureState()
        self.keys: dict[str, str] = {}  # NSG name or id -> state key
        self.tags: dict[str, dict[str, str]] = {}  # NSG or ASG id -> tags
        self.associations = [r for r in found if r.type in (NIC_NSG, NIC_ASG, SUBNET_NSG)]
        for r in found:
            if r.type == "azurerm_network_security_group":
                self._nsg(r)
            elif r.type == "azurerm_application_security_group":
                self.tags[r.id()] = dict(r.values.get("tags") or {})
        for r in found:
            if r.type == "azurerm_network_security_rule":
                self._rule(r)
            elif r.type == ADMIN_RULE:
                self._admin_rule(r)

    def _nsg(self, r: PlanResource) -> None:
        properties = NetworkSecurityGroupPropertiesFormat(security_rules=[])
        properties.default_security_rules = list(DEFAULT_RULES)
        self.state.nsgs[r.address] = NetworkSecurityGroup(id=r.id(), properties=properties)
        for key in (r.values.get("name"), r.id(), r.address):
            if key:
                self.keys[str(key)] = r.address
        self.tags[r.id()] = dict(r.values.get("tags") or {})
        config = self.resolve.config(r)
        if config and "security_rule" not in (config.get("expressions") or {}):
            return  # computed: a mirror of the NSG's current rules, not what the plan makes
        for block in r.values.get("security_rule") or []:
            asgs = {end: list(block.get(f"{end}_application_security_group_ids") or [])
                    for end in ("source", "destination")}
            rule = _model(block, asgs)
            self._rules(r.address).append(rule)
            self.state.rule_address[id(rule)] = f"{r.address} rule {block.get('name')}"

    def _admin_rule(self, r: PlanResource) -> None:
        """A security admin rule: the plan does not say which virtual network a server's NIC
        is in, so it is taken to apply to every server of the system (the review says so)."""
        v = r.values

        def ends(blocks: Any) -> tuple[str, ...]:
            return tuple(str(b.get("address_prefix")) for b in blocks or []
                         if b.get("address_prefix") not in (None, ""))

        self.state.admin_rules.setdefault("*", []).append(AdminRule(
            r.address, int(v.get("priority") or 0), str(v.get("direction") or ""),
            str(v.get("action") or "Deny"), str(v.get("protocol") or "Any"),
            ends(v.get("source")), ends(v.get("destination")),
            tuple(str(p) for p in v.get("source_port_ranges") or []),
            tuple(str(p) for p in v.get("destination_port_ranges") or [])))

    def _rules(self, key: str) -> list[SecurityRule]:
        properties = self.state.nsgs[key].properties
        assert properties is not None
        assert properties.security_rules is not None
        rules: list[SecurityRule] = properties.security_rules
        return rules

    def _rule(self, r: PlanResource) -> None:
        owner = self.resolve.value(r, "network_security_group_name")
        key = self.keys.get(str(owner)) if owner is not None else None
        if key is None:
            self.state.problems.append(f"{r.address}: its NSG is not in the plan")
            return
        asgs = {end: self.resolve.values(r, f"{end}_application_security_group_ids")
                for end in ("source", "destination")}
        rule = _model(r.values, asgs)
        self._rules(key).append(rule)
        self.state.rule_address[id(rule)] = r.address

    def server_nics(self, system: System) -> dict[str, list[str]]:
        """Each server's NICs, from the associations a scadafw module names after it."""
        idents = {s.ident: s.name for s in system.servers}
        found: dict[str, list[str]] = {}
        for r in self.associations:
            target = "network_security_group_id" if r.type == NIC_NSG else \
                "application_security_group_id"
            if r.type == SUBNET_NSG or r.name not in idents:
                continue
            owner = self.resolve.value(r, target)
            if self.tags.get(str(owner), {}).get("scadafw:system") != system.name:
                continue
            nic = self.resolve.value(r, "network_interface_id")
            if nic is not None and str(nic) not in found.setdefault(idents[r.name], []):
                found[idents[r.name]].append(str(nic))
        return found

    def judge(self, system: System, nics: dict[str, list[str]]) -> AzureState:
        """NSGs and ASG memberships per server, through the associations of its NICs."""
        state = self.state
        by_nic: dict[str, str] = {v: k for k, vs in nics.items() for v in vs}
        for r in self.associations:
            nic = self.resolve.value(r, "network_interface_id")
            server = by_nic.get(str(nic)) if nic is not None else None
            if r.type == SUBNET_NSG:
                nsg = self.resolve.value(r, "network_security_group_id")
                if nsg is not None and str(nsg) in self.keys:
                    state.subnet_nsgs.append(self.keys[str(nsg)])
            elif server is not None and r.type == NIC_NSG:
                nsg = self.resolve.value(r, "network_security_group_id")
                if nsg is not None and str(nsg) in self.keys:
                    state.nic_nsgs.setdefault(server, []).append(self.keys[str(nsg)])
            elif server is not None:
                asg = self.resolve.value(r, "application_security_group_id")
                if asg is not None:
                    state.asgs_of.setdefault(server, set()).add(str(asg))
        return state
