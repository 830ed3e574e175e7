"""From the judge's packet classes to findings: the difference between what passes and what the
topology names, in the exact prefixes and ports, with the rule that let it through or stopped
it.

Inbound, every difference is a finding: the destination's own layers must refuse what the
topology forbids. Outbound, a missing destination is a finding; an extra one counts where the
check says the module owns that egress (`Outbound`), and is otherwise a latent note or
nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from generator.checks.report import FORBIDDEN, LATENT, MISSING, Finding
from generator.judge import intervals as iv
from generator.judge.addresses import PORTS_ALL, AddressSet
from generator.judge.naming import Party, describe
from generator.judge.rules import Query
from generator.judge.sides import Judged


@dataclass(frozen=True)
class Outbound:
    """Which extra destinations of an outbound packet class are findings, which are notes;
    what neither covers is the site's own egress and is not reported."""

    finding: Callable[[Judged], AddressSet]
    note: Callable[[Judged], AddressSet] = lambda _: AddressSet()


EVERY_EXTRA = Outbound(lambda j: AddressSet.everything())
NO_EXTRA = Outbound(lambda j: AddressSet())


def _label(protocol: str, ports: list[tuple[int, int]]) -> str:
    spans = iv.merged(ports)
    if protocol in ("icmp", "icmpv6"):
        return Query(protocol, spans[0]).label
    return f"{protocol.upper()} " + ", ".join(str(lo) if lo == hi else f"{lo}-{hi}"
                                              for lo, hi in spans)


def _sports(sports: tuple[int, int], protocol: str) -> str:
    if protocol in ("icmp", "icmpv6") or (sports,) == PORTS_ALL:
        return ""
    low, high = sports
    return f" from source ports {low}-{high}"


@dataclass
class _Gathered:
    code: str
    note: bool
    judged: Judged
    peers: AddressSet
    because: tuple[str, ...]
    ports: list[tuple[int, int]]
    stopper: tuple[str, ...] = ()  # a held part: the rule of the layer that stops it


def _flow(g: _Gathered, parties: Sequence[Party]) -> str:
    j = g.judged
    label = _label(j.query.protocol, g.ports)
    who = describe(g.peers, parties)
    return f"{who} -> {j.link} {label}" if j.inbound else f"{j.link} -> {who} {label}"


def _message(g: _Gathered, parties: Sequence[Party]) -> tuple[str, str]:
    j = g.judged
    label = _label(j.query.protocol, g.ports)
    sports = _sports(j.query.sports, j.query.protocol)
    place = f"{j.link} {'inbound' if j.inbound else 'outbound'} {label}"
    who = describe(g.peers, parties)
    why = " + ".join(x for x in g.because if x) or "nothing in the way"
    named = describe(j.intent, parties) if j.intent else "nobody"
    if g.stopper:
        allows, stopper = " + ".join(g.because), " + ".join(g.stopper)
        text = (f"{who} passes {allows} towards {j.link} on {label}{sports} and is stopped "
                f"only by {stopper}" if j.inbound else
                f"{j.link} towards {who} on {label} passes {allows} and is stopped only by "
                f"{stopper}")
        return place, text
    if g.code == MISSING:
        text = (f"{who} cannot reach {j.link} on {label}{sports}: {why}" if j.inbound
                else f"{j.link} cannot reach {who} on {label}: {why}")
    elif j.inbound:
        text = (f"{who} reaches {j.link} on {label}{sports} through {why}; the topology names "
                f"{named}")
    else:
        text = f"{j.link} reaches {who} on {label} through {why}; the topology names {named}"
    return place, text


def findings_of(classes: Iterable[Judged], parties: Sequence[Party],
                outbound: Outbound) -> list[Finding]:
    """Every difference as a finding (or a note), adjacent port pieces with the same sets and
    rules merged into one."""
    gathered: dict[tuple[object, ...], _Gathered] = {}

    def add(code: str, note: bool, j: Judged, peers: AddressSet, because: tuple[str, ...],
            stopper: tuple[str, ...] = ()) -> None:
        if not peers:
            return
        key = (code, note, j.link, j.inbound, j.query.protocol, j.query.sports, peers,
               because, stopper, j.intent)
        if key in gathered:
            gathered[key].ports.append(j.query.ports)
        else:
            gathered[key] = _Gathered(code, note, j, peers, because, [j.query.ports], stopper)

    for j in classes:
        for peers, passed, stopper in j.held:
            add(LATENT, True, j, peers, passed, stopper)
        for peers, because in j.missing:
            add(MISSING, False, j, peers, because)
        for peers, because in j.extra:
            if j.inbound:
                add(FORBIDDEN, False, j, peers, because)
                continue
            counted = peers & outbound.finding(j)
            add(FORBIDDEN, False, j, counted, because)
            add(LATENT, True, j, (peers - counted) & outbound.note(j), because)
    found = []
    for g in gathered.values():
        place, text = _message(g, parties)
        found.append(Finding(g.code, place, text, g.note, g.peers.cidrs, _flow(g, parties),
                             g.stopper or g.because))
    return found
