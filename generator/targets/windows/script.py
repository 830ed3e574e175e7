"""A server's PowerShell script: one `New-NetFirewallRule` line per rule, in the format the
strict reader (generator/sources/windows_script.py) reads back, and nothing else (docs/design.md,
"The host firewall")."""

from __future__ import annotations

from generator.intent.services import Ports
from generator.model import Network, Server, System
from generator.provenance import header
from generator.targets.windows.rules import HostRule

PARAM = "param([string]$PolicyStore = 'PersistentStore')"
# PowerShell reads all of these as a single quote inside a single-quoted string
_QUOTES = ("'", "\u2018", "\u2019", "\u201a", "\u201b")


def ps_string(value: str) -> str:
    """A PowerShell single-quoted literal that reads back as exactly `value` (one line)."""
    if any(c in value for c in "\r\n\x00"):
        raise ValueError(f"a script value holds a line break: {value!r}")
    for quote in _QUOTES:
        value = value.replace(quote, quote * 2)
    return f"'{value}'"


def group_of(system: System, server: Server) -> str:
    return f"scadafw {system.name} {server.name}"


def rule_name(system: System, server: Server, rule: HostRule) -> str:
    return f"scadafw-{system.name}-{server.name}-{rule.name}"


def _ports(ports: Ports) -> str:
    return ",".join(str(lo) if lo == hi else f"{lo}-{hi}" for lo, hi in ports)


def _addresses(networks: tuple[Network, ...]) -> str:
    return ",".join(ps_string(str(n.network_address) if n.prefixlen == n.max_prefixlen
                              else str(n)) for n in networks)


def rule_line(system: System, server: Server, rule: HostRule) -> str:
    parts = [("Name", ps_string(rule_name(system, server, rule))),
             ("DisplayName", ps_string(rule.display)),
             ("Description", ps_string(rule.description)),
             ("Group", ps_string(group_of(system, server))),
             ("Direction", rule.direction), ("Action", rule.action), ("Protocol", rule.protocol)]
    if rule.local_ports:
        parts.append(("LocalPort", _ports(rule.local_ports)))
    if rule.remote_ports:
        parts.append(("RemotePort", _ports(rule.remote_ports)))
    if rule.icmp_type is not None:
        parts.append(("IcmpType", str(rule.icmp_type)))
    if rule.remote:
        parts.append(("RemoteAddress", _addresses(rule.remote)))
    parts += [("Profile", "Any"), ("Enabled", "True"), ("PolicyStore", "$PolicyStore")]
    return "New-NetFirewallRule " + " ".join(f"-{k} {v}" for k, v in parts)


def script(system: System, server: Server, rules: list[HostRule]) -> str:
    group = group_of(system, server)
    lines = [f"# {header(system.source)}",
             "#",
             f"# Windows Defender Firewall rules of {server.name} ({server.role.value}), Geo "
             f"SCADA system {system.name}:",
             f"# {len(rules)} rules in the group '{group}'. Run as an administrator on the "
             "server, or pass",
             "# -PolicyStore 'domain\\GPO name' to write them into a GPO. It first removes "
             "this group's rules,",
             "# so running it again replaces them; no other rule is touched.",
             PARAM,
             f"Remove-NetFirewallRule -Group {ps_string(group)} -PolicyStore $PolicyStore "
             "-ErrorAction SilentlyContinue"]
    lines += [rule_line(system, server, rule) for rule in rules]
    return "\n".join(lines) + "\n"
