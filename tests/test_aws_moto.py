"""The moto layer on small hand-written modules. Names say the expected outcome: `allow_*`
rules must be the ones that let a flow through."""

from __future__ import annotations

import ipaddress
from pathlib import Path

from generator.judge.addresses import AddressSet
from generator.judge.aws import aws_sides
from generator.judge.rules import Query
from generator.judge.sides import Link
from generator.model import Role, Server
from generator.sources.hcl_module import read_module
from generator.sources.moto_module import build_in_moto
from tests.judged import decide_pair

A = Server("a", Role.MAIN, (ipaddress.ip_address("10.0.1.4"), ipaddress.ip_address("fd00::4")))
B = Server("b", Role.STANDBY, (ipaddress.ip_address("10.0.2.4"), ipaddress.ip_address("fd00::5")))
LINKS = [(s, Link(s.name, a)) for s in (A, B) for a in s.addresses]
TCP = Query("tcp", (5481, 5481), (49152, 65535))
ICMP = Query("icmp", (8, 8), (0, 0))
ICMPV6 = Query("icmpv6", (128, 128), (0, 0))


def group(name: str, body: str = "") -> str:
    return f"""
resource "aws_security_group" "{name}" {{
  name        = "{name}"
  description = "{name}"
{body}}}
"""


def attach(server: str, group_name: str) -> str:
    return f"""
resource "aws_network_interface_sg_attachment" "{server}" {{
  for_each          = {{ for i, id in lookup(var.network_interface_ids, "{server}", []) : tostring(i) => id }}
  security_group_id = aws_security_group.{group_name}.id
}}
"""


def rule(kind: str, name: str, owner: str, peer: str, protocol: str = "tcp", low: int = 5481,
         high: int = 5481) -> str:
    return f"""
resource "aws_vpc_security_group_{kind}_rule" "{name}" {{
  security_group_id = aws_security_group.{owner}.id
  {peer}
  ip_protocol       = "{protocol}"
  from_port         = {low}
  to_port           = {high}
}}
"""


def decide(tmp_path: Path, text: str, query: Query = TCP,
           src: Server = A, dst: Server = B) -> tuple[bool, str]:
    (tmp_path / "main.tf").write_text(text)
    state = build_in_moto(LINKS, read_module(tmp_path))
    assert not state.problems, state.problems
    sides = aws_sides(state, [(link, AddressSet.of(*server.addresses))
                              for server, link in LINKS])
    version = 6 if query.protocol == "icmpv6" else 4

    def link(server: Server) -> Link:
        return next(k for s, k in LINKS if s is server and k.address.version == version)

    return decide_pair(sides, link(src), link(dst), query)


BASE = group("g") + attach("a", "g") + attach("b", "g")
REF = "referenced_security_group_id = aws_security_group.g.id"


def test_group_reference_both_ways_allows(tmp_path: Path) -> None:
    allowed, because = decide(tmp_path, BASE + rule("egress", "allow_out", "g", REF)
                              + rule("ingress", "allow_in", "g", REF))
    assert allowed
    assert "allow_out" in because
    assert "allow_in" in because


def test_the_default_egress_rule_is_revoked_as_terraform_does(tmp_path: Path) -> None:
    allowed, because = decide(tmp_path, BASE + rule("ingress", "allow_in", "g", REF))
    assert not allowed
    assert because.startswith("no rule of the groups on ")
    assert because.endswith("(aws_security_group.g (sg-" + because.split("(sg-")[1])
    assert because.endswith(") lets it out")


def test_cidr_rules_match_the_servers_addresses(tmp_path: Path) -> None:
    text = (BASE + rule("egress", "allow_out_cidr", "g", 'cidr_ipv4 = "10.0.2.0/24"')
            + rule("ingress", "allow_in_cidr", "g", 'cidr_ipv4 = "10.0.1.4/32"'))
    assert decide(tmp_path, text)[0]
    assert not decide(tmp_path, text, src=B, dst=A)[0]


def test_icmp_type_selects_echo_request(tmp_path: Path) -> None:
    reply_only = (BASE + rule("egress", "out_echo_reply", "g", REF, "icmp", 0, -1)
                  + rule("ingress", "in_echo_reply", "g", REF, "icmp", 0, -1))
    assert not decide(tmp_path, reply_only, ICMP)[0]
    request = (BASE + rule("egress", "allow_out_echo", "g", REF, "icmp", 8, -1)
               + rule("ingress", "allow_in_echo", "g", REF, "icmp", 8, -1))
    assert decide(tmp_path, request, ICMP)[0]
    assert not decide(tmp_path, request, ICMPV6)[0]


def test_icmpv6_needs_its_own_rule(tmp_path: Path) -> None:
    text = (BASE + rule("egress", "allow_out_v6", "g", REF, "icmpv6", 128, -1)
            + rule("ingress", "allow_in_v6", "g", REF, "icmpv6", 128, -1))
    assert decide(tmp_path, text, ICMPV6)[0]
    assert not decide(tmp_path, text, ICMP)[0]


def test_all_protocols_rule_allows_everything(tmp_path: Path) -> None:
    text = (BASE + rule("egress", "allow_out_all", "g", REF, "-1", -1, -1)
            + rule("ingress", "allow_in_all", "g", REF, "-1", -1, -1))
    assert decide(tmp_path, text)[0]
    assert decide(tmp_path, text, ICMP)[0]


def test_inline_rules_of_a_hand_edited_group_count(tmp_path: Path) -> None:
    inline = """  egress {
    from_port       = 5481
    to_port         = 5481
    protocol        = "tcp"
    self            = true
  }
  ingress {
    from_port   = 5481
    to_port     = 5481
    protocol    = "tcp"
    cidr_blocks = ["10.0.1.0/24"]
  }
"""
    text = group("g", inline) + attach("a", "g") + attach("b", "g")
    assert decide(tmp_path, text)[0]
    assert not decide(tmp_path, text, src=B, dst=A)[0]


def test_an_unknown_group_reference_is_a_problem(tmp_path: Path) -> None:
    (tmp_path / "main.tf").write_text(BASE + rule(
        "ingress", "bad_ref", "g", "referenced_security_group_id = aws_security_group.nope.id"))
    state = build_in_moto(LINKS, read_module(tmp_path))
    assert any("does not name a security group" in p for p in state.problems)
