"""Topology version 2: what crosses the firewall besides the servers themselves.

The keys `web_ports`, `advise_ports`, `clients`, `outstations` and the per-server
`icmp_monitors`, checked with the same `FILE:LINE:COL` reporting as version 1. Facts behind
each key: docs/geo-scada.md, "Beyond the server pair".
"""

from __future__ import annotations

import ipaddress

from generator.errors import did_you_mean
from generator.model import (
    DEFAULT_ADVISE_PORTS,
    DEFAULT_WEB_PORTS,
    FIREWALL_PLATFORMS,
    NETWORK_SLOTS,
    ONPREM,
    PEER_SLOTS,
    Address,
    Client,
    ClientService,
    Network,
    NetworkSpec,
    Outstation,
    RoleGroup,
)
from generator.topology.checker import Checker
from generator.topology.hosts import network_problem
from generator.topology.yaml_source import Spanned, type_name

CLIENT_KEYS = ("name", "sources", "services", "connects_to", "azure_slot", "renamed_from")
OUTSTATION_KEYS = ("name", "addresses", "protocol", "ports", "listen_ports", "azure_slot",
                   "renamed_from")
NETWORK_KEYS = ("cloud", "azure_slot", "host_firewall", "firewalls")
OUTSTATION_PROTOCOLS = ("tcp", "udp")
MAX_PEERS = 100  # clients, and outstations, per system: one Azure priority slot each
MAX_ICMP_MONITORS = 6  # docs/geo-scada.md: up to 3 hosts, plus up to 3 for the Backup connection
# The widest network a source or address may be: a generated rule never opens to the internet,
# and a /8 is already a whole private range.
WIDEST_PREFIX = {4: 8, 6: 32}


def port_number(check: Checker, item: Spanned, field: str) -> int | None:
    if isinstance(item.value, bool) or not isinstance(item.value, int):
        check.at(item, f"{field} must be an integer from 1 to 65535, got {item.kind} "
                       f"{item.value!r}")
        return None
    if not 1 <= item.value <= 65535:
        check.at(item, f"{field} must be from 1 to 65535, got {item.value}")
        return None
    return int(item.value)


def port_list(check: Checker, value: Spanned | None, field: str, server_ports: tuple[int, ...],
              default: tuple[int, ...] = (), required: bool = False,
              where: Spanned | None = None) -> tuple[int, ...]:
    """A non-empty list of distinct ports, none of them the server port."""
    if value is None:
        if required and where is not None:
            check.at(where, f"outstation is missing required key '{field}'")
        return default
    if not isinstance(value.value, list) or not value.value:
        check.at(value, f"{field} must be a non-empty list of port numbers")
        return default
    ports: list[int] = []
    for item in value.value:
        port = port_number(check, item, f"each of {field}")
        if port is None:
            continue
        if port in ports:
            check.at(item, f"port {port} is listed twice in {field}")
        elif port in server_ports:
            which = "the server port" if port == server_ports[-1] and len(server_ports) == 1 \
                else "a server port (port or previous_port)"
            check.at(item, f"{field} holds {port}, {which}: the server port already "
                           "carries ViewX and server-to-server traffic; choose another port")
        else:
            ports.append(port)
    return tuple(sorted(ports))


def advise_range(check: Checker, value: Spanned | None,
                 server_ports: tuple[int, ...]) -> tuple[int, int]:
    """`advise_ports`: "A-B" or one port; the range must not hold the server port."""
    if value is None:
        return DEFAULT_ADVISE_PORTS
    text = value.value
    if isinstance(text, int) and not isinstance(text, bool):
        low = high = text
    elif isinstance(text, str) and "-" in text and all(p.strip().isdigit()
                                                       for p in text.split("-", 1)):
        low, high = (int(p) for p in text.split("-", 1))
    else:
        check.at(value, f"advise_ports must be a port or a range \"A-B\" such as 5500-5509, "
                        f"got {value.kind} {text!r}")
        return DEFAULT_ADVISE_PORTS
    if not (1 <= low <= high <= 65535):
        check.at(value, f"advise_ports {text!r} must be a range of ports from 1 to 65535, "
                        "low end first")
        return DEFAULT_ADVISE_PORTS
    held = [p for p in server_ports if low <= p <= high]
    if held:
        check.at(value, f"advise_ports {low}-{high} holds the server port {held[0]}; "
                        "choose a range without it")
        return DEFAULT_ADVISE_PORTS
    return low, high


