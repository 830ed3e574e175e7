"""Real packets through the plant's perimeter: the iptables rendering of each on-premises
network's policy, loaded with the real `iptables-restore` into a router namespace, with every
party in a namespace of its own (tests/netns.py). Every TCP connect, UDP exchange and ICMP echo
that crosses the perimeter is compared with tests/domain.py.

Needs root, `ip netns` and iptables: skipped with the reason where they are missing, and a
failure instead where SCADAFW_REQUIRE_NETNS is set (.ci/run sets it where namespaces can be
made). Traffic never leaves the namespaces the test made; they are removed even on failure.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from generator.targets.perimeter.policy import Policy
from generator.targets.perimeter.render import render
from tests.conftest import ROOT, need
from tests.domain import expected_peers
from tests.netns import Lab, why_not

REQUIRE = "SCADAFW_REQUIRE_NETNS"
HYBRID = ROOT / "examples" / "hybrid-dr.yaml"
TWO_SITE = ROOT / "examples" / "two-site.yaml"
SITES = [(HYBRID, "plant"), (TWO_SITE, "north"), (TWO_SITE, "south")]
STRANGER = "10.99.99.99"  # a host in a private range the topologies do not name


@pytest.fixture(scope="module", autouse=True)
def namespaces() -> None:
    need(why_not(), REQUIRE, "real-packet test")


@dataclass(frozen=True)
class Party:
    name: str
    address: str
    server: str | None = None  # the server it is, if it is one


def parties(doc: dict[str, Any]) -> list[Party]:
    """Every server, a host of every client source, every outstation and monitor host, and a
    stranger: each with one IPv4 address the topology gives it."""
    found = [Party(s["name"], a, s["name"]) for s in doc["servers"]
             for a in s.get("addresses", [])[:1] if ":" not in a]
    for client in doc.get("clients", []):
        net = ipaddress.ip_network(client["sources"][0])
        found.append(Party(f"client {client['name']}", str(next(net.hosts(), net[0]))))
    for station in doc.get("outstations", []):
        net = ipaddress.ip_network(station["addresses"][0])
        found.append(Party(f"outstation {station['name']}", str(next(net.hosts(), net[0]))))
    for server in doc["servers"]:
        found += [Party(f"monitor of {server['name']}", m)
                  for m in server.get("icmp_monitors", []) if ":" not in m]
    assert not any(ipaddress.ip_address(STRANGER) in ipaddress.ip_network(p.address)
                   for p in found)
    return [*found, Party("stranger", STRANGER)]


def services(doc: dict[str, Any]) -> list[tuple[str, int]]:
    """One port of every service the system uses (an advise range by its first port)."""
    found = {("tcp", doc.get("port", 5481)), ("icmp", 8)}
    if any("web" in c["services"] for c in doc.get("clients", [])):
        found |= {("tcp", p) for p in doc.get("web_ports", [443])}
    if any("advise" in c["services"] for c in doc.get("clients", [])):
        found.add(("tcp", int(str(doc.get("advise_ports", "5500-5509")).split("-")[0])))
    for station in doc.get("outstations", []):
        found |= {(station["protocol"], p) for p in (*station["ports"],
                                                      *station.get("listen_ports", []))}
    return sorted(found)


@dataclass
class Site:
    doc: dict[str, Any]
    network: str
    folder: Path
    lab: Lab
    spaces: dict[str, str]  # party name -> namespace
    probes: list[tuple[Party, Party, str, int]]  # source, destination, protocol, port


def crossing(doc: dict[str, Any], network: str, everyone: list[Party]
             ) -> list[tuple[Party, Party, str, int]]:
    """Every (source, destination, service) with exactly one end a server of `network`."""
    inside = {s["name"] for s in doc["servers"] if s["network"] == network}
    return [(a, b, protocol, port) for a in everyone for b in everyone if a is not b
            and ((a.server in inside) != (b.server in inside))
            for protocol, port in services(doc)]


def expected(doc: dict[str, Any], source: Party, destination: Party, protocol: str,
             port: int) -> bool:
    """What tests/domain.py says of one packet: allowed where the server end's side names
    the far end's address (both, where both ends are servers)."""
    addresses = {s["name"]: s.get("addresses", []) for s in doc["servers"]}
    sides = []
    if destination.server:
        sides.append(source.address in expected_peers(doc, addresses, destination.server,
                                                      protocol, port, True))
    if source.server:
        sides.append(destination.address in expected_peers(doc, addresses, source.server,
                                                           protocol, port, False))
    return all(sides)


