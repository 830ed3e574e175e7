"""The `moved` blocks of an AWS module (generator/targets/moves.py):
- the rules of a renamed client or outstation keep their resources, under the address the new
  name gives;
- server-port rules are named with their port (names.py): the plain names that releases
  before port migrations gave them move to the rules of the port in use then (`previous_port`
  during a migration, else `port`). Where no state holds a plain name, such a block does
  nothing; where it does, no state can hold the target yet.
"""

from __future__ import annotations

from dataclasses import replace

from generator.intent.flows import former_name
from generator.model import System
from generator.targets.aws.peers import AwsPeerRule, aws_peer_rules
from generator.targets.aws.rules import aws_rules
from generator.targets.moves import Move, checked


def aws_moves(system: System) -> list[Move]:
    moves = []
    older = system.previous_port or system.port  # the port plain names held, if any did
    for rule in aws_rules(system):
        if rule.from_port == older and rule.name != rule.plain_name:
            moves.append(Move(f"{rule.resource_type}.{rule.plain_name}", rule.address,
                              f"TCP {older}: earlier releases named it without its port"))
    for peer in aws_peer_rules(system):
        old = former_name(system, peer.flow)
        was = replace(peer, flow=peer.flow.with_peer_named(old)) if old else peer
        if peer.on_server_port and peer.from_port == older:
            # chained with the rename below, where there is one: one move to each address
            moves.append(Move(_plain(was), f"{was.resource_type}.{was.name}",
                              f"TCP {older}: earlier releases named it without its port"))
        if old:
            moves.append(Move(was.address, peer.address,
                              f"{peer.flow.kind} {old} is now {peer.flow.peer}"))
    return checked(moves)


def _plain(rule: AwsPeerRule) -> str:
    return f"{rule.resource_type}.{rule.plain_name}"
