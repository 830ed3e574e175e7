"""What a live Azure subscription allows now, read-only: each server's NICs found by their
private addresses in the resource group, the NIC's and the subnet's NSG read back (default rules
and ASG memberships included), judged with the NSG evaluator `verify` uses, and scadafw's own
NSGs compared with what `generate` writes.

Calls (all GETs, through azure-mgmt-network's pipeline): list network interfaces and application
security groups in the resource group, get each subnet and NSG that applies. Credentials come
from azure-identity's DefaultAzureCredential (environment, workload or managed identity, Azure
CLI, ...). Throttling (429) and transient failures are retried by the SDK with backoff, a bounded
number of times.
"""

from __future__ import annotations

import ipaddress
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

from generator.audit.aws_live import AuditError
from generator.judge.azure import DEFAULT_RULES, AzureState, arm_text
from generator.model import System, Target
from generator.placement import placements
from generator.policy import Service
from generator.targets.azure import render_azure
from generator.verify.azure_nsg import build_nsgs, decide_azure, layers
from generator.verify.azure_nsg import decide_traffic as azure_traffic
from generator.verify.hcl_module import Module, Resource, resources_in
from generator.verify.peer_checks import peer_checks
from generator.verify.reachability import Endpoint, TargetReport, Traffic, compare
from generator.verify.report import expected_azure

ARM_ENDPOINT = "https://management.azure.com"
RETRIES = 4  # after the first attempt; the SDK backs off exponentially, honouring Retry-After
RETRY_BACKOFF = 0.8  # seconds, doubled per retry
T = TypeVar("T")


def arm_endpoint(given: str | None) -> str:
    return (given or os.environ.get("SCADAFW_ARM_ENDPOINT") or ARM_ENDPOINT).rstrip("/")


def network_client(subscription: str, endpoint: str) -> Any:
    """azure-mgmt-network's client with DefaultAzureCredential, for `endpoint` (sovereign
    clouds: also set AZURE_AUTHORITY_HOST for the credential)."""
    from azure.identity import DefaultAzureCredential  # noqa: PLC0415
    from azure.mgmt.network import NetworkManagementClient  # noqa: PLC0415

    # the SDK logs every credential it tried, many lines; scadafw says it in one
    logging.getLogger("azure").setLevel(logging.CRITICAL)

    return NetworkManagementClient(
        DefaultAzureCredential(), subscription, base_url=endpoint,
        credential_scopes=[f"{endpoint}/.default"], retry_total=RETRIES, retry_status=RETRIES,
        retry_backoff_factor=RETRY_BACKOFF)


def _calls(action: Callable[[], T], subscription: str, group: str) -> T:
    """Run `action`, turning the SDK's failures into one clear line."""
    from azure.core.exceptions import (  # noqa: PLC0415
        ClientAuthenticationError,
        HttpResponseError,
        ResourceNotFoundError,
        ServiceRequestError,
    )

    try:
        return action()
    except ClientAuthenticationError as exc:
        if exc.status_code in (401, 403):
            raise AuditError("Azure: the credential was refused (HTTP "
                             f"{exc.status_code}); check the tenant and subscription") from exc
        raise AuditError("Azure: no credentials: DefaultAzureCredential found none "
                         "(AZURE_CLIENT_ID/AZURE_TENANT_ID/AZURE_CLIENT_SECRET, workload or "
                         "managed identity, `az login`)") from exc
    except ResourceNotFoundError as exc:
        code = exc.error.code if exc.error else ""
        if code == "ResourceGroupNotFound":
            raise AuditError(f"Azure: resource group {group} does not exist in subscription "
                             f"{subscription}") from exc
        if code in ("SubscriptionNotFound", "InvalidSubscriptionId"):
            raise AuditError(f"Azure: subscription {subscription} not found") from exc
        raise AuditError(f"Azure: not found: {code or exc.reason}") from exc
    except HttpResponseError as exc:
        code = exc.error.code if exc.error else ""
        if exc.status_code == 403:
            raise AuditError(f"Azure: access denied ({code or 'HTTP 403'}) in resource group "
                             f"{group}; the audit needs the read-only role in the README") from exc
        if exc.status_code == 429:
            raise AuditError(f"Azure: throttled (HTTP 429) after {RETRIES} retries with "
                             "backoff; try again later") from exc
        raise AuditError(f"Azure: HTTP {exc.status_code} {code}: "
                         f"{(exc.message or '').splitlines()[0] if exc.message else ''}") from exc
    except ServiceRequestError as exc:
        raise AuditError(f"Azure: cannot reach the ARM endpoint: {exc.message}") from exc


