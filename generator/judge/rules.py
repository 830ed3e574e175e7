"""What every layer is made of: rules that match a class of packets and decide it.

A packet class is a `Query`: a protocol, one piece of destination ports (ICMP: the message
type) and one piece of source ports, each piece cut so that every rule in play covers it whole
or not at all. The far end's addresses are the one dimension kept as a set: a rule's `peers`
(the source of an inbound rule, the destination of an outbound one).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from generator.judge import intervals as iv
from generator.judge.addresses import AddressSet

ICMP_PROTOCOLS = ("icmp", "icmpv6")
# the reply to an echo request, for layers that judge each direction on its own (NACLs)
ECHO_REPLY = {("icmp", 8): 0, ("icmpv6", 128): 129}


class Action(Enum):
    ALLOW = "Allow"
    DENY = "Deny"
    ALWAYS_ALLOW = "AlwaysAllow"  # Azure Virtual Network Manager: ends evaluation, allowed


@dataclass(frozen=True, order=True)
class Query:
    protocol: str  # tcp | udp | icmp | icmpv6
    ports: iv.Interval  # destination ports, or (type, type) for ICMP
    sports: iv.Interval = (0, 65535)  # source ports; (0, 0) for ICMP

    @property
    def is_icmp(self) -> bool:
        return self.protocol in ICMP_PROTOCOLS

    def reverse(self) -> Query:
        """The reply: ports swapped, an echo request answered by an echo reply."""
        if self.is_icmp:
            reply = ECHO_REPLY.get((self.protocol, self.ports[0]), self.ports[0])
            return Query(self.protocol, (reply, reply), (0, 0))
        return Query(self.protocol, self.sports, self.ports)

    @property
    def label(self) -> str:
        if self.protocol == "icmp":
            return "ICMP echo request" if self.ports == (8, 8) else f"ICMP type {self.ports[0]}"
        if self.protocol == "icmpv6":
            return ("ICMPv6 echo request" if self.ports == (128, 128)
                    else f"ICMPv6 type {self.ports[0]}")
        low, high = self.ports
        return f"{self.protocol.upper()} {low}" if low == high else \
            f"{self.protocol.upper()} {low}-{high}"


@dataclass(frozen=True)
class Rule:
    """One rule: `protocols` None is every protocol, `ports`/`sports` None any port."""

    label: str
    action: Action
    protocols: frozenset[str] | None
    ports: iv.Intervals | None
    peers: AddressSet
    sports: iv.Intervals | None = None
    wide: bool = False  # written for every protocol: one cloud rule split by kind of protocol

    def applies(self, query: Query) -> bool:
        if self.protocols is not None and query.protocol not in self.protocols:
            return False
        if self.ports is not None and not iv.covers(self.ports, query.ports):
            return False
        return query.is_icmp or self.sports is None or iv.covers(self.sports, query.sports)

    @property
    def specific(self) -> bool:
        """Whether the rule names services (a protocol and its ports or ICMP types), not
        everything: only such an allow is worth a note when it lets a forbidden flow by."""
        if self.protocols is None or self.wide:
            return False
        return self.ports is not None or self.protocols <= {"icmp", "icmpv6"}

    def cuts(self, protocol: str) -> tuple[set[int], set[int]]:
        """Where this rule needs destination and source port pieces to start."""
        if self.protocols is not None and protocol not in self.protocols:
            return set(), set()
        return (iv.boundaries(self.ports) if self.ports is not None else set(),
                iv.boundaries(self.sports) if self.sports is not None else set())


def protocols(*names: str) -> frozenset[str] | None:
    """A rule's protocol set from its cloud's words; '*', 'all', '-1' mean every protocol."""
    found: set[str] = set()
    for name in names:
        text = str(name).strip().lower()
        if text in ("*", "all", "-1", "any"):
            return None
        found.add({"1": "icmp", "6": "tcp", "17": "udp", "58": "icmpv6"}.get(text, text))
    return frozenset(found)
