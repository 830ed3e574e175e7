"""A host firewall script (`<system>/windows/<server>.ps1`) read back strictly: the subset of
PowerShell the target writes (docs/design.md, "The host firewall"), and nothing else.

Lines, in order: comments and blank lines; `param([string]$PolicyStore = 'PersistentStore')`;
the removal of the server's group; then one `New-NetFirewallRule` per line, with named
parameters in a fixed order. Values are single-quoted strings (a quote doubled inside), bare
keywords, numbers, port ranges, or arrays of these joined by commas. Any other line, command,
parameter or value is a problem naming FILE:LINE, and a script with a problem is judged as
undecided: it cannot be known what Windows would make of it (fail closed).
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field
from pathlib import Path

from generator.judge import intervals as iv

PARAM = "param([string]$PolicyStore = 'PersistentStore')"
_QUOTES = "'\u2018\u2019\u201a\u201b"  # PowerShell reads each as a single quote
_STRING = re.compile(f"[{_QUOTES}]((?:[^{_QUOTES}]|[{_QUOTES}]{{2}})*)[{_QUOTES}]")
_BARE = re.compile(r"[A-Za-z0-9][A-Za-z0-9.\-]*")
_REMOVE = re.compile(r"^Remove-NetFirewallRule -Group (?P<a>.+) -PolicyStore \$PolicyStore "
                     r"-ErrorAction SilentlyContinue$|^Get-NetFirewallRule -Group (?P<b>.+) "
                     r"-PolicyStore \$PolicyStore -ErrorAction SilentlyContinue \| "
                     r"Remove-NetFirewallRule$")
# (parameter, required): the order New-NetFirewallRule lines keep
ORDER = (("Name", True), ("DisplayName", True), ("Description", True), ("Group", True),
         ("Direction", True), ("Action", True), ("Protocol", True), ("LocalPort", False),
         ("RemotePort", False), ("IcmpType", False), ("RemoteAddress", False),
         ("Profile", False), ("Enabled", False), ("PolicyStore", True))
KEYWORDS = {"Direction": ("Inbound", "Outbound"), "Action": ("Allow", "Block"),
            "Protocol": ("TCP", "UDP", "ICMPv4", "ICMPv6"), "Profile": ("Any",),
            "Enabled": ("True", "False")}
PROTOCOLS = {"TCP": "tcp", "UDP": "udp", "ICMPv4": "icmp", "ICMPv6": "icmpv6"}

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class ScriptError(ValueError):
    pass


@dataclass(frozen=True)
class HostRuleRead:
    """One `New-NetFirewallRule` as read: `None` for a match criterion the line leaves out
    (any), protocols in the judge's words."""

    name: str
    line: int
    inbound: bool
    allow: bool
    protocol: str  # tcp | udp | icmp | icmpv6
    enabled: bool
    group: str
    local_ports: iv.Intervals | None = None
    remote_ports: iv.Intervals | None = None
    icmp_types: iv.Intervals | None = None
    remote: tuple[Network, ...] | None = None

    def label(self, file: str) -> str:
        return f"{file}:{self.line} {self.name}"


@dataclass
class Script:
    path: Path
    group: str = ""
    rules: list[HostRuleRead] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def _values(text: str) -> tuple[list[tuple[str, bool]], str]:
    """The comma-joined values at the start of `text` (each: value, quoted), and the rest."""
    found: list[tuple[str, bool]] = []
    while True:
        quoted = _STRING.match(text)
        if quoted:
            value = quoted.group(1)
            for q in _QUOTES:
                value = value.replace(q * 2, q)
            found.append((value, True))
            text = text[quoted.end():]
        else:
            bare = _BARE.match(text)
            if not bare:
                raise ScriptError(f"cannot read the value at `{text[:30]}`")
            found.append((bare.group(0), False))
            text = text[bare.end():]
        if not text.startswith(","):
            return found, text
        text = text[1:]


def _parameters(text: str) -> list[tuple[str, list[tuple[str, bool]] | None]]:
    """`-Name value -Other value ...` in order; `$PolicyStore` is the one variable read."""
    found: list[tuple[str, list[tuple[str, bool]] | None]] = []
    while text:
        match = re.match(r"-([A-Za-z]+) ", text)
        if not match:
            raise ScriptError(f"expected ` -Parameter value`, found `{text[:30]}`")
        name, text = match.group(1), text[match.end():]
        if text.startswith("$PolicyStore"):
            found.append((name, None))
            text = text[len("$PolicyStore"):]
        else:
            values, text = _values(text)
            found.append((name, values))
        if text and not text.startswith(" "):
            raise ScriptError(f"unexpected `{text[:30]}` after -{name}")
        text = text[1:]
    return found


def _one(name: str, values: list[tuple[str, bool]] | None, quoted: bool) -> str:
    if values is None or len(values) != 1 or values[0][1] != quoted:
        kind = "one quoted string" if quoted else "one bare word"
        raise ScriptError(f"-{name} takes {kind}")
    value = values[0][0]
    if name in KEYWORDS and value not in KEYWORDS[name]:
        raise ScriptError(f"-{name} {value} is not one of {', '.join(KEYWORDS[name])}")
    return value