def _id(value: str | None) -> str:
    """ARM ids compare without regard to case."""
    return (value or "").lower()


def _parts(resource_id: str) -> dict[str, str]:
    from azure.mgmt.core.tools import parse_resource_id  # noqa: PLC0415

    return {k: str(v) for k, v in parse_resource_id(resource_id).items()}


@dataclass
class LiveGroup:
    """What the resource group holds for one system's servers."""

    state: AzureState = field(default_factory=AzureState)
    interfaces: dict[str, list[str]] = field(default_factory=dict)  # server -> NIC names
    tags: dict[str, dict[str, str]] = field(default_factory=dict)  # NSG/ASG id -> tags
    names: dict[str, str] = field(default_factory=dict)  # NSG/ASG id -> name
    problems: list[str] = field(default_factory=list)

    def role(self, resource_id: str, system: str) -> str:
        tags = self.tags.get(resource_id, {})
        return tags.get("scadafw:role-group", "") if tags.get("scadafw:system") == system else ""


class AzureReader:
    """Read-only GETs, each NSG and subnet once per audit."""

    def __init__(self, client: Any, subscription: str, group: str) -> None:
        self.client, self.subscription, self.group = client, subscription, group
        self._nics: list[Any] | None = None
        self._nsgs: dict[str, Any] = {}
        self._subnet_nsg: dict[str, str] = {}
        self.asg_tags: dict[str, dict[str, str]] = {}

    def _run(self, action: Callable[[], T]) -> T:
        return _calls(action, self.subscription, self.group)

    def nics(self) -> list[Any]:
        if self._nics is None:
            self._nics = self._run(lambda: list(
                self.client.network_interfaces.list(self.group)))
            for asg in self._run(lambda: list(
                    self.client.application_security_groups.list(self.group))):
                self.asg_tags[_id(asg.id)] = dict(asg.tags or {})
        return self._nics

    def nsg(self, nsg_id: str) -> Any:
        if nsg_id not in self._nsgs:
            parts = _parts(nsg_id)
            self._nsgs[nsg_id] = self._run(lambda: self.client.network_security_groups.get(
                parts["resource_group"], parts["name"]))
        return self._nsgs[nsg_id]

    def subnet_nsg(self, subnet_id: str) -> str:
        if subnet_id not in self._subnet_nsg:
            parts = _parts(subnet_id)
            subnet = self._run(lambda: self.client.subnets.get(
                parts["resource_group"], parts["name"], parts["child_name_1"]))
            nsg = subnet.properties.network_security_group if subnet.properties else None
            self._subnet_nsg[subnet_id] = _id(nsg.id) if nsg else ""
        return self._subnet_nsg[subnet_id]


def _add_nsg(live: LiveGroup, reader: AzureReader, nsg_id: str) -> None:
    if nsg_id in live.state.nsgs:
        return
    nsg = reader.nsg(nsg_id)
    props = nsg.properties
    if not props.default_security_rules:  # Azure always has them; a reply may leave them out
        props.default_security_rules = list(DEFAULT_RULES)
    props.security_rules = list(props.security_rules or [])
    live.state.nsgs[nsg_id] = nsg
    live.names[nsg_id] = nsg.name
    live.tags[nsg_id] = dict(nsg.tags or {})
    for rule in [*props.security_rules, *props.default_security_rules]:
        rp = rule.properties
        for asgs in (rp.source_application_security_groups,
                     rp.destination_application_security_groups):
            for asg in asgs or []:
                asg.id = _id(asg.id)
        kind = "rule" if rule in props.security_rules else "default rule"
        live.state.rule_address[id(rule)] = f"NSG {nsg.name} {kind} {rule.name}"


