"""Topology file (versions 1 and 2) -> System, reporting every problem at once as FILE:LINE:COL."""

from __future__ import annotations

import ipaddress
from collections import Counter
from pathlib import Path
from typing import Any

from generator.errors import TopologyError, did_you_mean
from generator.intent.matrix import SERVER_SERVICES, server_allows
from generator.model import (
    CLOUD_TARGETS,
    DEFAULT_PORT,
    LISTED_TARGETS,
    MONITORS_NAME,
    ONPREM,
    ROLE_GROUP,
    Address,
    NetworkSpec,
    Role,
    RoleGroup,
    Server,
    System,
    Target,
)
from generator.topology import options, peers
from generator.topology.checker import Checker
from generator.topology.host_firewall import check_hosts
from generator.topology.hosts import host_problem
from generator.topology.overlaps import overlaps
from generator.topology.perimeter import check_perimeter
from generator.topology.slots import check_slots
from generator.topology.yaml_source import Spanned, load_spanned, type_name

SUPPORTED_VERSIONS = (1, 2)
TOP_KEYS = ("version", "system", "port", "previous_port", "targets", "servers", "renamed_from",
            "azure")
V2_TOP_KEYS = ("web_ports", "advise_ports", "clients", "outstations", "networks")
SERVER_KEYS = ("name", "role", "addresses", "renamed_from")

V2_SERVER_KEYS = ("icmp_monitors", "network")
MAX_STANDBYS = 2  # docs/geo-scada.md: a Triple Standby is a Main and two Standbys
# docs/geo-scada.md: at most 4 permanent standbys with a pair, at most 3 with a Triple Standby. DMZ
# permanent standbys count as permanent standbys (inferred there); a standalone Main takes the
# pair's limit (inferred: the help gives no separate figure).
MAX_PERMANENT = {1: 4, 2: 4, 3: 3}


def load_topology(path: Path) -> System:
    """Read and validate one topology file; raise TopologyError listing every problem."""
    return parse_topology(load_spanned(path), str(path), path.name)


def parse_topology(doc: Spanned, path: str, source_name: str = "") -> System:
    check = Checker(path)
    if not isinstance(doc.value, dict):
        check.at(doc, f"a topology file is a mapping with keys {', '.join(TOP_KEYS)}; "
                      f"this one holds {doc.kind}")
        raise TopologyError(check.problems)
    top: dict[str, Spanned] = doc.value
    for key in ("version", "system", "servers"):
        if key not in top:
            check.at(doc, f"missing required key '{key}'")

    version = check.version = _version(check, top.get("version"))
    check.unknown_keys(doc, TOP_KEYS + V2_TOP_KEYS if version == 2 else TOP_KEYS,
                       "the topology", V2_TOP_KEYS)

    system_name = check.name(top["system"], "system") if "system" in top else None
    renamed_from = options.renamed_from(check, top.get("renamed_from"), "system")
    azure = options.azure(check, top.get("azure"))
    port = _port(check, top.get("port"))
    previous = _previous_port(check, top.get("previous_port"), port)
    ports = tuple(sorted({port, previous or port}))
    targets = _targets(check, top.get("targets"))
    servers = _servers(check, top.get("servers"))
    extra: dict[str, Any] = {}
    if version == 2:
        extra = {
            "web_ports": peers.web_ports(check, top.get("web_ports"), ports),
            "advise_ports": peers.advise_range(check, top.get("advise_ports"), ports),
            "clients": peers.clients(check, top.get("clients")),
            "outstations": peers.outstations(check, top.get("outstations"), ports),
        }

    if version == 2 and servers is not None:
        _distinct_peer_names(check, top, {s.name for s in servers})
        extra["networks"] = peers.networks(check, top.get("networks"))
        if "networks" in top and "targets" in top:
            check.at(top["targets"], "a file has `targets` or `networks`, not both: with "
                                     "`networks`, each network's cloud says which module it gets")
        if "networks" in top:
            targets = tuple(t for t in Target
                            if any(n.cloud == t.value for n in extra["networks"]))
            if any(n.host_firewall for n in extra["networks"]):
                targets += (Target.WINDOWS,)
            if any(n.cloud == ONPREM for n in extra["networks"]):
                targets += (Target.PERIMETER,)
            _placed(check, top, servers, extra["networks"])
    if version == 2:
        options.peer_renames(check, top.get("clients"), "client", extra["clients"])
        options.peer_renames(check, top.get("outstations"), "outstation", extra["outstations"])
    if servers is not None:
        options.renames(check, top, servers)
        _monitors_apart(check, top, servers)
    if check.problems or system_name is None or servers is None:
        raise TopologyError(check.problems)
    system = System(
        renamed_from="" if renamed_from == system_name else renamed_from,
        azure=azure,
        name=system_name,
        port=port,
        previous_port=previous,
        targets=targets,
        servers=tuple(sorted(servers, key=lambda s: s.name)),
        source=source_name,
        version=version,
        **extra,
    )
    _whole(check, top, system)
    return system


