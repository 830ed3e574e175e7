"""The Geo SCADA server-to-server policy, as data: DOMAIN.md's flow matrix, row by row.

A `FlowRule` says that servers of one role group open a service towards another group. The
table is written per role group, never per server: after a failover any redundant server is
the Main, so "from the Main" means "from every redundant server" (DOMAIN.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from functools import lru_cache

from generator.model import RoleGroup, Server, System

R = RoleGroup.REDUNDANT
P = RoleGroup.PERMANENT_STANDBY
D = RoleGroup.DMZ_PERMANENT_STANDBY

ICMP_ECHO_REQUEST = 8  # DOMAIN.md: ICMP rules use the type as from_port; 8 = echo request
ICMPV6_ECHO_REQUEST = 128


class Service(Enum):
    """What crosses the firewall. The server port's number comes from the System."""

    SERVER_PORT = "tcp"
    ICMP_ECHO = "icmp"
    ICMPV6_ECHO = "icmpv6"  # only between servers that both have an IPv6 address

    @property
    def index(self) -> int:
        return _SERVICE_INDEX[self]

    def label(self, port: int) -> str:
        return {
            Service.SERVER_PORT: f"TCP {port}",
            Service.ICMP_ECHO: "ICMP echo request",
            Service.ICMPV6_ECHO: "ICMPv6 echo request",
        }[self]


_SERVICE_INDEX = {service: i for i, service in enumerate(Service, start=1)}


@dataclass(frozen=True, order=True)
class Purpose:
    """Why Geo SCADA needs a flow: `short` fits rule descriptions (Azure: 140 characters),
    `text` is DOMAIN.md's wording for READMEs."""

    short: str
    text: str


# DOMAIN.md, FAQ FA332309 items 1-4.
SYNC = Purpose("synchronisation", "synchronisation and configuration from the Main (item 1)")
CONTROL = Purpose("control requests", "control requests and proxied actions to the Main (item 2)")
STATUS = Purpose("status check", "partner status check on the server port (item 3)")
POLL = Purpose("ICMP poll", "hardware poll with ICMP echo (item 4)")


@dataclass(frozen=True)
class FlowRule:
    """Servers of `source` open `service` towards servers of `destination`."""

    source: RoleGroup
    destination: RoleGroup
    services: tuple[Service, ...]
    purposes: tuple[Purpose, ...]


_PORT_AND_POLL = (Service.SERVER_PORT, Service.ICMP_ECHO, Service.ICMPV6_ECHO)

# DOMAIN.md "The resulting flow matrix". Absent rows are denied: P -> P (not partners of each
# other, least privilege), and anything from the DMZ standby (item 5: it opens no connection
# and sends no ICMP poll; traffic goes from the Main to it, never the other way round).
FLOW_MATRIX: tuple[FlowRule, ...] = (
    FlowRule(R, R, _PORT_AND_POLL, (SYNC, CONTROL, STATUS, POLL)),
    FlowRule(R, P, _PORT_AND_POLL, (SYNC, STATUS, POLL)),
    FlowRule(R, D, _PORT_AND_POLL, (SYNC, STATUS, POLL)),
    FlowRule(P, R, _PORT_AND_POLL, (CONTROL, STATUS, POLL)),
)


@dataclass(frozen=True, order=True)
class Flow:
    """One service from one role group to another, as a rule pair on the cloud side."""

    source: RoleGroup
    destination: RoleGroup
    service: Service
    purposes: tuple[Purpose, ...]

    @property
    def service_purposes(self) -> tuple[Purpose, ...]:
        """The purposes this flow's service serves: the port carries all but the ICMP poll."""
        if self.service is Service.SERVER_PORT:
            return tuple(p for p in self.purposes if p != POLL)
        return (POLL,)

    def description(self, port: int) -> str:
        """A rule description (AWS's character set, Azure's 140 characters)."""
        why = ", ".join(p.short for p in self.service_purposes)
        return (f"Geo SCADA {self.source.slug} to {self.destination.slug}, "
                f"{self.service.label(port)}: {why}")


def _rule_for(source: RoleGroup, destination: RoleGroup) -> FlowRule | None:
    for rule in FLOW_MATRIX:
        if rule.source is source and rule.destination is destination:
            return rule
    return None


def server_allows(source: Server, destination: Server, service: Service) -> bool:
    """The oracle for one ordered server pair: does DOMAIN.md's matrix allow this flow?"""
    if source.name == destination.name:
        return False
    if service is Service.ICMPV6_ECHO and not (source.has_ipv6 and destination.has_ipv6):
        return False
    rule = _rule_for(source.group, destination.group)
    return rule is not None and service in rule.services


def applicable_services(source: Server, destination: Server) -> tuple[Service, ...]:
    """The services worth checking for a pair: ICMPv6 only where both ends speak IPv6."""
    if source.has_ipv6 and destination.has_ipv6:
        return tuple(Service)
    return (Service.SERVER_PORT, Service.ICMP_ECHO)


@lru_cache(maxsize=256)
def flows_for(system: System) -> tuple[Flow, ...]:
    """The group-level flows this system needs: a flow exists when at least one ordered pair of
    distinct servers needs it, so no rule is emitted that no server pair would use."""
    flows: set[Flow] = set()
    for rule in FLOW_MATRIX:
        for service in rule.services:
            if any(server_allows(a, b, service)
                   for a in system.members(rule.source)
                   for b in system.members(rule.destination)):
                flows.add(Flow(rule.source, rule.destination, service, rule.purposes))
    return tuple(sorted(flows, key=lambda f: (f.source.index, f.destination.index,
                                              f.service.index)))