def read_live(reader: AzureReader, view: System) -> LiveGroup:
    """The NSGs and ASG memberships that apply to the servers of `view`, found by address."""
    live = LiveGroup()
    wanted = {a: s.name for s in view.servers for a in s.addresses}
    for unfound in view.servers:
        if not any(a.version == 4 for a in unfound.addresses):
            live.problems.append(f"{unfound.name}: no IPv4 address in the topology, so its "
                                 "network interface cannot be found")
    seen: set[str] = set()
    for nic in reader.nics():
        for config in nic.properties.ip_configurations or []:
            cp = config.properties
            try:
                address = ipaddress.ip_address(cp.private_ip_address or "")
            except ValueError:
                continue
            server = wanted.get(address)
            if server is None:
                continue
            seen.add(server)
            if nic.name not in live.interfaces.setdefault(server, []):
                live.interfaces[server].append(nic.name)
            nic_nsg = nic.properties.network_security_group
            if nic_nsg and _id(nic_nsg.id) not in live.state.nic_nsgs.get(server, []):
                _add_nsg(live, reader, _id(nic_nsg.id))
                live.state.nic_nsgs.setdefault(server, []).append(_id(nic_nsg.id))
            subnet_nsg = reader.subnet_nsg(cp.subnet.id) if cp.subnet else ""
            subnets = live.state.server_subnet_nsgs.setdefault(server, [])
            if subnet_nsg and subnet_nsg not in subnets:
                _add_nsg(live, reader, subnet_nsg)
                subnets.append(subnet_nsg)
            members = live.state.asgs_of.setdefault(server, set())
            for asg in cp.application_security_groups or []:
                members.add(_id(asg.id))
                live.names[_id(asg.id)] = asg.id.rsplit("/", 1)[-1]
    for address, name in sorted(wanted.items(), key=lambda item: str(item[0])):
        if name not in seen and address.version == 4:
            live.problems.append(f"{name}: no network interface in resource group "
                                 f"{reader.group} has its address {address}")
    live.tags.update(reader.asg_tags)
    return live


def _generated(view: System) -> Module:
    """The module `generate` writes for `view`, read back as verify reads a folder."""
    module = Module(Path(view.name))
    for address, attrs in resources_in(render_azure(view)["main.tf"]).items():
        rtype, name = address.split(".", 1)
        module.resources.setdefault(rtype, {})[name] = Resource(rtype, name, attrs, "main.tf")
    return module


def _rule_key(rule: Any, asg_role: Callable[[str], str]) -> tuple[str, ...]:
    """A rule as what it does, comparable between the generated HCL and the live NSG."""
    p = rule.properties

    def many(one: object, several: list[Any] | None) -> str:
        return ",".join(sorted(str(v) for v in several or ([one] if one else [])))

    def asgs(refs: list[Any] | None) -> str:
        return ",".join(sorted(asg_role(_id(r.id)) for r in refs or []))

    return (str(p.priority), arm_text(p.direction), arm_text(p.access),
            arm_text(p.protocol).lower(),
            many(p.destination_port_range, p.destination_port_ranges),
            many(p.source_port_range, p.source_port_ranges),
            many(p.source_address_prefix, p.source_address_prefixes),
            many(p.destination_address_prefix, p.destination_address_prefixes),
            asgs(p.source_application_security_groups),
            asgs(p.destination_application_security_groups))


