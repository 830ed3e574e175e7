"""A side of a link judged by sets: every far end, not a sample of them."""

from __future__ import annotations

import ipaddress

from generator.judge.addresses import AddressSet
from generator.judge.gates import AnyAllows, FirstMatch
from generator.judge.rules import Action, Rule, protocols
from generator.judge.sides import Link, Side, Want, judge_side

MAIN = Link("scada-a", ipaddress.ip_address("10.10.1.10"))
SCOPE = {"tcp": ((5481, 5481), (5500, 5509)), "icmp": ((8, 8),)}
WANTS = [Want("tcp", ((5481, 5481),), AddressSet.of("10.10.2.10/32"), "scada-b")]


def test_a_hole_between_samples_is_found_whole() -> None:
    wide = Rule("hand-added", Action.ALLOW, protocols("tcp"), ((5481, 5481),),
                AddressSet.of("172.16.0.0/12", "10.10.2.10/32"))
    side = Side(MAIN, True, [AnyAllows("sg", [wide], "no rule")], AddressSet.of("10.10.1.10"))
    judged = judge_side(side, SCOPE, WANTS)
    extras = [(j.query.label, e) for j in judged for e, _ in j.extra]
    assert extras == [("TCP 5481", AddressSet.of("172.16.0.0/12"))]
    assert all(not j.missing for j in judged)


def test_a_rule_over_part_of_a_port_range_splits_it() -> None:
    part = Rule("advise-half", Action.ALLOW, protocols("tcp"), ((5503, 5505),),
                AddressSet.of("10.0.0.0/8"))
    side = Side(MAIN, True, [AnyAllows("sg", [part], "no rule")], AddressSet.of("10.10.1.10"))
    labels = [j.query.label for j in judge_side(side, SCOPE, []) if j.extra]
    assert labels == ["TCP 5503-5505"]


def test_what_the_topology_names_and_the_layer_stops_is_missing() -> None:
    nothing = FirstMatch("nsg", [], default_allow=False, default_label="DenyAllInBound")
    side = Side(MAIN, True, [nothing], AddressSet.of("10.10.1.10"))
    missing = [(j.query.label, m, why) for j in judge_side(side, SCOPE, WANTS)
               for m, why in j.missing]
    assert missing == [("TCP 5481", AddressSet.of("10.10.2.10/32"), ("DenyAllInBound",))]


def test_the_servers_own_addresses_are_never_far_ends() -> None:
    everyone = Rule("all", Action.ALLOW, None, None, AddressSet.everything())
    side = Side(MAIN, True, [AnyAllows("sg", [everyone], "-")],
                AddressSet.of("10.10.1.10", "10.10.9.10"))
    for judged in judge_side(side, SCOPE, WANTS):
        assert "10.10.9.10" not in judged.admitted
        assert "10.10.1.10" not in judged.admitted


def test_icmp_is_judged_on_ipv4_links_and_icmpv6_on_ipv6_links() -> None:
    scope = {"icmp": ((8, 8),), "icmpv6": ((128, 128),)}
    v6 = Link("scada-a", ipaddress.ip_address("fd00::10"))
    side = Side(v6, True, [FirstMatch("x", [], False, "deny")], AddressSet.of("fd00::10"))
    assert [j.query.protocol for j in judge_side(side, scope, [])] == ["icmpv6"]
