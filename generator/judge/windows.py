"""Windows Defender Firewall as gates: the rules of each server's script, as read back by
generator/sources/windows_script.py.

Semantics (Microsoft, "Windows Firewall rules" and "Configure rules with group policy";
docs/design.md, "The host firewall"):
- inbound is blocked unless an Allow rule matches; outbound is allowed unless a Block rule
  matches;
- a matching Block rule wins over any Allow rule;
- a rule matches on protocol, local port, remote port, remote address and ICMP type; a
  criterion a rule leaves out matches anything; a disabled rule matches nothing;
- the firewall is stateful: a reply to an allowed connection needs no rule.
Inbound, the far end is the remote address and the packet's destination port the local port;
outbound, the destination port is the remote port.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from generator.judge.addresses import AddressSet
from generator.judge.gates import BlockWins, Gate
from generator.judge.rules import Action, Rule
from generator.judge.sides import Link, Side
from generator.sources.windows_script import HostRuleRead, Script

INBOUND_DEFAULT = "Windows blocks inbound by default"
OUTBOUND_DEFAULT = "Windows allows outbound by default"


def host_rule(rule: HostRuleRead, file: str) -> Rule:
    icmp = rule.protocol in ("icmp", "icmpv6")
    ports = rule.icmp_types if icmp else (rule.local_ports if rule.inbound else rule.remote_ports)
    sports = None if icmp else (rule.remote_ports if rule.inbound else rule.local_ports)
    peers = AddressSet.everything() if rule.remote is None else AddressSet.of(*rule.remote)
    return Rule(rule.label(file), Action.ALLOW if rule.allow else Action.DENY,
                frozenset({rule.protocol}), ports, peers, sports)


def host_gate(script: Script | None, inbound: bool) -> Gate:
    """One direction of one server's firewall; with no script, Windows' defaults alone."""
    rules = [r for r in (script.rules if script else []) if r.enabled and r.inbound == inbound]
    file = script.path.name if script else ""
    return BlockWins(
        "windows", blocks=[host_rule(r, file) for r in rules if not r.allow],
        allows=[host_rule(r, file) for r in rules if r.allow], default_allow=not inbound,
        default_label=INBOUND_DEFAULT if inbound else OUTBOUND_DEFAULT)


def windows_sides(scripts: Mapping[str, Script | None],
                  links: Iterable[tuple[Link, AddressSet]]) -> list[Side]:
    """Both sides of every link, each through its server's script (`scripts`: by server)."""
    return [Side(link, inbound, [host_gate(scripts.get(link.server), inbound)], own)
            for link, own in links for inbound in (True, False)]
