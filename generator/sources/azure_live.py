"""A live Azure subscription, read-only: each server address's NIC found by the address in the
resource group, the NIC's and the subnet's NSG read back (default rules and ASG memberships
included), and the ASG memberships of every other NIC there.

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
from dataclasses import dataclass, field
from typing import Any, TypeVar

from generator.judge.addresses import AddressSet
from generator.judge.azure import DEFAULT_RULES, AdminRule, AzureState
from generator.judge.sides import Link
from generator.sources.aws_live import AuditError

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


def arm_id(value: str | None) -> str:
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
    link_nic: dict[str, str] = field(default_factory=dict)  # "server:address" -> NIC name
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
        self._admin: dict[str, list[AdminRule]] = {}
        self.asg_tags: dict[str, dict[str, str]] = {}

    def _run(self, action: Callable[[], T]) -> T:
        return _calls(action, self.subscription, self.group)

    def nics(self) -> list[Any]:
        if self._nics is None:
            self._nics = self._run(lambda: list(
                self.client.network_interfaces.list(self.group)))
            for asg in self._run(lambda: list(
                    self.client.application_security_groups.list(self.group))):
                self.asg_tags[arm_id(asg.id)] = dict(asg.tags or {})
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
            self._subnet_nsg[subnet_id] = arm_id(nsg.id) if nsg else ""
        return self._subnet_nsg[subnet_id]


    def admin_rules(self, vnet_id: str) -> list[AdminRule]:
        """The effective security admin rules of one virtual network (Virtual Network
        Manager), every page of them."""
        if vnet_id not in self._admin:
            from azure.mgmt.network.models import QueryRequestOptions  # noqa: PLC0415

            parts = _parts(vnet_id)
            found: list[AdminRule] = []
            token: str | None = None
            while True:
                options = QueryRequestOptions(skip_token=token)

                def page_of(options: Any = options) -> Any:
                    return self.client.list_network_manager_effective_security_admin_rules(
                        parts["resource_group"], parts["name"], options)

                page = self._run(page_of)
                found += [_admin_rule(item) for item in page.value or []]
                token = page.skip_token
                if not token:
                    break
            self._admin[vnet_id] = found
        return self._admin[vnet_id]


def _admin_rule(item: Any) -> AdminRule:
    def ends(items: Any) -> tuple[str, ...]:
        return tuple(str(i.address_prefix) for i in items or [] if i.address_prefix)

    name = str(item.id or "").rsplit("/", 1)[-1] or "rule"
    collection = str(item.id or "").split("/ruleCollections/")[-1].split("/")[0]
    label = f"security admin rule {name}" + (f" of collection {collection}" if collection
                                             and collection != item.id else "")
    return AdminRule(label, int(item.priority or 0), str(getattr(item.direction, "value",
                                                                 item.direction) or ""),
                     str(getattr(item.access, "value", item.access) or "Deny"),
                     str(getattr(item.protocol, "value", item.protocol) or "Any"),
                     ends(item.sources), ends(item.destinations),
                     tuple(str(p) for p in item.source_port_ranges or []),
                     tuple(str(p) for p in item.destination_port_ranges or []))


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
                asg.id = arm_id(asg.id)
        kind = "rule" if rule in props.security_rules else "default rule"
        live.state.rule_address[id(rule)] = f"NSG {nsg.name} {kind} {rule.name}"


def read_live(reader: AzureReader, links: list[Link]) -> LiveGroup:
    """The NSGs and ASG memberships that apply to each server address (link), its NIC found by
    the address; every other NIC's ASG memberships too (a rule naming an ASG admits them)."""
    live = LiveGroup()
    wanted = {link.address: link for link in links}
    seen: set[Link] = set()
    for nic in reader.nics():
        for config in nic.properties.ip_configurations or []:
            cp = config.properties
            try:
                address = ipaddress.ip_address(cp.private_ip_address or "")
            except ValueError:
                continue
            link = wanted.get(address)
            if link is None:
                for asg in cp.application_security_groups or []:
                    live.state.other_members[arm_id(asg.id)] = live.state.other_members.get(
                        arm_id(asg.id), AddressSet()) | AddressSet.of(address)
                continue
            seen.add(link)
            key = str(link)
            live.link_nic[key] = nic.name
            if nic.name not in live.interfaces.setdefault(link.server, []):
                live.interfaces[link.server].append(nic.name)
            nic_nsg = nic.properties.network_security_group
            live.state.nic_nsgs.setdefault(key, [])
            if nic_nsg:
                _add_nsg(live, reader, arm_id(nic_nsg.id))
                live.state.nic_nsgs[key].append(arm_id(nic_nsg.id))
            subnet_nsg = reader.subnet_nsg(cp.subnet.id) if cp.subnet else ""
            if cp.subnet:  # the virtual network's security admin rules come first
                vnet = arm_id(cp.subnet.id).split("/subnets/")[0]
                live.state.vnet_of[key] = vnet
                if vnet not in live.state.admin_rules:
                    live.state.admin_rules[vnet] = reader.admin_rules(vnet)
            subnets = live.state.server_subnet_nsgs.setdefault(key, [])
            if subnet_nsg:
                _add_nsg(live, reader, subnet_nsg)
                subnets.append(subnet_nsg)
            members = live.state.asgs_of.setdefault(key, set())
            for asg in cp.application_security_groups or []:
                members.add(arm_id(asg.id))
                live.names[arm_id(asg.id)] = asg.id.rsplit("/", 1)[-1]
    for link in links:
        if link not in seen:
            live.problems.append(f"{link.server}: no network interface in resource group "
                                 f"{reader.group} has its address {link.address}")
    live.tags.update(reader.asg_tags)
    return live