def web_ports(check: Checker, value: Spanned | None,
              server_ports: tuple[int, ...]) -> tuple[int, ...]:
    return port_list(check, value, "web_ports", server_ports, DEFAULT_WEB_PORTS)


def network(check: Checker, item: Spanned, field: str) -> Network | None:
    """A network or a host address (taken as /32 or /128), never wider than WIDEST_PREFIX."""
    if not isinstance(item.value, str):
        check.at(item, f"each of {field} must be a string such as 192.168.20.0/24 or "
                       f"192.168.20.5, got {item.kind}")
        return None
    try:
        net = ipaddress.ip_network(item.value, strict=True)
    except ValueError as exc:
        detail = "has host bits set" if "host bits" in str(exc) else "is not an address or network"
        check.at(item, f"{field}: {item.value!r} {detail}; write a network such as "
                       "192.168.20.0/24 or a host address")
        return None
    widest = WIDEST_PREFIX[net.version]
    if net.prefixlen < widest:
        check.at(item, f"{field}: {item.value} is wider than /{widest}: scadafw never opens a "
                       "rule to the whole internet or to more than one private range; name "
                       "the networks the hosts are in")
        return None
    problem = network_problem(net)
    if problem is not None:
        check.at(item, f"{field}: {item.value} {problem}")
        return None
    return net


def network_list(check: Checker, value: Spanned | None, field: str,
                 where: Spanned, what: str) -> tuple[Network, ...]:
    if value is None:
        check.at(where, f"{what} is missing required key '{field}'")
        return ()
    if not isinstance(value.value, list) or not value.value:
        check.at(value, f"{field} must be a non-empty list of networks or host addresses")
        return ()
    found: list[Network] = []
    for item in value.value:
        net = network(check, item, field)
        if net is None:
            continue
        if net in found:
            check.at(item, f"{field}: {net} is listed twice")
            continue
        found.append(net)
    return tuple(sorted(found, key=lambda n: (n.version, n)))


def _choices(check: Checker, value: Spanned | None, field: str, allowed: tuple[str, ...],
             default: tuple[str, ...], where: Spanned) -> tuple[str, ...]:
    if value is None:
        if not default:
            check.at(where, f"client is missing required key '{field}'")
        return default
    if not isinstance(value.value, list) or not value.value:
        check.at(value, f"{field} must be a non-empty list of: {', '.join(allowed)}")
        return default
    chosen: list[str] = []
    for item in value.value:
        if not isinstance(item.value, str) or item.value not in allowed:

            shown = item.value if isinstance(item.value, str) else item.kind
            hint = did_you_mean(item.value, allowed) if isinstance(item.value, str) else ""
            check.at(item, f"unknown {field} value {shown!r}{hint}; allowed: "
                           f"{', '.join(allowed)}")
        elif item.value in chosen:
            check.at(item, f"'{item.value}' is listed twice in {field}")
        else:
            chosen.append(item.value)
    return tuple(chosen)


def _named_entries(check: Checker, value: Spanned | None, what: str,
                   keys: tuple[str, ...]) -> list[tuple[str, dict[str, Spanned], Spanned]]:
    """The mappings of a list of named entries, each with a valid, unique name."""
    if value is None:
        return []
    if not isinstance(value.value, list):
        check.at(value, f"{what}s must be a list of mappings with keys {', '.join(keys)}")
        return []
    entries = []
    names: dict[str, int] = {}
    if len(value.value) > MAX_PEERS:
        check.at(value.value[MAX_PEERS], f"at most {MAX_PEERS} {what}s per system (each takes "
                                         "one of 100 Azure priority slots); this is number "
                                         f"{MAX_PEERS + 1}")
    for entry in value.value[:MAX_PEERS]:
        if not isinstance(entry.value, dict):
            check.at(entry, f"each {what} is a mapping with keys {', '.join(keys)}, "
                            f"got {entry.kind}")
            continue
        check.unknown_keys(entry, keys, f"a {what}")
        fields: dict[str, Spanned] = entry.value
        if "name" not in fields:
            check.at(entry, f"{what} is missing required key 'name'")
            continue
        name = check.name(fields["name"], f"{what} name")
        if name is None:
            continue
        if name in names:
            check.at(fields["name"], f"duplicate {what} name '{name}' (first at line "
                                     f"{names[name]})")
            continue
        names[name] = fields["name"].line
        entries.append((name, fields, entry))
    return entries