def _whole(check: Checker, top: dict[str, Spanned], system: System) -> None:
    """What is checked on the system as a whole, once every key is sound: parties that hold a
    server (found on the flows), Azure priority slots, and the host firewall's addresses."""
    overlaps(check, top, system)
    check_slots(check, top, system)
    check_hosts(check, top, system)
    check_perimeter(check, top, system)
    if check.problems:
        raise TopologyError(check.problems)


def _version(check: Checker, value: Spanned | None) -> int:
    if value is None:
        return 1
    if type(value.value) is not int or value.value not in SUPPORTED_VERSIONS:
        check.at(value, f"version must be 1 or 2 (the versions this scadafw reads), "
                        f"got {value.value!r}")
        return 1
    return int(value.value)


def _port(check: Checker, value: Spanned | None) -> int:
    if value is None:
        return DEFAULT_PORT
    port = peers.port_number(check, value, "port")
    return DEFAULT_PORT if port is None else port


def _previous_port(check: Checker, value: Spanned | None, port: int) -> int | None:
    """`previous_port`: during a port migration, the port the servers are moving from."""
    if value is None:
        return None
    previous = peers.port_number(check, value, "previous_port")
    if previous is not None and previous == port:
        check.at(value, f"previous_port is the port itself ({port}); drop previous_port once "
                        "the migration is done")
        return None
    return previous


def _targets(check: Checker, value: Spanned | None) -> tuple[Target, ...]:
    if value is None:
        return CLOUD_TARGETS
    allowed = tuple(t.value for t in LISTED_TARGETS)
    if not isinstance(value.value, list) or not value.value:
        check.at(value, f"targets must be a non-empty list of: {', '.join(allowed)}")
        return ()
    chosen: set[Target] = set()
    for item in value.value:
        if not isinstance(item.value, str) or item.value not in allowed:
            shown = item.value if isinstance(item.value, str) else type_name(item.value)
            hint = did_you_mean(item.value, allowed) if isinstance(item.value, str) else ""
            check.at(item, f"unknown target {shown!r}{hint}; allowed: {', '.join(allowed)}")
        elif Target(item.value) in chosen:
            check.at(item, f"target '{item.value}' is listed twice")
        else:
            chosen.add(Target(item.value))
    return tuple(t for t in Target if t in chosen)


def _servers(check: Checker, value: Spanned | None) -> list[Server] | None:
    if value is None:
        return None
    if not isinstance(value.value, list) or not value.value:
        check.at(value, "servers must be a non-empty list of {name, role, addresses} mappings")
        return None
    servers: list[Server] = []
    roles: list[tuple[Role | None, Spanned]] = []  # every entry's role, whatever else is wrong
    names: dict[str, int] = {}
    seen_addresses: dict[Address, int] = {}
    for entry in value.value:
        if not isinstance(entry.value, dict):
            check.at(entry, f"each server is a mapping with keys {', '.join(SERVER_KEYS)}, "
                            f"got {entry.kind}")
            roles.append((None, entry))
            continue
        role = _role(check, entry.value.get("role"))
        roles.append((role, entry))
        server = _server(check, entry, role, seen_addresses)
        if server is None:
            continue
        if server.name in names:
            check.at(entry.value["name"],
                     f"duplicate server name '{server.name}' (first at line {names[server.name]})")
            continue
        names[server.name] = entry.value["name"].line
        servers.append(server)
    _role_counts(check, value, roles)
    return servers