def _ports(name: str, values: list[tuple[str, bool]] | None, top: int) -> iv.Intervals:
    spans = []
    for value, quoted in values or []:
        match = re.fullmatch(r"(\d{1,5})(?:-(\d{1,5}))?", value)
        if quoted or not match:
            raise ScriptError(f"-{name} {value}: expected a number or a range `a-b`")
        low, high = int(match.group(1)), int(match.group(2) or match.group(1))
        if not 0 <= low <= high <= top:
            raise ScriptError(f"-{name} {value}: out of range 0-{top}")
        spans.append((low, high))
    return iv.merged(spans)


def _addresses(values: list[tuple[str, bool]] | None) -> tuple[Network, ...]:
    found = []
    for value, quoted in values or []:
        try:
            if not quoted:
                raise ValueError
            found.append(ipaddress.ip_network(value, strict=True))
        except ValueError:
            raise ScriptError(f"-RemoteAddress {value}: expected a quoted address or "
                                "prefix (keywords such as Any or LocalSubnet are not "
                                "read)") from None
    return tuple(found)


def rule_of(text: str, line: int) -> HostRuleRead:
    parameters = _parameters(text)
    given = dict(parameters)
    names = [n for n, _ in parameters]
    known = [n for n, _ in ORDER]
    for name in names:
        if name not in known:
            raise ScriptError(f"-{name} is not a parameter scadafw writes")
    if len(set(names)) != len(names) or names != sorted(names, key=known.index):
        raise ScriptError(f"parameters out of order; expected {', '.join(known)}")
    for name, required in ORDER:
        if required and name not in given:
            raise ScriptError(f"-{name} is missing")
    if given["PolicyStore"] is not None:
        raise ScriptError("-PolicyStore must be $PolicyStore")
    protocol = PROTOCOLS[_one("Protocol", given["Protocol"], False)]
    icmp = protocol in ("icmp", "icmpv6")
    if icmp and ("LocalPort" in given or "RemotePort" in given):
        raise ScriptError("ports do not apply to ICMP")
    if not icmp and "IcmpType" in given:
        raise ScriptError("-IcmpType applies to ICMPv4 and ICMPv6 only")
    for name in ("Profile", "Enabled"):
        if name in given:
            _one(name, given[name], False)
    return HostRuleRead(
        name=_one("Name", given["Name"], True), line=line,
        inbound=_one("Direction", given["Direction"], False) == "Inbound",
        allow=_one("Action", given["Action"], False) == "Allow", protocol=protocol,
        enabled="Enabled" not in given or _one("Enabled", given["Enabled"], False) == "True",
        group=_one("Group", given["Group"], True),
        local_ports=_ports("LocalPort", given["LocalPort"], 65535)
        if "LocalPort" in given else None,
        remote_ports=_ports("RemotePort", given["RemotePort"], 65535)
        if "RemotePort" in given else None,
        icmp_types=_ports("IcmpType", given["IcmpType"], 255) if "IcmpType" in given else None,
        remote=_addresses(given["RemoteAddress"]) if "RemoteAddress" in given else None)


def _statements(path: Path, text: str) -> tuple[Script, list[tuple[int, str]]]:
    script = Script(path)
    body = [(n, line.rstrip("\r")) for n, line in enumerate(text.split("\n"), 1)]
    body = [(n, line) for n, line in body if line.strip() and not line.lstrip().startswith("#")]
    if not body or body[0][1] != PARAM:
        where = body[0][0] if body else 1
        script.problems.append(f"{path}:{where}: the first statement must be `{PARAM}`")
        return script, []
    if len(body) < 2 or not _REMOVE.match(body[1][1]):
        where = body[1][0] if len(body) > 1 else body[0][0]
        script.problems.append(f"{path}:{where}: the second statement must remove the "
                               "server's group (Remove-NetFirewallRule -Group ...)")
        return script, []
    removal = _REMOVE.match(body[1][1])
    assert removal is not None
    try:
        values, rest = _values(removal.group("a") or removal.group("b"))
        if rest:
            raise ScriptError(f"unexpected `{rest[:30]}` in the group")
        script.group = _one("Group", values, True)
    except ScriptError as exc:
        script.problems.append(f"{path}:{body[1][0]}: {exc}")
    return script, body[2:]


def read_script(path: Path, text: str | None = None) -> Script:
    """Every rule of one script, or the problems that make it unreadable."""
    script, lines = _statements(path, path.read_text(encoding="utf-8") if text is None else text)
    names: set[str] = set()
    for number, line in lines:
        prefix = "New-NetFirewallRule "
        try:
            if not line.startswith(prefix):
                raise ScriptError(f"`{line.split(' ')[0][:40]}` is not a statement scadafw "
                                    "writes; only New-NetFirewallRule lines follow the removal")
            rule = rule_of(line[len(prefix):], number)
            if rule.group != script.group:
                raise ScriptError(f"-Group '{rule.group}' is not the group the script "
                                    f"removes ('{script.group}'): a re-run would keep it")
            if rule.name in names:
                raise ScriptError(f"-Name '{rule.name}' appears twice")
            names.add(rule.name)
            script.rules.append(rule)
        except ScriptError as exc:
            script.problems.append(f"{path}:{number}: {exc}")
    return script
