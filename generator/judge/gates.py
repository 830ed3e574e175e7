"""Layers as gates: each splits a set of far-end addresses into the parts it lets through and
the parts it stops, and says which rule decided each part.

- `AnyAllows`: rules that only allow, and add up (AWS security groups on one interface).
- `FirstMatch`: rules in order, the first that matches decides, then a default (Azure NSGs,
  AWS network ACLs, a perimeter firewall's terms).
- `BlockWins`: any matching block stops, else any matching allow lets through, else a default
  (Windows Defender Firewall).
- `Stateless`: a first-match layer that judges the request and its reply on their own (AWS
  network ACLs); far ends inside `inside` (the same subnet) never cross it.
- `Admin`: Azure Virtual Network Manager security admin rules ahead of the NSGs: Deny and
  AlwaysAllow end evaluation, Allow passes the packet on to the gates beneath.
`run` takes a packet class through a sequence of gates: it passes where every gate allows.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from generator.judge.addresses import AddressSet
from generator.judge.rules import Action, Query, Rule


@dataclass(frozen=True)
class Piece:
    peers: AddressSet
    allowed: bool
    because: tuple[str, ...]  # the rules that decided, layer by layer
    passed: tuple[str, ...] = ()  # a stopped part: the specific rules that let it by before
    specific: tuple[str, ...] = ()  # an allowed part: the specific rules among `because`


def _part(peers: AddressSet, rule: Rule) -> Piece:
    allowed = rule.action is not Action.DENY
    return Piece(peers, allowed, (rule.label,),
                 specific=(rule.label,) if allowed and rule.specific else ())


class Gate(ABC):
    name: str

    @abstractmethod
    def decide(self, query: Query, peers: AddressSet) -> list[Piece]:
        """Split `peers` into the parts this layer lets through and the parts it stops."""

    @abstractmethod
    def rules(self) -> Iterator[tuple[Rule, bool]]:
        """Every rule, and whether it judges the reply (its ports are the request's source
        ports): what the port pieces are cut by."""


@dataclass
class AnyAllows(Gate):
    name: str
    allows: Sequence[Rule]
    none_label: str

    def decide(self, query: Query, peers: AddressSet) -> list[Piece]:
        out, rest = [], peers
        for rule in self.allows:
            if not rest:
                break
            if rule.action is Action.ALLOW and rule.applies(query):
                hit = rest & rule.peers
                if hit:
                    out.append(_part(hit, rule))
                    rest = rest - hit
        if rest:
            out.append(Piece(rest, False, (self.none_label,)))
        return out

    def rules(self) -> Iterator[tuple[Rule, bool]]:
        return ((r, False) for r in self.allows)


@dataclass
class FirstMatch(Gate):
    name: str
    ordered: Sequence[Rule]  # highest precedence first
    default_allow: bool
    default_label: str

    def decide(self, query: Query, peers: AddressSet) -> list[Piece]:
        out, rest = [], peers
        for rule in self.ordered:
            if not rest:
                break
            if rule.applies(query):
                hit = rest & rule.peers
                if hit:
                    out.append(_part(hit, rule))
                    rest = rest - hit
        if rest:
            out.append(Piece(rest, self.default_allow, (self.default_label,)))
        return out

    def rules(self) -> Iterator[tuple[Rule, bool]]:
        return ((r, False) for r in self.ordered)


@dataclass
class BlockWins(Gate):
    name: str
    blocks: Sequence[Rule]
    allows: Sequence[Rule]
    default_allow: bool
    default_label: str

    def decide(self, query: Query, peers: AddressSet) -> list[Piece]:
        out, rest = [], peers
        for rules, allowed in ((self.blocks, False), (self.allows, True)):
            for rule in rules:
                if rest and rule.applies(query):
                    hit = rest & rule.peers
                    if hit:
                        out.append(_part(hit, rule) if allowed else
                                   Piece(hit, False, (rule.label,)))
                        rest = rest - hit
        if rest:
            out.append(Piece(rest, self.default_allow, (self.default_label,)))
        return out

    def rules(self) -> Iterator[tuple[Rule, bool]]:
        yield from ((r, False) for r in self.blocks)
        yield from ((r, False) for r in self.allows)


@dataclass
class Stateless(Gate):
    name: str
    forward: FirstMatch  # the request's direction through this layer
    back: FirstMatch  # the reply's
    inside: AddressSet = field(default_factory=AddressSet)

    def decide(self, query: Query, peers: AddressSet) -> list[Piece]:
        out = []
        near = peers & self.inside
        if near:
            out.append(Piece(near, True, ()))
        for piece in self.forward.decide(query, peers - self.inside):
            if not piece.allowed:
                out.append(piece)
                continue
            for reply in self.back.decide(query.reverse(), piece.peers):
                why = tuple(f"{label} (the reply)" for label in reply.because)
                out.append(Piece(reply.peers, reply.allowed,
                                 piece.because + why if reply.allowed else why,
                                 specific=piece.specific if reply.allowed else ()))
        return out

    def rules(self) -> Iterator[tuple[Rule, bool]]:
        yield from ((r, False) for r in self.forward.ordered)
        yield from ((r, True) for r in self.back.ordered)


@dataclass
class Admin(Gate):
    name: str
    ordered: Sequence[Rule]  # admin rules, highest precedence first
    then: Sequence[Gate]

    def decide(self, query: Query, peers: AddressSet) -> list[Piece]:
        out: list[Piece] = []
        onward: list[tuple[AddressSet, tuple[str, ...]]] = []
        rest = peers
        for rule in self.ordered:
            if rest and rule.applies(query):
                hit = rest & rule.peers
                if not hit:
                    continue
                rest = rest - hit
                if rule.action is Action.ALLOW:
                    onward.append((hit, (rule.label,)))
                else:
                    out.append(_part(hit, rule))
        if rest:
            onward.append((rest, ()))
        for part, labels in onward:
            for piece in run(self.then, query, part):
                out.append(Piece(piece.peers, piece.allowed,
                                 labels + piece.because if piece.allowed else piece.because,
                                 piece.passed, piece.specific))
        return out

    def rules(self) -> Iterator[tuple[Rule, bool]]:
        yield from ((r, False) for r in self.ordered)
        for gate in self.then:
            yield from gate.rules()


def run(gates: Sequence[Gate], query: Query, peers: AddressSet) -> list[Piece]:
    """`peers` through every gate in turn: the parts that pass all of them (allowed, with the
    rule of each gate that let them through) and the parts some gate stops (with its rule)."""
    current = [Piece(peers, True, ())] if peers else []
    stopped: list[Piece] = []
    for gate in gates:
        onward = []
        for piece in current:
            for part in gate.decide(query, piece.peers):
                if not part.peers:
                    continue
                if part.allowed:
                    onward.append(Piece(part.peers, True, piece.because + part.because,
                                        specific=piece.specific + part.specific))
                else:
                    stopped.append(Piece(part.peers, False, part.because,
                                         piece.specific + part.passed))
        current = onward
    return current + stopped
