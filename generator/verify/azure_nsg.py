"""Azure NSG evaluation with Azure's semantics, on azure-mgmt-network models built from the HCL.

Semantics implemented (Azure "Network security groups overview", "How network security groups
filter network traffic", "Application security groups"; DOMAIN.md):
- a rule matches on protocol (`*` or equal; `Icmp` selects no type, so it stands for ICMP and,
  inferred, ICMPv6 echo), destination port (`*`, a number or a range; ports do not apply to
  ICMP), source port (`*`, or a range holding Windows' first ephemeral port 49152), and
  source/destination (`*`/`Any`, the `VirtualNetwork` tag (every server shares one virtual
  network), a CIDR or address holding one of the server's addresses, or an ASG the server's
  NIC belongs to; `Internet`, `AzureLoadBalancer` and other tags match no server);
- rules are taken in priority order (lower number first) per direction and the first match
  decides; below the user's rules come Azure's default rules (AllowVNetInBound 65000,
  AllowAzureLoadBalancerInBound 65001, DenyAllInbound 65500; AllowVnetOutBound 65000,
  AllowInternetOutBound 65001, DenyAllOutBound 65500);
- a NIC's NSG and its subnet's NSG both apply (inbound: subnet then NIC; outbound: NIC then
  subnet) and traffic must pass both; with no NSG at all, traffic passes. The module does not
  say which servers a subnet holds, so a subnet association is taken to cover every server;
- NSGs are stateful: only the direction that opens a flow is evaluated.
Constraints azure-mgmt-network's models do not check are checked here: priority 100-4096 and
one priority per direction in an NSG.
"""

from __future__ import annotations

import ipaddress
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
from generator.model import Server, System
from generator.policy import Service
from generator.verify.hcl_module import Module, as_list, interface_owner, referenced_name
from generator.verify.reachability import Decision, Endpoint, Traffic

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


def _port_in(spec: str, port: int) -> bool:
    spec = str(spec).strip()
    if spec in ("*", "Any"):
        return True
    if "-" in spec:
        low, high = spec.split("-", 1)
        return int(low) <= port <= int(high)
    return spec.isdigit() and int(spec) == port


def _address_matches(prefixes: list[str], asgs: list[ApplicationSecurityGroup] | None,
                     end: Endpoint, member_of: set[str]) -> bool:
    if asgs:
        return end.server is not None and any(a.id in member_of for a in asgs)
    for prefix in prefixes:
        if prefix in ("*", "Any"):
            return True
        if prefix == "VirtualNetwork":
            # the system's servers, and (assumed: peering, VPN, ExpressRoute) any private
            # address: only an explicit deny may be counted on to refuse
            if end.server is not None or any(a.is_private for a in end.addresses):
                return True
            continue
        if prefix == "Internet":
            if end.server is None and any(a.is_global for a in end.addresses):
                return True
            continue
        try:
            network = ipaddress.ip_network(prefix, strict=False)
        except ValueError:
            continue  # AzureLoadBalancer and other service tags hold no server or peer
        if any(a.version == network.version and a in network for a in end.addresses):
            return True
    return False


def rule_matches(security_rule: SecurityRule, src: Endpoint, dst: Endpoint, traffic: Traffic,
                 asgs_of: dict[str, set[str]]) -> bool:
    rule = _props(security_rule)
    protocol = arm_text(rule.protocol).lower()
    wanted = "icmp" if traffic.protocol in ("icmp", "icmpv6") else traffic.protocol
    if protocol not in ("*", wanted):
        return False
    if wanted in ("tcp", "udp"):
        dports = rule.destination_port_ranges or [rule.destination_port_range or ""]
        if not any(_port_in(p, traffic.port) for p in dports):
            return False
        sports = rule.source_port_ranges or [rule.source_port_range or ""]
        if not any(_port_in(p, FIRST_EPHEMERAL_PORT) for p in sports):
            return False
    sources = rule.source_address_prefixes or [rule.source_address_prefix or ""]
    destinations = rule.destination_address_prefixes or [rule.destination_address_prefix or ""]
    return (_address_matches(sources, rule.source_application_security_groups, src,
                             asgs_of.get(src.name, set()))
            and _address_matches(destinations, rule.destination_application_security_groups,
                                 dst, asgs_of.get(dst.name, set())))


def _first_match(state: AzureState, nsg_name: str, direction: str, src: Endpoint,
                 dst: Endpoint, traffic: Traffic) -> tuple[bool, str]:
    ordered: list[tuple[int, SecurityRule]] = []
    for rule in _all_rules(state.nsgs[nsg_name]):
        priority = _props(rule).priority
        if arm_text(_props(rule).direction) == direction and isinstance(priority, int):
            ordered.append((priority, rule))
    for priority, rule in sorted(ordered, key=lambda pair: pair[0]):
        if rule_matches(rule, src, dst, traffic, state.asgs_of):
            where = state.rule_address.get(id(rule), f"default rule {rule.name}")
            access = arm_text(_props(rule).access)
            return access == "Allow", f"{where} ({access}, {priority})"
    return False, f"no rule matched in NSG {nsg_name}"


def _subnet_nsgs(state: AzureState, server: str) -> list[str]:
    return state.server_subnet_nsgs.get(server, state.subnet_nsgs)


def layers(state: AzureState, src: Endpoint, dst: Endpoint,
           traffic: Traffic) -> list[tuple[str, bool, str]]:
    """Every NSG on the path in Azure's order (outbound through the source's NIC then subnet
    NSG, inbound through the destination's subnet then NIC NSG), each with its own verdict:
    (NSG, allowed, the rule that decided). A host outside the system brings no NSG of ours."""
    steps: list[tuple[str, str]] = []
    if src.server is not None:
        steps += [(n, "Outbound") for n in state.nic_nsgs.get(src.name, [])]
        steps += [(n, "Outbound") for n in _subnet_nsgs(state, src.name)]
    if dst.server is not None:
        steps += [(n, "Inbound") for n in _subnet_nsgs(state, dst.name)]
        steps += [(n, "Inbound") for n in state.nic_nsgs.get(dst.name, [])]
    return [(nsg, *_first_match(state, nsg, direction, src, dst, traffic))
            for nsg, direction in steps]


def decide_traffic(state: AzureState, src: Endpoint, dst: Endpoint,
                   traffic: Traffic) -> Decision:
    """Traffic passes when every NSG on its path allows it (`layers`)."""
    path = layers(state, src, dst, traffic)
    for _nsg, allowed, where in path:
        if not allowed:
            return Decision(False, where)
    if not path:
        return Decision(True, f"no NSG on {src.name} or {dst.name}: Azure passes everything")
    return Decision(True, " + ".join(where for _nsg, _allowed, where in path))


def decide_azure(state: AzureState, port: int, src: Server, dst: Server,
                 service: Service) -> Decision:
    """One server pair and service (the server-to-server matrix)."""
    return decide_traffic(state, Endpoint.of(src), Endpoint.of(dst), Traffic.of(service, port))
