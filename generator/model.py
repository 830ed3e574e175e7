"""The topology as frozen data: servers, their roles, and the role groups rules are written for."""

from __future__ import annotations

import ipaddress
import zlib
from dataclasses import dataclass, fields
from enum import Enum
from functools import cached_property

DEFAULT_PORT = 5481  # docs/geo-scada.md: FAQ FA332309, the server port by default


class Role(Enum):
    __hash__ = object.__hash__  # see RoleGroup

    MAIN = "main"
    STANDBY = "standby"
    PERMANENT_STANDBY = "permanent_standby"
    DMZ_PERMANENT_STANDBY = "dmz_permanent_standby"


class RoleGroup(Enum):
    """Rules are written per role group, never per server (docs/design.md "Role groups").

    The definition order is the order of every emitted listing.
    """

    # Members are singletons that compare by identity: their identity hashes them as well as
    # Enum's own hash of the name does, in C rather than Python (the rules and flows built
    # from a topology hash role groups hundreds of times per system).
    __hash__ = object.__hash__

    REDUNDANT = "redundant"
    PERMANENT_STANDBY = "permanent_standby"
    DMZ_PERMANENT_STANDBY = "dmz_permanent_standby"

    @cached_property
    def index(self) -> int:
        """1-based position, used to derive stable Azure priorities."""
        return _GROUP_INDEX[self]

    @cached_property
    def slug(self) -> str:
        """The group as it appears in cloud resource names (hyphens, as Azure and AWS names use)."""
        return self.value.replace("_", "-")


_GROUP_INDEX = {group: i for i, group in enumerate(RoleGroup, start=1)}

# "Main" is a run-time state: every main or standby server may be the Main after a failover
# (docs/geo-scada.md, "The servers of one system"), so both roles share one group.
ROLE_GROUP: dict[Role, RoleGroup] = {
    Role.MAIN: RoleGroup.REDUNDANT,
    Role.STANDBY: RoleGroup.REDUNDANT,
    Role.PERMANENT_STANDBY: RoleGroup.PERMANENT_STANDBY,
    Role.DMZ_PERMANENT_STANDBY: RoleGroup.DMZ_PERMANENT_STANDBY,
}


class Target(Enum):
    AWS = "aws"
    AZURE = "azure"
    WINDOWS = "windows"  # Windows Defender Firewall on each server (docs/design.md)
    PERIMETER = "perimeter"  # an on-premises network's perimeter policy (aerleon)


CLOUD_TARGETS = (Target.AWS, Target.AZURE)  # what a file without `targets` gets
LISTED_TARGETS = (Target.AWS, Target.AZURE, Target.WINDOWS)  # what `targets` may name
# the platforms an on-premises network's `firewalls` may name (aerleon's names), whose
# renderings scadafw writes (generator/targets/perimeter/render.py)
FIREWALL_PLATFORMS = ("paloalto", "fortigate", "ciscoasa", "srx", "iptables")


ONPREM = "onprem"  # a network scadafw writes no module for: on premises, outside the proof


# Azure priority slots (docs/design.md, "Azure priorities"): each client, outstation and network
# has one, from its name alone unless the topology gives `azure_slot`, so that a rule's priority
# depends only on what the rule is.
PEER_SLOTS = 100  # clients, and outstations: 2000/3000 + 10 x slot + service
NETWORK_SLOTS = 10  # networks: 1400 + 50 x slot + ...


def name_slot(name: str, count: int) -> int:
    """The slot a name takes when the topology gives none: CRC-32 of the name, modulo `count`."""
    return zlib.crc32(name.encode()) % count


@dataclass(frozen=True, order=True)
class NetworkSpec:
    """One network of topology version 2: an AWS VPC, an Azure virtual network, or on premises."""

    name: str
    cloud: str  # "aws" | "azure" | ONPREM
    azure_slot: int | None = None
    host_firewall: bool = False  # its servers get Windows Defender Firewall scripts
    firewalls: tuple[str, ...] = ()  # on premises: the platforms its perimeter policy renders

    @property
    def slot(self) -> int:
        return name_slot(self.name, NETWORK_SLOTS) if self.azure_slot is None else self.azure_slot

    @property
    def target(self) -> Target | None:
        return None if self.cloud == ONPREM else Target(self.cloud)


Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network

MONITORS_NAME = "icmp-monitors"  # how listings name a role group's ICMP monitor hosts
DEFAULT_WEB_PORTS = (443,)  # docs/geo-scada.md: HTTPS to the IIS reverse proxy (2022 help)
DEFAULT_ADVISE_PORTS = (5500, 5509)  # docs/geo-scada.md: a client's Sockets range by default


class ClientService(Enum):
    """What a client uses (docs/geo-scada.md, "Beyond the server pair")."""

    VIEWX = "viewx"  # ViewX, client tools, ODBC, COM/.NET API, OPC DA: the server port
    WEB = "web"  # web clients, web API, mimic scripts: the web ports (IIS)
    ADVISE = "advise"  # legacy "server advise" callbacks, server -> client: the advise ports