def generated_drift(view: System, live: LiveGroup) -> list[str]:
    """scadafw's NSGs of this system (by tag) against what generate writes, and which servers
    no longer carry their role group's NSG or ASG."""
    wanted = build_nsgs(_generated(view), view)
    ours = {nsg_id: live.role(nsg_id, view.name) for nsg_id in live.state.nsgs}
    ours = {k: v for k, v in ours.items() if v}
    if not ours:
        return [f"no NSG tagged scadafw:system={view.name} applies to its servers"]
    drift: list[str] = []

    def generated_role(asg_id: str) -> str:
        return asg_id.removeprefix("asg/")

    def live_role(asg_id: str) -> str:
        return live.role(asg_id, view.name) or live.names.get(asg_id, asg_id)

    for nsg_id, role in sorted(ours.items(), key=lambda item: item[1]):
        name = live.names[nsg_id]
        expected = {str(r.name): _rule_key(r, generated_role)
                    for r in (_user_rules(wanted.nsgs[role]) if role in wanted.nsgs else [])}
        found = {str(r.name): _rule_key(r, live_role)
                 for r in _user_rules(live.state.nsgs[nsg_id])}
        for rule_name in sorted(found.keys() - expected.keys()):
            drift.append(f"not generated by scadafw: NSG {name} rule {rule_name}")
        for rule_name in sorted(expected.keys() - found.keys()):
            drift.append(f"generated but missing: NSG {name} rule {rule_name}")
        for rule_name in sorted(found.keys() & expected.keys()):
            if found[rule_name] != expected[rule_name]:
                drift.append(f"changed since generated: NSG {name} rule {rule_name} "
                             f"(now {_show(found[rule_name])}, generated "
                             f"{_show(expected[rule_name])})")
    for server in view.servers:
        if server.name not in live.interfaces:
            continue
        role = server.group.value
        nics = ", ".join(live.interfaces[server.name])
        carried = [live.names[n] for n in live.state.nic_nsgs.get(server.name, [])]
        if role not in {live.role(n, view.name) for n in live.state.nic_nsgs.get(server.name,
                                                                                  [])} | {
                live.role(n, view.name) for n in live.state.server_subnet_nsgs.get(
                    server.name, [])}:
            now = ", ".join(carried) or "no NSG"
            drift.append(f"{server.name}: NIC {nics} does not carry scadafw's {role} NSG "
                         f"(it has {now})")
        if role not in {live.role(a, view.name) for a in live.state.asgs_of.get(server.name,
                                                                               set())}:
            drift.append(f"{server.name}: NIC {nics} is not in scadafw's {role} application "
                         "security group")
    return drift


def _user_rules(nsg: Any) -> list[Any]:
    return list(nsg.properties.security_rules or [])


def _show(key: tuple[str, ...]) -> str:
    priority, direction, access, protocol, dports, _sports, src, dst, src_asg, dst_asg = key
    return (f"{priority} {direction} {access} {protocol} port {dports or '-'} from "
            f"{src_asg or src} to {dst_asg or dst}")


def latent_openings(view: System, live: LiveGroup) -> list[str]:
    """Rules in NSGs that are not scadafw's which admit a flow the matrix forbids: today
    another NSG on the path refuses it, but the firewall now rests on that one layer."""
    found: list[str] = []
    checks = compare(view, "", partial(decide_azure, live.state, view.port),
                     lambda *_: "")
    by_name = {s.name: s for s in view.servers}
    services = {s.label(view.port): s for s in Service}
    for check in checks:
        if check.expected:
            continue
        src, dst = Endpoint.of(by_name[check.source]), Endpoint.of(by_name[check.destination])
        traffic = Traffic.of(services[check.service], view.port)
        for nsg_id, allowed, where in layers(live.state, src, dst, traffic):
            if allowed and not live.role(nsg_id, view.name) and " default rule " not in where:
                found.append(f"{check.source} -> {check.destination} {check.service} is "
                             f"forbidden but {where} allows it; only another NSG refuses it")
    return sorted(set(found))


def audit_azure(systems: list[System], reader: AzureReader) -> list[TargetReport]:
    reports = []
    for system in systems:
        for placed in placements(system):
            if placed.target is not Target.AZURE:
                continue
            view = placed.view
            report = TargetReport(system.name, f"{placed.folder} (live)",
                                  f"Azure resource group {reader.group}")
            live = read_live(reader, view)
            report.problems = list(live.problems)
            judged = replace(view, servers=tuple(s for s in view.servers
                                                 if s.name in live.interfaces))
            report.checks = compare(judged, report.target,
                                    partial(decide_azure, live.state, view.port), expected_azure)
            if view.version == 2:
                report.checks += peer_checks(judged, report.target,
                                             partial(azure_traffic, live.state),
                                             strict_outbound=False, dmz_outbound_denied=False)
            report.problems += generated_drift(view, live)
            report.problems += latent_openings(judged, live)
            reports.append(report)
    return reports