@pytest.fixture(scope="module", params=SITES, ids=lambda s: f"{s[0].stem}-{s[1]}")
def site(request: pytest.FixtureRequest) -> Iterator[Site]:
    example, network = request.param
    doc = yaml.safe_load(example.read_text())
    folder = ROOT / "modules" / doc["system"] / network
    everyone = parties(doc)
    tcp = sorted({p for proto, p in services(doc) if proto == "tcp"})
    udp = sorted({p for proto, p in services(doc) if proto == "udp"})
    lab = Lab(f"sfw{os.getpid() % 1000}{SITES.index(request.param)}")
    try:
        spaces = {}
        for party in everyone:
            spaces[party.name] = lab.party([party.address])
            lab.listen(spaces[party.name], tcp, udp)
        yield Site(doc, network, folder, lab, spaces, crossing(doc, network, everyone))
    finally:
        lab.close()


def sent(site: Site, rendered: str) -> list[str]:
    """Load `rendered` into the router, send every probe, and list each verdict that differs
    from the domain's."""
    site.lab.load(rendered)
    probes = [(site.spaces[a.name], a.address, b.address, protocol, port)
              for a, b, protocol, port in site.probes]
    verdicts = site.lab.probe_all(probes)
    return [f"{a.name} {a.address} -> {b.name} {b.address} {protocol} {port}: "
            f"{'passes' if got else 'is dropped'}"
            for (a, b, protocol, port), got in zip(site.probes, verdicts, strict=True)
            if got != expected(site.doc, a, b, protocol, port)]


def committed(site: Site) -> str:
    return (site.folder / f"{site.doc['system']}-{site.network}").read_text()


def test_every_crossing_packet_gets_the_domains_verdict(site: Site) -> None:
    assert site.probes
    assert any(expected(site.doc, *p) for p in site.probes)  # some pass, some do not
    assert not all(expected(site.doc, *p) for p in site.probes)
    assert sent(site, committed(site)) == []


def rerendered(site: Site, change: Callable[[Policy], None]) -> str:
    """The site's policy, changed, rendered by aerleon for iptables alone."""
    doc = yaml.safe_load((site.folder / "policy.yaml").read_text())
    defs = site.folder / "definitions"
    (only,) = doc["filters"]
    policy = Policy(f"{site.doc['system']}-{site.network}",
                    {**only["header"], "targets": {"iptables": "FORWARD DROP"}}, only["terms"],
                    yaml.safe_load((defs / "networks.yaml").read_text())["networks"],
                    yaml.safe_load((defs / "services.yaml").read_text())["services"])
    change(policy)
    return render(policy)[policy.filename]


PLANT = pytest.mark.parametrize("site", [SITES[0]], indirect=True, ids=["hybrid-dr-plant"])
NORTH = pytest.mark.parametrize("site", [SITES[1]], indirect=True, ids=["two-site-north"])


@PLANT
def test_a_dmz_to_plant_allow_is_caught_by_packets(site: Site) -> None:
    def allow_dmz(policy: Policy) -> None:
        policy.terms.insert(1, {"name": "ops-dmz", "source-address": "DMZ_STANDBY",
                                "destination-address": "SERVERS_HERE", "protocol": "tcp",
                                "destination-port": "GEOSCADA_SERVER", "action": "accept"})

    wrong = sent(site, rerendered(site, allow_dmz))
    assert wrong
    assert all(w.startswith("scada-dmz 10.30.9.10 -> scada-") and "tcp 5481: passes" in w
               for w in wrong)


@PLANT
def test_a_missing_sync_term_is_caught_by_packets(site: Site) -> None:
    def drop_sync(policy: Policy) -> None:
        policy.terms[:] = [t for t in policy.terms if t["name"] != "out-dr-vnet-ps-tcp"]

    wrong = sent(site, rerendered(site, drop_sync))
    assert sorted(wrong) == [
        "scada-a 192.168.10.10 -> scada-dr 10.20.1.10 tcp 5481: is dropped",
        "scada-b 192.168.10.11 -> scada-dr 10.20.1.10 tcp 5481: is dropped"]


@NORTH
def test_a_client_term_scoped_to_a_private_range_is_caught_by_packets(site: Site) -> None:
    def widen(policy: Policy) -> None:
        policy.networks["CLIENT_CONTROL_ROOM"] = {"values": [{"address": "10.0.0.0/8"}]}

    wrong = sent(site, rerendered(site, widen))
    assert wrong
    assert any(w.startswith(f"stranger {STRANGER} -> scada-a") and "passes" in w for w in wrong)