class _PeerSlot:
    """The Azure priority slot of a client or an outstation: `azure_slot`, or else its name's
    (a renamed entry keeps the slot of the name its Azure rules were created with)."""

    name: str
    azure_slot: int | None
    renamed_from: str

    @property
    def slot(self) -> int:
        if self.azure_slot is not None:
            return self.azure_slot
        return name_slot(self.renamed_from or self.name, PEER_SLOTS)


@dataclass(frozen=True, order=True)
class Client(_PeerSlot):
    """Client hosts (networks or host addresses) and what they use on which role groups."""

    name: str
    sources: tuple[Network, ...]
    services: tuple[ClientService, ...]
    connects_to: tuple[RoleGroup, ...]
    azure_slot: int | None = None
    renamed_from: str = ""  # the name it had before: its rules move, their Azure names stay


@dataclass(frozen=True, order=True)
class Outstation(_PeerSlot):
    """Field devices reached by the drivers of the Main (so of every redundant server)."""

    name: str
    addresses: tuple[Network, ...]
    protocol: str  # "tcp" | "udp"
    ports: tuple[int, ...]
    listen_ports: tuple[int, ...] = ()
    azure_slot: int | None = None
    renamed_from: str = ""  # the name it had before: its rules move, their Azure names stay


@dataclass(frozen=True, order=True)
class Server:
    name: str
    role: Role
    addresses: tuple[Address, ...] = ()
    icmp_monitors: tuple[Address, ...] = ()  # version 2: hosts this server pings
    network: str = ""  # version 2 with `networks`: where the server is
    renamed_from: str = ""  # the name it had before (the modules emit `moved` blocks)

    @property
    def group(self) -> RoleGroup:
        return ROLE_GROUP[self.role]

    @property
    def ident(self) -> str:
        """The server name as a Terraform identifier part (names never contain '_')."""
        return self.name.replace("-", "_")

    @property
    def has_ipv6(self) -> bool:
        return any(a.version == 6 for a in self.addresses)


class NsgMode(Enum):
    """Azure: create an NSG per role group and associate it, or write into NSGs that exist."""

    CREATE = "create"
    EXISTING = "existing"


@dataclass(frozen=True)
class AzureOptions:
    nsgs: NsgMode = NsgMode.CREATE
    priority_offset: int = 0  # added to every priority scadafw writes


@dataclass(frozen=True)
class System:
    """One Geo SCADA system: its servers sorted by name, so output never depends on input order."""

    name: str
    port: int
    targets: tuple[Target, ...]
    servers: tuple[Server, ...]
    source: str = ""  # the topology file's name, for the "generated from" headers
    version: int = 1
    web_ports: tuple[int, ...] = DEFAULT_WEB_PORTS
    advise_ports: tuple[int, int] = DEFAULT_ADVISE_PORTS  # first and last port of the range
    clients: tuple[Client, ...] = ()
    outstations: tuple[Outstation, ...] = ()
    networks: tuple[NetworkSpec, ...] = ()  # empty: one implicit network per target
    # in the view of one network module (`placement`): the servers of other networks
    partners: tuple[Server, ...] = ()
    network: str = ""  # in such a view: the network the module is for
    renamed_from: str = ""  # the system's name before; its resources keep that name
    azure: AzureOptions = AzureOptions()
    previous_port: int | None = None  # a port migration's old port, allowed beside `port`

    # The caches of what is derived from a system (its flows and rules, functools.lru_cache)
    # are keyed by it, a score of look-ups per system rendered: its hash, which walks every
    # server and address, is computed once and kept. It stays out of pickles, as a hash of text
    # differs between interpreters.

    def __hash__(self) -> int:
        try:
            return self.__dict__["_hash"]  # type: ignore[no-any-return]
        except KeyError:
            value = hash(tuple(getattr(self, f.name) for f in fields(self)))
            object.__setattr__(self, "_hash", value)
            return value

    def __getstate__(self) -> dict[str, object]:
        return {k: v for k, v in self.__dict__.items() if k != "_hash"}

    @cached_property
    def server_ports(self) -> tuple[int, ...]:
        """The server port, and during a port migration the previous one, in order."""
        return tuple(sorted({self.port} | ({self.previous_port} if self.previous_port else
                                           set())))

    @property
    def resource_name(self) -> str:
        """What cloud resource names start with: the first name, through renames."""
        return self.renamed_from or self.name

    def members(self, group: RoleGroup) -> tuple[Server, ...]:
        return tuple(s for s in self.servers if ROLE_GROUP[s.role] is group)

    @cached_property
    def groups(self) -> tuple[RoleGroup, ...]:
        """The role groups present, in RoleGroup order."""
        present = {ROLE_GROUP[s.role] for s in self.servers}
        return tuple(g for g in RoleGroup if g in present)

    def server(self, name: str) -> Server:
        for s in self.servers:
            if s.name == name:
                return s
        raise KeyError(name)