def _role(check: Checker, value: Spanned | None) -> Role | None:
    if value is None:
        return None
    allowed = tuple(x.value for x in Role)
    if isinstance(value.value, str) and value.value in allowed:
        return Role(value.value)
    hint = did_you_mean(value.value, allowed) if isinstance(value.value, str) else ""
    check.at(value, f"unknown role {value.value!r}{hint}; allowed: {', '.join(allowed)}")
    return None


def _server(check: Checker, entry: Spanned, role: Role | None,
            seen: dict[Address, int]) -> Server | None:
    fields: dict[str, Spanned] = entry.value
    check.unknown_keys(entry, SERVER_KEYS + V2_SERVER_KEYS if check.version == 2 else SERVER_KEYS,
                       "a server", V2_SERVER_KEYS)
    ok = True
    for key in ("name", "role"):
        if key not in fields:
            check.at(entry, f"server is missing required key '{key}'")
            ok = False
    name = check.name(fields["name"], "server name") if "name" in fields else None
    addresses = _addresses(check, fields.get("addresses"), seen)
    monitors = peers.icmp_monitors(check, fields.get("icmp_monitors"))
    network = fields.get("network")
    placed = ""
    if network is not None:
        placed = check.name(network, "network") or ""
    renamed_from = options.renamed_from(check, fields.get("renamed_from"), "renamed_from")
    if not ok or name is None or role is None or addresses is None:
        return None
    return Server(name=name, role=role, addresses=addresses, icmp_monitors=monitors,
                  network=placed, renamed_from=renamed_from)


def _addresses(
    check: Checker, value: Spanned | None, seen: dict[Address, int]
) -> tuple[Address, ...] | None:
    if value is None:
        return ()
    if not isinstance(value.value, list):
        check.at(value, "addresses must be a list of IPv4 or IPv6 host addresses, "
                        "one per redundancy link")
        return None
    result: list[Address] = []
    ok = True
    for item in value.value:
        address = _address(check, item)
        if address is None:
            ok = False
            continue
        if address in seen:
            check.at(item, f"address {address} is used twice (first at line {seen[address]})")
            ok = False
            continue
        seen[address] = item.line
        result.append(address)
    return tuple(result) if ok else None


def _address(check: Checker, item: Spanned) -> Address | None:
    if not isinstance(item.value, str):
        check.at(item, "an address must be a string such as 10.0.0.10 or fd00::10, "
                       f"got {item.kind}")
        return None
    text = item.value
    if "/" in text:
        check.at(item, f"address {text!r} is a network; give the server's own host address "
                       "(no '/prefix'): scadafw never opens a rule to a network")
        return None
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        check.at(item, f"{text!r} is not an IPv4 or IPv6 address")
        return None
    problem = host_problem(address)
    if problem is not None:
        check.at(item, f"address {text} {problem}")
        return None
    return address


def _role_counts(check: Checker, where: Spanned,
                 roles: list[tuple[Role | None, Spanned]]) -> None:
    """Counted on every entry's role, so that a problem elsewhere in an entry (its address,
    its name) is reported once, not again as a missing role."""
    known = [(role, entry) for role, entry in roles if role is not None]
    counts = Counter(role for role, _ in known)
    mains = [e for r, e in known if r is Role.MAIN]
    if counts[Role.MAIN] == 0 and len(known) == len(roles):
        check.at(where, "a system needs exactly one server with role 'main'; none found")
    for extra in mains[1:]:
        check.at(extra, f"a system has exactly one 'main'; another is at line {mains[0].line}")
    standbys = [e for r, e in known if r is Role.STANDBY]
    for extra in standbys[MAX_STANDBYS:]:
        check.at(extra, "at most 2 servers may have role 'standby' (a Triple Standby system)")
    redundant = min(3, max(1, sum(1 for r, _ in known if ROLE_GROUP[r] is RoleGroup.REDUNDANT)))
    limit = MAX_PERMANENT[redundant]
    permanent = [e for r, e in known if ROLE_GROUP[r] is not RoleGroup.REDUNDANT]
    for extra in permanent[limit:]:
        check.at(extra, f"at most {limit} permanent standbys (DMZ ones included) are allowed "
                        f"with {redundant} redundant server(s); this is number "
                        f"{permanent.index(extra) + 1}")