def clients(check: Checker, value: Spanned | None) -> tuple[Client, ...]:
    found = []
    services = tuple(s.value for s in ClientService)
    groups = tuple(g.value for g in RoleGroup)
    for name, fields, entry in _named_entries(check, value, "client", CLIENT_KEYS):
        sources = network_list(check, fields.get("sources"), "sources", entry, "client")
        used = _choices(check, fields.get("services"), "services", services, (), entry)
        reach = _choices(check, fields.get("connects_to"), "connects_to", groups,
                         (RoleGroup.REDUNDANT.value,), entry)
        slot = azure_slot(check, fields.get("azure_slot"), PEER_SLOTS)
        former = _former(check, fields.get("renamed_from"), name)
        if sources and used and reach:
            found.append(Client(
                name, sources,
                tuple(s for s in ClientService if s.value in used),
                tuple(g for g in RoleGroup if g.value in reach), slot, former))
    return tuple(sorted(found))


def outstations(check: Checker, value: Spanned | None,
                server_ports: tuple[int, ...]) -> tuple[Outstation, ...]:
    found = []
    for name, fields, entry in _named_entries(check, value, "outstation", OUTSTATION_KEYS):
        addresses = network_list(check, fields.get("addresses"), "addresses", entry, "outstation")
        protocol = fields.get("protocol")
        chosen = None
        if protocol is None:
            check.at(entry, "outstation is missing required key 'protocol' (tcp or udp)")
        elif protocol.value not in OUTSTATION_PROTOCOLS:
            extra = (": drivers reach outstations over TCP or UDP; ICMP monitor hosts go in a "
                     "server's icmp_monitors" if protocol.value == "icmp" else "")
            check.at(protocol, f"outstation protocol must be tcp or udp, got "
                               f"{protocol.value!r}{extra}")
        else:
            chosen = str(protocol.value)
        ports = port_list(check, fields.get("ports"), "ports", (), required=True, where=entry)
        listen = port_list(check, fields.get("listen_ports"), "listen_ports", server_ports)
        slot = azure_slot(check, fields.get("azure_slot"), PEER_SLOTS)
        former = _former(check, fields.get("renamed_from"), name)
        if addresses and chosen and ports:
            found.append(Outstation(name, addresses, chosen, ports, listen, slot, former))
    return tuple(sorted(found))


def _former(check: Checker, value: Spanned | None, name: str) -> str:
    """`renamed_from` of a client or outstation (checked against other names in read.py)."""
    if value is None:
        return ""
    former = check.name(value, "renamed_from") or ""
    if former == name:
        check.at(value, f"'{name}' is renamed from its own name; drop renamed_from")
        return ""
    return former


def azure_slot(check: Checker, value: Spanned | None, count: int) -> int | None:
    """`azure_slot`: where the entry's Azure priorities go, 0 to count - 1 (topology/slots.py)."""
    if value is None:
        return None
    if type(value.value) is not int or not 0 <= value.value < count:
        check.at(value, f"azure_slot must be a whole number from 0 to {count - 1}, got "
                        f"{value.value!r}")
        return None
    return int(value.value)


def icmp_monitors(check: Checker, value: Spanned | None) -> tuple[Address, ...]:
    if value is None:
        return ()
    if not isinstance(value.value, list):
        check.at(value, "icmp_monitors must be a list of host addresses")
        return ()
    if len(value.value) > MAX_ICMP_MONITORS:
        check.at(value.value[MAX_ICMP_MONITORS],
                 f"at most {MAX_ICMP_MONITORS} ICMP monitor hosts per server (3 for the Main "
                 f"connection and 3 for the Backup); this is number {MAX_ICMP_MONITORS + 1}")
    found: list[Address] = []
    for item in value.value[:MAX_ICMP_MONITORS]:
        net = network(check, item, "icmp_monitors")
        if net is None:
            continue
        if net.prefixlen != net.max_prefixlen:
            check.at(item, f"icmp_monitors: {item.value} is a network; give the host's address")
            continue
        if net.network_address in found:
            check.at(item, f"icmp_monitors: {net.network_address} is listed twice")
            continue
        found.append(net.network_address)
    return tuple(found)


