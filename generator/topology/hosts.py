"""What an address or a network in a topology may be: one a firewall rule can match as written.

A host address (a server's, an ICMP monitor's, a host entry among a client's sources) is a
routed unicast address: not a zone-scoped one (`fe80::1%eth0`, no rule can name the zone), not
an IPv4-mapped IPv6 one (`::ffff:10.1.1.10`: the packets carry the IPv4 address, so a rule for
the mapped form matches nothing and `audit` cannot find the server), not link-local, multicast,
loopback or unspecified. A network may not hold zone-scoped or IPv4-mapped addresses either.
"""

from __future__ import annotations

import ipaddress

from generator.model import Address, Network

MAPPED = ipaddress.IPv6Network("::ffff:0:0/96")


def host_problem(address: Address) -> str | None:
    """Why `address` cannot stand for a host in a rule, or None."""
    shared = _shared_problem(address)
    if shared is not None:
        return shared
    for kind, flagged in (("unspecified", address.is_unspecified),
                          ("multicast", address.is_multicast),
                          ("loopback", address.is_loopback),
                          ("link-local", address.is_link_local)):
        if flagged:
            article = "an" if kind[0] in "aeiou" else "a"
            return f"is {article} {kind} address, not a host's routed address"
    return None


def network_problem(network: Network) -> str | None:
    """Why `network` cannot stand in a rule, or None (its width is checked elsewhere)."""
    if network.prefixlen == network.max_prefixlen:
        return host_problem(network.network_address)
    if isinstance(network, ipaddress.IPv6Network) and network.overlaps(MAPPED):
        return (f"holds IPv4-mapped IPv6 addresses ({MAPPED}); write the IPv4 network the "
                "hosts are in")
    shared = _shared_problem(network.network_address)
    if shared is not None:
        return shared
    first = network.network_address
    if first.is_multicast or first.is_loopback:
        return "is not a network of hosts"
    return None


def _shared_problem(address: Address) -> str | None:
    if isinstance(address, ipaddress.IPv6Address) and address.scope_id:
        return (f"names an interface zone (%{address.scope_id}); a firewall rule matches "
                "addresses, not zones: write it without the zone")
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return (f"is an IPv4-mapped IPv6 address; the packets carry the IPv4 address: write "
                f"{address.ipv4_mapped}")
    return None
