"""Exact sets of IPv4 and IPv6 addresses, and port sets: what a rule names and what a party is.

An `AddressSet` holds each family as merged integer intervals (generator/judge/intervals.py);
it prints as the fewest prefixes that cover it exactly (`cidrs`).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property

from generator.judge import intervals as iv

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network
_TOP = {4: 2**32 - 1, 6: 2**128 - 1}


@dataclass(frozen=True)
class AddressSet:
    v4: iv.Intervals = ()
    v6: iv.Intervals = ()

    @classmethod
    def of(cls, *items: str | Address | Network) -> AddressSet:
        """Addresses and networks (strings as `10.0.0.0/8`, `fd00::1`, or objects)."""
        four: list[iv.Interval] = []
        six: list[iv.Interval] = []
        for item in items:
            net = item if isinstance(item, ipaddress.IPv4Network | ipaddress.IPv6Network) \
                else ipaddress.ip_network(str(item), strict=False)
            span = (int(net.network_address), int(net.broadcast_address))
            (four if net.version == 4 else six).append(span)
        return cls(iv.merged(four), iv.merged(six))

    @classmethod
    def everything(cls, version: int | None = None) -> AddressSet:
        four = ((0, _TOP[4]),) if version in (None, 4) else ()
        six = ((0, _TOP[6]),) if version in (None, 6) else ()
        return cls(four, six)

    def __or__(self, other: AddressSet) -> AddressSet:
        return AddressSet(iv.merged(self.v4 + other.v4), iv.merged(self.v6 + other.v6))

    def __and__(self, other: AddressSet) -> AddressSet:
        return AddressSet(iv.both(self.v4, other.v4), iv.both(self.v6, other.v6))

    def __sub__(self, other: AddressSet) -> AddressSet:
        return AddressSet(iv.without(self.v4, other.v4), iv.without(self.v6, other.v6))

    def __bool__(self) -> bool:
        return bool(self.v4 or self.v6)

    def __contains__(self, address: object) -> bool:
        if isinstance(address, str):
            address = ipaddress.ip_address(address)
        if isinstance(address, ipaddress.IPv4Address):
            return iv.holds(self.v4, int(address))
        if isinstance(address, ipaddress.IPv6Address):
            return iv.holds(self.v6, int(address))
        return False

    def only(self, version: int) -> AddressSet:
        return AddressSet(self.v4, ()) if version == 4 else AddressSet((), self.v6)

    def issubset(self, other: AddressSet) -> bool:
        return not (self - other)

    @cached_property
    def cidrs(self) -> tuple[str, ...]:
        """The fewest prefixes that make up the set exactly, IPv4 first, in address order."""
        out: list[str] = []
        for version, spans in ((4, self.v4), (6, self.v6)):
            make = ipaddress.IPv4Address if version == 4 else ipaddress.IPv6Address
            for low, high in spans:
                out += [str(n) for n in ipaddress.summarize_address_range(make(low),
                                                                          make(high))]
        return tuple(out)

    def __str__(self) -> str:
        return ", ".join(self.cidrs) or "nothing"

    @property
    def size(self) -> int:
        return sum(h - lo + 1 for lo, h in self.v4) + sum(h - lo + 1 for lo, h in self.v6)


EMPTY = AddressSet()
EVERYWHERE = AddressSet.everything()


def union(sets: Iterable[AddressSet]) -> AddressSet:
    four: list[iv.Interval] = []
    six: list[iv.Interval] = []
    for s in sets:
        four += s.v4
        six += s.v6
    return AddressSet(iv.merged(four), iv.merged(six))


# Private and shared ranges: where "anyone else" of a virtual network may come from (peering,
# VPN, ExpressRoute), and what Azure's `VirtualNetwork` tag is taken to hold at worst.
PRIVATE = AddressSet.of("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10",
                        "fc00::/7")
AZURE_LOAD_BALANCER = AddressSet.of("168.63.129.16/32")  # Azure's health probe source

PORTS_ALL: iv.Intervals = ((0, 65535),)
# The source ports a client picks for a connection: Linux 32768-60999; Windows, macOS and the
# IANA dynamic range 49152-65535. A needed flow must pass from every one of them (a network
# ACL's reply rules must cover them); ports below are judged only for what they let through.
EPHEMERAL: iv.Intervals = ((32768, 65535),)


def port_text(ports: iv.Intervals) -> str:
    return ", ".join(str(lo) if lo == hi else f"{lo}-{hi}" for lo, hi in ports)