NETWORK_CLOUDS = ("aws", "azure", ONPREM)
MAX_NETWORKS = 10


def networks(check: Checker, value: Spanned | None) -> tuple[NetworkSpec, ...]:
    """`networks`: name -> {cloud: aws | azure | onprem}."""
    if value is None:
        return ()
    if not isinstance(value.value, dict) or not value.value:
        check.at(value, "networks must be a mapping of network names to {cloud: aws | azure | "
                        "onprem}")
        return ()
    found = []
    if len(value.value) > MAX_NETWORKS:
        check.at(value, f"at most {MAX_NETWORKS} networks per system (each takes one of "
                        f"{MAX_NETWORKS} Azure priority slots); this one has {len(value.value)}")
    for key, entry in value.value.items():
        where = value.key_marks.get(key, (value.line, value.column))
        name = check.name(Spanned(key, *where), "network name")
        if not isinstance(entry.value, dict):
            check.at(entry, f"network '{key}' must be a mapping such as {{cloud: aws}}")
            continue
        check.unknown_keys(entry, NETWORK_KEYS, f"network '{key}'")
        cloud = entry.value.get("cloud")
        if cloud is None:
            check.at(entry, f"network '{key}' is missing required key 'cloud' "
                            f"({', '.join(NETWORK_CLOUDS)})")
            continue
        if cloud.value not in NETWORK_CLOUDS:

            hint = did_you_mean(cloud.value, NETWORK_CLOUDS) if isinstance(cloud.value, str) \
                else ""
            check.at(cloud, f"unknown cloud {cloud.value!r}{hint}; allowed: "
                            f"{', '.join(NETWORK_CLOUDS)}")
            continue
        slot = azure_slot(check, entry.value.get("azure_slot"), NETWORK_SLOTS)
        hosts = entry.value.get("host_firewall")
        if hosts is not None and not isinstance(hosts.value, bool):
            check.at(hosts, f"host_firewall must be true or false, got {hosts.value!r}")
        platforms = firewalls(check, entry.value.get("firewalls"), str(key), str(cloud.value))
        if name is not None:
            found.append(NetworkSpec(name, str(cloud.value), slot,
                                     hosts is not None and hosts.value is True, platforms))
    return tuple(sorted(found))


def firewalls(check: Checker, value: Spanned | None, network: str,
              cloud: str) -> tuple[str, ...]:
    """`firewalls` of an on-premises network: the platforms its perimeter policy is rendered
    for, by aerleon's names."""
    if value is None:
        return ()
    if cloud != ONPREM:
        check.at(value, f"network '{network}' is in {cloud}: `firewalls` names the platforms "
                        "of an on-premises perimeter (cloud: onprem); the cloud's own module "
                        "is the firewall there")
        return ()
    if not isinstance(value.value, list) or not value.value:
        check.at(value, f"firewalls must be a non-empty list of: {', '.join(FIREWALL_PLATFORMS)}")
        return ()
    found: list[str] = []
    for item in value.value:
        if not isinstance(item.value, str) or item.value not in FIREWALL_PLATFORMS:
            shown = item.value if isinstance(item.value, str) else type_name(item.value)
            hint = did_you_mean(item.value, FIREWALL_PLATFORMS) if isinstance(
                item.value, str) else ""
            check.at(item, f"unknown firewall platform {shown!r}{hint}; scadafw renders "
                           f"perimeter policies (through aerleon) for: "
                           f"{', '.join(FIREWALL_PLATFORMS)}")
        elif item.value in found:
            check.at(item, f"firewall platform '{item.value}' is named twice")
        else:
            found.append(item.value)
    return tuple(sorted(found))