def _monitors_apart(check: Checker, top: dict[str, Spanned], servers: list[Server]) -> None:
    """An ICMP monitor host is a router or switch on the way, never a server of the system: the
    matrix already says which servers ping which, and a DMZ standby's monitor that is the Main
    would open the DMZ's outbound ICMP to the Main."""
    owners = {address: server.name for server in servers for address in server.addresses}
    entries = {e.value["name"].value: e for e in top["servers"].value
               if isinstance(e.value, dict) and "name" in e.value}
    for server in servers:
        listed = entries[server.name].value.get("icmp_monitors")
        if not server.icmp_monitors or listed is None:
            continue
        for item in listed.value:
            host = _host(item.value)
            if host in owners:
                check.at(item, f"icmp_monitors: {host} is the address of server "
                               f"'{owners[host]}'; a monitor host is a router, switch or other "
                               "host outside the system: the server rules already carry what "
                               "the servers send each other")


def _host(value: object) -> Address | None:
    try:
        return ipaddress.ip_address(str(value))
    except ValueError:
        return None


def _distinct_peer_names(check: Checker, top: dict[str, Spanned], servers: set[str]) -> None:
    """Clients, outstations and servers are named apart, so every listing tells them apart."""
    seen: dict[str, str] = dict.fromkeys(servers, "a server")
    seen[MONITORS_NAME] = "the name of the ICMP monitor hosts"
    for key, what in (("clients", "a client"), ("outstations", "an outstation")):
        entries = top.get(key)
        if entries is None or not isinstance(entries.value, list):
            continue
        for entry in entries.value:
            name = entry.value.get("name") if isinstance(entry.value, dict) else None
            if name is None or not isinstance(name.value, str):
                continue
            if name.value in seen and seen[name.value] != what:
                check.at(name, f"'{name.value}' is already {seen[name.value]}: name "
                               f"{what.split()[-1]}s apart from servers and each other")
            seen.setdefault(name.value, what)


def _placed(check: Checker, top: dict[str, Spanned], servers: list[Server],
            networks: tuple[NetworkSpec, ...]) -> None:
    """With `networks`: every server names a known network, and every server with a partner
    in another network lists its addresses (the partner's module names them)."""
    known = {n.name: n for n in networks}
    entries = {e.value["name"].value: e for e in top["servers"].value
               if isinstance(e.value, dict) and "name" in e.value}
    for server in servers:
        entry = entries[server.name]
        if not server.network:
            check.at(entry, f"server '{server.name}' needs `network` (one of: "
                            f"{', '.join(sorted(known)) or 'none defined'})")
        elif server.network not in known:
            hint = did_you_mean(server.network, tuple(known))
            check.at(entry.value["network"], f"unknown network '{server.network}'{hint}; "
                                             f"defined: {', '.join(sorted(known))}")
    for a in servers:
        for b in servers:
            if a.network == b.network or a.addresses or b.network not in known:
                continue
            if any(server_allows(a, b, s) or server_allows(b, a, s) for s in SERVER_SERVICES):
                what = ("perimeter policy" if known[b.network].cloud == ONPREM
                        else "module")
                check.at(entries[a.name], f"server '{a.name}' (network {a.network}) needs "
                                          f"`addresses`: its partner '{b.name}' is in network "
                                          f"{b.network}, whose {what} names partners in other "
                                          "networks by their addresses")
                break

