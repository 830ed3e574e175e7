"""Each layer kind decides as its cloud documents, part by part of the far ends."""

from __future__ import annotations

from generator.judge.addresses import AddressSet
from generator.judge.gates import Admin, AnyAllows, BlockWins, FirstMatch, Stateless, run
from generator.judge.rules import Action, Query, Rule, protocols

TCP_5481 = Query("tcp", (5481, 5481), (49152, 65535))
ALL = AddressSet.everything(4)


def rule(label: str, action: Action, peers: str, ports: tuple[int, int] | None = (5481, 5481),
         protocol: str = "tcp", sports: tuple[int, int] | None = None) -> Rule:
    return Rule(label, action, protocols(protocol), None if ports is None else (ports,),
                AddressSet.of(peers), None if sports is None else (sports,))


def allowed(parts: list, query: Query = TCP_5481) -> AddressSet:  # type: ignore[type-arg]
    del query
    out = AddressSet()
    for part in parts:
        if part.allowed:
            out = out | part.peers
    return out


def test_first_match_lower_number_wins_and_the_default_closes() -> None:
    gate = FirstMatch("nsg", [rule("deny-dmz", Action.DENY, "10.30.1.10/32"),
                              rule("allow-vnet", Action.ALLOW, "10.0.0.0/8")],
                      default_allow=False, default_label="DenyAllInBound")
    parts = gate.decide(TCP_5481, ALL)
    assert allowed(parts) == AddressSet.of("10.0.0.0/8") - AddressSet.of("10.30.1.10")
    assert {p.because for p in parts} == {("deny-dmz",), ("allow-vnet",), ("DenyAllInBound",)}


def test_a_rule_on_another_port_or_protocol_does_not_match() -> None:
    gate = FirstMatch("nsg", [rule("udp", Action.ALLOW, "0.0.0.0/0", protocol="udp"),
                              rule("other", Action.ALLOW, "0.0.0.0/0", ports=(5482, 5482))],
                      default_allow=False, default_label="deny")
    assert not allowed(gate.decide(TCP_5481, ALL))


def test_security_groups_add_up() -> None:
    gate = AnyAllows("sg", [rule("a", Action.ALLOW, "10.10.1.0/24"),
                            rule("b", Action.ALLOW, "10.10.2.0/24")], "no rule")
    assert allowed(gate.decide(TCP_5481, ALL)) == AddressSet.of("10.10.1.0/24", "10.10.2.0/24")


def test_a_block_beats_any_allow_whatever_the_order() -> None:
    gate = BlockWins("host", blocks=[rule("block", Action.DENY, "10.10.2.10/32")],
                     allows=[rule("allow", Action.ALLOW, "10.10.0.0/16")], default_allow=False,
                     default_label="blocked by default")
    assert allowed(gate.decide(TCP_5481, ALL)) == (AddressSet.of("10.10.0.0/16")
                                                   - AddressSet.of("10.10.2.10"))


def test_a_stateless_layer_needs_the_reply_on_the_source_port() -> None:
    forward = FirstMatch("in", [rule("in-100", Action.ALLOW, "0.0.0.0/0")], False, "in-*")
    back = FirstMatch("out", [rule("out-100", Action.ALLOW, "0.0.0.0/0", ports=(49152, 65535))],
                      False, "out-*")
    nacl = Stateless("acl", forward, back, inside=AddressSet.of("10.10.1.0/24"))
    linux = Query("tcp", (5481, 5481), (32768, 49151))
    assert allowed(nacl.decide(TCP_5481, ALL)) == ALL
    refused = nacl.decide(linux, ALL)
    assert allowed(refused) == AddressSet.of("10.10.1.0/24")  # the subnet never crosses it
    assert ("out-* (the reply)",) in {p.because for p in refused if not p.allowed}


def test_admin_rules_deny_and_always_allow_end_evaluation_allow_passes_on() -> None:
    nsg = FirstMatch("nsg", [rule("nsg-allow", Action.ALLOW, "10.10.2.10/32")], False, "deny")
    admin = Admin("avnm", [rule("deny-b", Action.DENY, "10.10.2.10/32"),
                           rule("always-dmz", Action.ALWAYS_ALLOW, "10.30.1.10/32"),
                           rule("allow-x", Action.ALLOW, "10.10.3.0/24")], then=[nsg])
    parts = admin.decide(TCP_5481, ALL)
    assert allowed(parts) == AddressSet.of("10.30.1.10")  # only the AlwaysAllow gets through
    nsg_only = Admin("avnm", [rule("allow-b", Action.ALLOW, "10.10.2.10/32")], then=[nsg])
    assert [p.because for p in nsg_only.decide(TCP_5481, ALL) if p.allowed] == [
        ("allow-b", "nsg-allow")]


def test_run_needs_every_gate_and_names_the_one_that_stops() -> None:
    outer = FirstMatch("subnet", [rule("subnet-allow", Action.ALLOW, "10.0.0.0/8")], False,
                       "subnet-deny")
    inner = AnyAllows("sg", [rule("sg-allow", Action.ALLOW, "10.10.0.0/16")], "no sg rule")
    parts = run([outer, inner], TCP_5481, ALL)
    assert allowed(parts) == AddressSet.of("10.10.0.0/16")
    assert [p.because for p in parts if p.allowed] == [("subnet-allow", "sg-allow")]
    assert {p.because for p in parts if not p.allowed} == {("subnet-deny",), ("no sg rule",)}
