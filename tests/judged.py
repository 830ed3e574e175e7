"""Reading the judge's sets back in tests: what a report says passes, as netaddr sets, and
whether one server reaches another, so that tests compare it with tests/domain.py."""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from netaddr import IPSet

from generator.checks.report import Report
from generator.checks.verify import verify_system
from generator.judge.sides import Judged
from generator.topology import load_topology

TCP_UDP = ("tcp", "udp")


def verified(topology: Path, modules: Path) -> list[Report]:
    return verify_system(load_topology(topology), modules)


def as_ipset(cidrs: Iterable[str]) -> IPSet:
    return IPSet(list(cidrs))


def _ephemeral(judged: Judged) -> bool:
    _low, high = judged.query.sports
    return judged.query.protocol not in TCP_UDP or high >= 32768  # a client's source ports


def admitted(reports: list[Report], address: str, inbound: bool, protocol: str,
             port: int) -> IPSet | None:
    """What the side of the link at `address` lets through on one port (every client source
    port), or None where no report judges that link (a server on premises)."""
    found: IPSet | None = None
    host = ipaddress.ip_address(address)
    for report in reports:
        for j in report.classes:
            if (j.link.address != host or j.inbound is not inbound
                    or j.query.protocol != protocol
                    or not j.query.ports[0] <= port <= j.query.ports[1] or not _ephemeral(j)):
                continue
            here = as_ipset(j.admitted.cidrs)
            found = here if found is None else found & here
    return found


def addresses(reports: list[Report]) -> dict[str, list[str]]:
    """Each server's judged addresses (a stand-in where the topology lists none)."""
    found: dict[str, list[str]] = {}
    for report in reports:
        for j in report.classes:
            found.setdefault(j.link.server, [])
            if str(j.link.address) not in found[j.link.server]:
                found[j.link.server].append(str(j.link.address))
    return found


def reaches(reports: list[Report], src: str, dst: str, protocol: str, port: int,
            links: dict[str, list[str]] | None = None) -> bool:
    """Whether some address of `src` reaches some address of `dst` of the same family: the
    source's outbound side and the destination's inbound side both let it through. A side no
    report judges (on premises) is taken as open."""
    judged = addresses(reports)
    links = links or judged
    family = {"icmp": 4, "icmpv6": 6}.get(protocol)
    for a in links.get(src, []):
        for b in links.get(dst, []):
            version = ipaddress.ip_address(a).version
            if version != ipaddress.ip_address(b).version or family not in (None, version):
                continue
            out = admitted(reports, a, False, protocol, port)
            into = admitted(reports, b, True, protocol, port)
            out_ok = src not in judged if out is None else b in out
            into_ok = dst not in judged if into is None else a in into
            if out_ok and into_ok:
                return True
    return False


def differences(reports: list[Report], doc: dict[str, Any],
                outbound_exact: Callable[[Judged], bool]) -> list[str]:
    """Every packet class whose admitted set is not what tests/domain.py names: inbound
    always, outbound where `outbound_exact` says the module owns the egress (elsewhere only
    that nothing named is missing)."""
    from tests.domain import expected_peers  # noqa: PLC0415

    links = addresses(reports)
    for server in doc["servers"]:
        links.setdefault(server["name"], [str(a) for a in server.get("addresses", [])])
    wrong = []
    for report in reports:
        for j in report.classes:
            if not _ephemeral(j):
                continue
            want = expected_peers(doc, links, j.link.server, j.query.protocol, j.query.ports[0],
                                  j.inbound)
            own = IPSet(links[j.link.server])
            want = want - own
            got = as_ipset(j.admitted.cidrs)
            family = IPSet(["0.0.0.0/0"] if j.link.address.version == 4 else ["::/0"])
            want = want & family
            exact = j.inbound or outbound_exact(j)
            if (got != want) if exact else not want.issubset(got):
                way = "in" if j.inbound else "out"
                wrong.append(f"{j.link} {way} {j.query.label}: admits {got}, domain names "
                             f"{want}")
    return wrong


def decide_pair(sides: list[Any], src: Any, dst: Any, query: Any) -> tuple[bool, str]:
    """One flow between two links through the judge: the source's outbound side must let the
    destination's address out and the destination's inbound side the source's in. Returns
    (allowed, the rules that let it through, or the one that stopped it)."""
    from generator.judge.addresses import AddressSet  # noqa: PLC0415
    from generator.judge.gates import run  # noqa: PLC0415

    def side(link: Any, inbound: bool) -> Any:
        return next(s for s in sides if s.link == link and s.inbound is inbound)

    out = run(side(src, False).gates, query, AddressSet.of(dst.address))
    into = run(side(dst, True).gates, query, AddressSet.of(src.address))
    for parts in (out, into):
        stopped = [p for p in parts if not p.allowed]
        if stopped:
            return False, " + ".join(stopped[0].because)
    return True, " + ".join(x for p in (*out, *into) for x in p.because if x)
