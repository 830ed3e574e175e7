"""Each Geo SCADA service once: the protocol it uses, its ports, and why Geo SCADA needs it
(docs/geo-scada.md, the flow matrix and "Beyond the server pair").

Service keys are spelled as rule names spell them: `tcp` is the server port between servers,
`viewx` the same port from clients.
"""

from __future__ import annotations

from dataclasses import dataclass

from generator.model import ClientService, Outstation, System

Ports = tuple[tuple[int, int], ...]  # inclusive ranges; ICMP: (type, type)

ICMP_ECHO_REQUEST = 8  # ICMP rules name the type; 8 = echo request
ICMPV6_ECHO_REQUEST = 128

SERVER_PORT, ICMP, ICMPV6 = "tcp", "icmp", "icmpv6"  # between servers
VIEWX, WEB, ADVISE = "viewx", "web", "advise"  # clients
POLL, LISTEN = "poll", "listen"  # outstations: drivers poll out, outstations connect in
SERVER_SERVICES_ORDER = (SERVER_PORT, ICMP, ICMPV6)  # the order of listings and priorities


@dataclass(frozen=True, order=True)
class Purpose:
    """Why Geo SCADA needs a flow: `short` fits rule descriptions (Azure: 140 characters),
    `text` is the documented wording for READMEs."""

    short: str
    text: str


# Schneider Electric FAQ FA332309 items 1-4 (docs/geo-scada.md).
SYNC = Purpose("synchronisation", "synchronisation and configuration from the Main (item 1)")
CONTROL = Purpose("control requests", "control requests and proxied actions to the Main (item 2)")
STATUS = Purpose("status check", "partner status check on the server port (item 3)")
POLL_PURPOSE = Purpose("ICMP poll", "hardware poll with ICMP echo (item 4)")
# "Beyond the server pair", row by row.
VIEWX_PURPOSE = Purpose("ViewX and API clients",
                        "ViewX, client tools, ODBC, COM and .NET API, OPC DA clients on the "
                        "server port (KB 278603)")
WEB_PURPOSE = Purpose("web clients", "web clients, web API and mimic scripts through IIS (2022 "
                                     "help)")
ADVISE_PURPOSE = Purpose("server advise", "server advise callbacks to clients older than Geo "
                                          "SCADA 2020 (2020 help)")
MONITOR_PURPOSE = Purpose("ICMP monitor", "ICMP monitor hosts the server pings (2022 help)")
DRIVER_PURPOSE = Purpose("driver polls", "drivers of the Main polling outstations (2021 help)")
UNSOLICITED_PURPOSE = Purpose("unsolicited", "outstations connecting in on a channel listen "
                                             "port (2021 help)")


def _singles(ports: tuple[int, ...]) -> Ports:
    return tuple((p, p) for p in ports)


def service_ports(system: System, service: str,
                  outstation: Outstation | None = None) -> tuple[str, Ports]:
    """The protocol and ports of one service: the one place they are written."""
    if service in (SERVER_PORT, VIEWX):  # both ports during a migration (`previous_port`)
        return "tcp", _singles(system.server_ports)
    if service == ICMP:
        return "icmp", ((ICMP_ECHO_REQUEST, ICMP_ECHO_REQUEST),)
    if service == ICMPV6:
        return "icmpv6", ((ICMPV6_ECHO_REQUEST, ICMPV6_ECHO_REQUEST),)
    if service == WEB:
        return "tcp", _singles(system.web_ports)
    if service == ADVISE:
        return "tcp", (system.advise_ports,)
    if outstation is not None and service in (POLL, LISTEN):
        ports = outstation.ports if service == POLL else outstation.listen_ports
        return outstation.protocol, _singles(ports)
    raise ValueError(f"no ports for service {service!r}")


def service_label(protocol: str, ports: Ports) -> str:
    """`TCP 5481`, `ICMP echo request`: a service as reports and rule descriptions say it."""
    if protocol == "icmp":
        return "ICMP echo request"
    if protocol == "icmpv6":
        return "ICMPv6 echo request"
    return f"{protocol.upper()} " + ", ".join(str(lo) if lo == hi else f"{lo}-{hi}"
                                              for lo, hi in ports)


def system_services(system: System) -> dict[str, Ports]:
    """Every protocol and port the system uses, whichever module opens it: the scope every
    server address is judged on, inbound and outbound (docs/design.md, "Scope")."""
    found: dict[str, set[tuple[int, int]]] = {
        "tcp": set(service_ports(system, SERVER_PORT)[1]),
        "icmp": set(service_ports(system, ICMP)[1]),
        "icmpv6": set(service_ports(system, ICMPV6)[1]),
    }
    for client in system.clients:
        for service, key in ((ClientService.WEB, WEB), (ClientService.ADVISE, ADVISE)):
            if service in client.services:
                found["tcp"].update(service_ports(system, key)[1])
    for station in system.outstations:
        for key in (POLL, LISTEN):
            protocol, ports = service_ports(system, key, station)
            found.setdefault(protocol, set()).update(ports)
    return {protocol: tuple(sorted(ports)) for protocol, ports in found.items() if ports}
