"""The judge's address and port sets equal netaddr's IPSet, operation by operation."""

from __future__ import annotations

import ipaddress

from hypothesis import given, settings
from hypothesis import strategies as st
from netaddr import IPSet

from generator.judge import intervals as iv
from generator.judge.addresses import AddressSet

V4 = st.builds(lambda a, n: str(ipaddress.ip_network((a, n), strict=False)),
               st.integers(0, 2**32 - 1), st.integers(0, 32))
V6 = st.builds(lambda a, n: str(ipaddress.ip_network((a, n), strict=False)),
               st.integers(0, 2**128 - 1), st.integers(0, 128))
PREFIXES = st.lists(st.one_of(V4, V4, V6), max_size=6)


def _same(ours: AddressSet, theirs: IPSet) -> None:
    # netaddr prints some IPv6 prefixes in the IPv4-compatible form: compare as networks
    assert [ipaddress.ip_network(c) for c in ours.cidrs] == [
        ipaddress.ip_network(f"{c.ip}/{c.prefixlen}") for c in theirs.iter_cidrs()]


@settings(max_examples=300, deadline=None)
@given(PREFIXES, PREFIXES)
def test_union_intersection_difference_equal_netaddr(a: list[str], b: list[str]) -> None:
    ours_a, ours_b = AddressSet.of(*a), AddressSet.of(*b)
    theirs_a, theirs_b = IPSet(a), IPSet(b)
    _same(ours_a, theirs_a)
    _same(ours_a | ours_b, theirs_a | theirs_b)
    _same(ours_a & ours_b, theirs_a & theirs_b)
    _same(ours_a - ours_b, theirs_a - theirs_b)
    _same(AddressSet.everything() - ours_a, IPSet(["0.0.0.0/0", "::/0"]) - theirs_a)
    assert bool(ours_a & ours_b) == bool(theirs_a & theirs_b)


def test_a_complement_is_exact_and_cheap() -> None:
    rest = AddressSet.everything(4) - AddressSet.of("10.10.1.10")
    assert len(rest.v4) == 2
    assert "10.10.1.10" not in rest
    assert "10.10.1.11" in rest
    assert "10.10.1.9" in rest
    assert rest.size == 2**32 - 1


def test_port_pieces_start_at_every_boundary() -> None:
    domain = ((5500, 5509), (5481, 5481))
    cuts = iv.boundaries(((5503, 5505),)) | iv.boundaries(((0, 65535),))
    assert iv.pieces(iv.merged(domain), cuts) == [(5481, 5481), (5500, 5502), (5503, 5505),
                                                  (5506, 5509)]
    assert iv.covers(((5500, 5509),), (5503, 5505))
    assert not iv.covers(((5500, 5504),), (5503, 5505))
