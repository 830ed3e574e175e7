"""The judgement: for one side of one link (a server's address, inbound or outbound), every
packet class in scope taken through the layers on that side, and what passes compared with
what the topology names.

Inbound, the far ends are the sources that reach the link; outbound, the destinations the link
can reach. A flow between two servers crosses the source's outbound side and the
destination's inbound side; each side is judged on its own, so a finding says which side is
wrong, and the destination alone must refuse what the topology forbids.

The far ends are every address of the link's family but the server's own: "anyone else" is
the complement of everything the topology names, never a sampled address.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass

from generator.judge import intervals as iv
from generator.judge.addresses import EPHEMERAL, PORTS_ALL, AddressSet, union
from generator.judge.gates import Gate, run
from generator.judge.rules import ICMP_PROTOCOLS, Query

Address = ipaddress.IPv4Address | ipaddress.IPv6Address


@dataclass(frozen=True, order=True)
class Link:
    """One server address: an interface (or an interface's address) the layers apply to."""

    server: str
    address: Address

    def __str__(self) -> str:
        return f"{self.server}:{self.address}"


@dataclass(frozen=True)
class Want:
    """What the topology names on one side of a link: `peers` on `protocol` and `ports`."""

    protocol: str
    ports: iv.Intervals
    peers: AddressSet
    why: str = ""


@dataclass
class Side:
    link: Link
    inbound: bool
    gates: Sequence[Gate]
    own: AddressSet  # the server's own addresses: never a far end

    @property
    def direction(self) -> str:
        return "inbound" if self.inbound else "outbound"


@dataclass(frozen=True)
class Judged:
    """One packet class on one side: what passes, what the topology names, the difference."""

    link: Link
    inbound: bool
    query: Query
    admitted: AddressSet
    intent: AddressSet
    extra: tuple[tuple[AddressSet, tuple[str, ...]], ...]  # passes, not named: and why
    missing: tuple[tuple[AddressSet, tuple[str, ...]], ...]  # named, stopped: and by what
    # not named, let by an explicit rule of one layer and stopped only by a later one: the
    # side rests on that one layer (the rules that let it by, and the rule that stops it)
    held: tuple[tuple[AddressSet, tuple[str, ...], tuple[str, ...]], ...] = ()

    @property
    def exact(self) -> bool:
        return not self.extra and not self.missing


Scope = Mapping[str, iv.Intervals]  # protocol -> destination ports (ICMP: types) in scope


def _fits(protocol: str, version: int) -> bool:
    return {"icmp": version == 4, "icmpv6": version == 6}.get(protocol, True)


def queries(side: Side, scope: Scope, wants: Sequence[Want],
            cut_by: Sequence[Gate] = ()) -> Iterator[Query]:
    """Every packet class in scope on this side, cut so that each rule (of the side's gates and
    of `cut_by`) and each want covers a class whole or not at all."""
    for protocol, domain in sorted(scope.items()):
        if not domain or not _fits(protocol, side.link.address.version):
            continue
        dcuts: set[int] = set()
        scuts: set[int] = set()
        for gate in [*side.gates, *cut_by]:
            for rule, reply in gate.rules():
                d, s = rule.cuts(protocol)
                dcuts |= s if reply else d
                scuts |= d if reply else s
        for want in wants:
            if want.protocol == protocol:
                dcuts |= iv.boundaries(want.ports)
        icmp = protocol in ICMP_PROTOCOLS
        for dports in iv.pieces(domain, dcuts):
            for sports in ((0, 0),) if icmp else iv.pieces(PORTS_ALL, scuts):
                yield Query(protocol, dports, sports)


def judge_side(side: Side, scope: Scope, wants: Sequence[Want],
               cut_by: Sequence[Gate] = ()) -> list[Judged]:
    """Every packet class in scope on this side, judged against `wants`. `cut_by`: gates whose
    rules also cut the classes (to compare two states of one side class by class)."""
    version = side.link.address.version
    universe = AddressSet.everything(version) - side.own
    found = []
    for query in queries(side, scope, wants, cut_by):
        intent = union(w.peers for w in wants if w.protocol == query.protocol
                       and iv.covers(w.ports, query.ports)) & universe
        parts = run(side.gates, query, universe)
        admitted = union(p.peers for p in parts if p.allowed)
        extra = tuple((p.peers - intent, p.because) for p in parts
                      if p.allowed and p.peers - intent)
        # a flow needs every source port a client may pick; a refusal of ports below the
        # ephemeral range only matters for what the topology does not name
        judged_sports = query.is_icmp or bool(iv.both((query.sports,), EPHEMERAL))
        missing = tuple((p.peers & intent, p.because) for p in parts
                        if judged_sports and not p.allowed and p.peers & intent)
        held = tuple((p.peers - intent, p.passed, p.because) for p in parts
                     if not p.allowed and p.passed and p.peers - intent)
        found.append(Judged(side.link, side.inbound, query, admitted, intent, extra, missing,
                            held))
    return found
