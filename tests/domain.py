"""docs/geo-scada.md's flow matrix, transcribed for the tests independently of generator/intent.

"A -> B": A opens the connection / sends the echo request. Roles, not groups: the table below
is the matrix of docs/geo-scada.md with "redundant" spelled out as main and standby.
"""

from __future__ import annotations

REDUNDANT = ("main", "standby")
PERMANENT = "permanent_standby"
DMZ = "dmz_permanent_standby"
ROLES = (*REDUNDANT, PERMANENT, DMZ)

# (from role, to role): True where docs/geo-scada.md allows "TCP port + ICMP echo".
_MATRIX: dict[tuple[str, str], bool] = {}
for _a in ROLES:
    for _b in ROLES:
        if _a in REDUNDANT:
            # redundant -> redundant, permanent_standby, dmz: TCP port + ICMP echo
            _MATRIX[(_a, _b)] = True
        elif _a == PERMANENT:
            # permanent_standby -> redundant only; none to another permanent or to the DMZ
            _MATRIX[(_a, _b)] = _b in REDUNDANT
        else:
            # dmz_permanent_standby -> nothing, ever (item 5)
            _MATRIX[(_a, _b)] = False


def domain_allows(src_role: str, dst_role: str) -> bool:
    """Whether docs/geo-scada.md allows the server port and ICMP echo from src to dst."""
    return _MATRIX[(src_role, dst_role)]


# docs/geo-scada.md "Beyond the server pair", transcribed from the raw topology document (a dict as
# YAML reads it), independently of generator/intent. "inbound": the peer opens the
# connection to the server; otherwise the server opens it (or sends the echo) to the peer.
GROUP_OF = {"main": "redundant", "standby": "redundant", PERMANENT: PERMANENT, DMZ: DMZ}


def _within(address: str, networks: list[str]) -> bool:
    import ipaddress  # noqa: PLC0415

    host = ipaddress.ip_address(address)
    return any(host.version == (net := ipaddress.ip_network(n)).version and host in net
               for n in networks)


def peer_allows(doc: dict, server: str, address: str, protocol: str, port: int,
                inbound: bool) -> bool:
    servers = {s["name"]: s for s in doc["servers"]}
    group = GROUP_OF[servers[server]["role"]]
    server_ports = {doc.get("port", 5481), doc.get("previous_port", doc.get("port", 5481))}
    web = doc.get("web_ports", [443])
    advise = str(doc.get("advise_ports", "5500-5509")).split("-")
    low, high = int(advise[0]), int(advise[-1])
    for client in doc.get("clients", []):
        if not _within(address, client["sources"]):
            continue
        if group not in client.get("connects_to", ["redundant"]):
            continue
        services = client["services"]
        if inbound and protocol == "tcp" and (
                ("viewx" in services and port in server_ports)
                or ("web" in services and port in web)):
            return True
        if not inbound and protocol == "tcp" and "advise" in services and low <= port <= high:
            return True
    if not inbound and protocol in ("icmp", "icmpv6"):
        # a server pings its own monitor hosts; any server of its role group may take its role
        mates = [s for s in doc["servers"] if GROUP_OF[s["role"]] == group]
        if any(address in s.get("icmp_monitors", []) for s in mates):
            return True
    for station in doc.get("outstations", []):
        if group != "redundant" or not _within(address, station["addresses"]):
            continue
        if protocol != station["protocol"]:
            continue
        if inbound and port in station.get("listen_ports", []):
            return True
        if not inbound and port in station["ports"]:
            return True
    return False


# The same tables as exact sets (netaddr, independent of generator/judge's own sets): for one
# server address, which addresses the topology names on one side, for one protocol and port.
# `addresses` gives each server's addresses (a server without any is judged at a stand-in).
def expected_peers(doc: dict, addresses: dict[str, list[str]], server: str, protocol: str,
                   port: int, inbound: bool):  # type: ignore[no-untyped-def]
    from netaddr import IPSet  # noqa: PLC0415

    servers = {s["name"]: s for s in doc["servers"]}
    me = servers[server]
    group = GROUP_OF[me["role"]]
    # during a port migration (`previous_port`), every server-port flow on both ports
    server_ports = {doc.get("port", 5481), doc.get("previous_port", doc.get("port", 5481))}
    found = IPSet()

    def family(items: list[str]) -> list[str]:
        if protocol == "icmp":
            return [a for a in items if ":" not in a]
        if protocol == "icmpv6":
            return [a for a in items if ":" in a]
        return list(items)

    for name, other in servers.items():
        if name == server:
            continue
        src, dst = (other, me) if inbound else (me, other)
        if not domain_allows(src["role"], dst["role"]):
            continue
        if (protocol == "tcp" and port in server_ports) or (protocol, port) in (
                ("icmp", 8), ("icmpv6", 128)):
            found |= IPSet(family(addresses[name]))
    web = doc.get("web_ports", [443])
    advise = str(doc.get("advise_ports", "5500-5509")).split("-")
    low, high = int(advise[0]), int(advise[-1])
    for client in doc.get("clients", []):
        if group not in client.get("connects_to", ["redundant"]):
            continue
        services = client["services"]
        if protocol == "tcp" and (
                (inbound and "viewx" in services and port in server_ports)
                or (inbound and "web" in services and port in web)
                or (not inbound and "advise" in services and low <= port <= high)):
            found |= IPSet(client["sources"])
    if not inbound and protocol in ("icmp", "icmpv6"):
        for mate in servers.values():
            if GROUP_OF[mate["role"]] == group:
                found |= IPSet(family(mate.get("icmp_monitors", [])))
    for station in doc.get("outstations", []) if group == "redundant" else []:
        ports = station.get("listen_ports", []) if inbound else station["ports"]
        if protocol == station["protocol"] and port in ports:
            found |= IPSet(station["addresses"])
    return found
