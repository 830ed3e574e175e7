"""The Geo SCADA flow matrices as data, row by row (docs/geo-scada.md): between servers by
role group, and between servers and what is not a server.

Rows are per role group, never per server: after a failover any redundant server is the Main,
so "from the Main" means "from every redundant server".
"""

from __future__ import annotations

from dataclasses import dataclass

from generator.intent.services import (
    ADVISE,
    ADVISE_PURPOSE,
    CONTROL,
    DRIVER_PURPOSE,
    ICMP,
    ICMPV6,
    LISTEN,
    MONITOR_PURPOSE,
    POLL,
    POLL_PURPOSE,
    SERVER_PORT,
    SERVER_SERVICES_ORDER,
    STATUS,
    SYNC,
    UNSOLICITED_PURPOSE,
    VIEWX,
    VIEWX_PURPOSE,
    WEB,
    WEB_PURPOSE,
    Purpose,
)
from generator.model import RoleGroup, Server

R = RoleGroup.REDUNDANT
P = RoleGroup.PERMANENT_STANDBY
D = RoleGroup.DMZ_PERMANENT_STANDBY
SERVER_SERVICES = SERVER_SERVICES_ORDER


@dataclass(frozen=True)
class ServerRow:
    """Servers of `source` open the server port and send the ICMP poll to `destination`'s:
    `purposes` are those of the server port; ICMP is the hardware poll."""

    source: RoleGroup
    destination: RoleGroup
    purposes: tuple[Purpose, ...]


# FAQ FA332309. Absent rows are denied: P -> P (not partners of each other, least privilege)
# and anything from the DMZ standby (item 5: it opens no connection and sends no ICMP poll).
SERVER_MATRIX: tuple[ServerRow, ...] = (
    ServerRow(R, R, (SYNC, CONTROL, STATUS)),
    ServerRow(R, P, (SYNC, STATUS)),
    ServerRow(R, D, (SYNC, STATUS)),
    ServerRow(P, R, (CONTROL, STATUS)),
)


def server_purposes(source: RoleGroup, destination: RoleGroup,
                    service: str) -> tuple[Purpose, ...] | None:
    """Why `source` servers open `service` to `destination` servers; None where the matrix
    has no such flow."""
    for row in SERVER_MATRIX:
        if row.source is source and row.destination is destination:
            return row.purposes if service == SERVER_PORT else (POLL_PURPOSE,)
    return None


def server_allows(source: Server, destination: Server, service: str) -> bool:
    """The matrix for one ordered server pair: ICMPv6 only between servers that both have an
    IPv6 address, and never a server to itself."""
    if source.name == destination.name:
        return False
    if service == ICMPV6 and not (source.has_ipv6 and destination.has_ipv6):
        return False
    return server_purposes(source.group, destination.group, service) is not None


def pair_services(source: Server, destination: Server) -> tuple[str, ...]:
    """The services worth judging for a pair: ICMPv6 only where both ends speak IPv6."""
    if source.has_ipv6 and destination.has_ipv6:
        return SERVER_SERVICES
    return (SERVER_PORT, ICMP)


CLIENT, MONITOR, OUTSTATION, PARTNER = "client", "monitor", "outstation", "partner"


@dataclass(frozen=True)
class PeerRow:
    kind: str  # CLIENT | MONITOR | OUTSTATION
    service: str
    inbound: bool  # True: the peer opens the connection towards the server
    groups: str  # "connects_to" (the client's), "own" (the server's own hosts), "redundant"
    purpose: Purpose


# "Beyond the server pair". Only the Main runs drivers, and any redundant server may be the
# Main: outstations talk to redundant servers, never to a permanent or DMZ standby.
PEER_MATRIX: tuple[PeerRow, ...] = (
    PeerRow(CLIENT, VIEWX, True, "connects_to", VIEWX_PURPOSE),
    PeerRow(CLIENT, WEB, True, "connects_to", WEB_PURPOSE),
    PeerRow(CLIENT, ADVISE, False, "connects_to", ADVISE_PURPOSE),
    PeerRow(MONITOR, ICMP, False, "own", MONITOR_PURPOSE),
    PeerRow(OUTSTATION, POLL, False, "redundant", DRIVER_PURPOSE),
    PeerRow(OUTSTATION, LISTEN, True, "redundant", UNSOLICITED_PURPOSE),
)
