"""The attributes of each `azurerm_network_security_rule`, in either Azure mode.

- `create` (the default): the module creates an NSG per role group and associates it with the
  servers' NICs; a rule's NSG is `azurerm_network_security_group.<group>.name`, and the denies
  cover everything behind that NSG (`*`).
- `existing`: the rules go into NSGs the caller already has, one per role group, on the NICs or
  on the subnet (`var.network_security_group_names`). Such an NSG may hold other machines, so
  every deny names the role group's ASG, and rule names start with `scadafw-` so they cannot
  meet the caller's own.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from generator.hcl import HclText, hcl_identifier, hcl_label, hcl_string
from generator.model import NsgMode, RoleGroup, System
from generator.targets.azure.peers import PeerNsgRule
from generator.targets.azure.rules import NsgRule
from generator.targets.module import map_entries

EXISTING_RULE_PREFIX = "scadafw-"


@dataclass(frozen=True)
class AzurePlacement:
    """What a rule's text depends on besides the rule: small, so rules render once per run for
    every system that shares them (the cache below)."""

    existing: bool
    server_ports: tuple[int, ...]

    @classmethod
    def of(cls, system: System) -> AzurePlacement:
        return cls(system.azure.nsgs is NsgMode.EXISTING, system.server_ports)

    def nsg_name(self, group: RoleGroup) -> HclText:
        if self.existing:
            return HclText(f"var.network_security_group_names[{hcl_string(group.value)}]")
        return HclText(f"azurerm_network_security_group.{hcl_identifier(group.value)}.name")

    @property
    def resource_group(self) -> HclText:
        return HclText("local.network_security_group_resource_group_name" if self.existing
                       else "var.resource_group_name")

    def rule_name(self, name: str) -> HclText:
        return hcl_string(f"{EXISTING_RULE_PREFIX}{name}" if self.existing else name)

    def asgs(self, *groups: RoleGroup) -> HclText:
        refs = ", ".join(f"azurerm_application_security_group.{hcl_identifier(g.value)}.id"
                         for g in groups)
        return HclText(f"[{refs}]")

    def _head(self, group: RoleGroup, name: str, description: str, priority: int,
              direction: str, access: str, protocol: str) -> list[tuple[str, HclText]]:
        return [("name", self.rule_name(name)), ("description", hcl_string(description)),
                ("resource_group_name", self.resource_group),
                ("network_security_group_name", self.nsg_name(group)),
                ("priority", HclText(str(priority))), ("direction", hcl_string(direction)),
                ("access", hcl_string(access)), ("protocol", hcl_string(protocol)),
                ("source_port_range", hcl_string("*"))]

    @lru_cache(maxsize=4096)  # noqa: B019 (placements are a few small values, kept on purpose)
    def server_rule(self, rule: NsgRule) -> HclText:
        """The whole resource of a rule between role groups."""
        entries = self._head(rule.group, rule.rule_name, rule.description, rule.priority,
                             rule.direction, rule.access, rule.protocol)
        ports = self.server_ports if rule.protocol == "Tcp" else ("*",)
        if len(ports) == 1:
            entries.append(("destination_port_range", hcl_string(str(ports[0]))))
        else:  # a port migration: both ports in the same rules, changed in place
            entries.append(("destination_port_ranges", _list(tuple(str(p) for p in ports))))
        own = self.asgs(rule.group)
        anywhere = hcl_string("*")
        if rule.peer is not None:
            source = rule.peer if rule.direction == "Inbound" else rule.group
            destination = rule.group if rule.direction == "Inbound" else rule.peer
            entries += [("source_application_security_group_ids", self.asgs(source)),
                        ("destination_application_security_group_ids", self.asgs(destination))]
        elif rule.direction == "Inbound":
            entries += [("source_address_prefix", anywhere),
                        ("destination_application_security_group_ids", own) if self.existing
                        else ("destination_address_prefix", anywhere)]
        else:
            entries += [("source_application_security_group_ids", own) if self.existing
                        else ("source_address_prefix", anywhere),
                        ("destination_address_prefix", anywhere)]
        return _resource(rule.name, entries)

    @lru_cache(maxsize=4096)  # noqa: B019
    def peer_rule(self, rule: PeerNsgRule) -> HclText:
        """The whole resource of a rule that names networks outside the system."""
        entries = self._head(rule.group, rule.rule_name, rule.description, rule.priority,
                             rule.direction, rule.access, rule.protocol)
        if rule.ports == ("*",):
            entries.append(("destination_port_range", hcl_string("*")))
        else:
            entries.append(("destination_port_ranges", _list(rule.ports)))
        own = self.asgs(rule.group)
        if rule.access == "Deny":
            entries += [("source_address_prefix", hcl_string("*")),
                        ("destination_application_security_group_ids", own) if self.existing
                        else ("destination_address_prefix", hcl_string("*"))]
        elif rule.to_peer:
            entries += [("source_application_security_group_ids", own),
                        ("destination_address_prefixes", _list(rule.prefixes))]
        else:
            entries += [("source_address_prefixes", _list(rule.prefixes)),
                        ("destination_application_security_group_ids", own)]
        return _resource(rule.name, entries)


def _resource(name: str, entries: list[tuple[str, HclText]]) -> HclText:
    body = map_entries([(HclText(k), v) for k, v in entries], indent=2)
    return HclText(f'resource "azurerm_network_security_rule" {hcl_label(name)} {{\n  {body}\n}}')


def _list(values: tuple[str, ...]) -> HclText:
    return HclText("[" + ", ".join(hcl_string(v) for v in values) + "]")
