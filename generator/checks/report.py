"""One finding type and one report shape for every check (verify, review, audit), and the one
way each is printed: a table for people, JSON for pipelines, Markdown for a ticket or a pull
request.

A `Finding` has a stable `code` (what kind of thing is wrong, for CI to filter on), a `place`
(where: a link and packet class, a resource, a server) and a `message`; a note is worth saying
and fails nothing.
"""

from __future__ import annotations

import json
import sys
from dataclasses import asdict, dataclass, field
from typing import Any

from generator.judge.addresses import AddressSet
from generator.judge.naming import Party, describe
from generator.judge.rules import Query
from generator.judge.sides import Judged, Link

# Stable codes: what CI filters and suppresses on.
FORBIDDEN = "forbidden"  # passes where the topology names nothing of the kind
MISSING = "missing"  # named by the topology, stopped
LATENT = "latent"  # opened on one side, refused on the other: the firewall rests on one layer
UNDECIDED = "undecided"  # something the judge cannot follow: fail closed
PROBLEM = "problem"  # the module or account cannot be built or read as it stands
NOT_FOUND = "not-found"  # a server address with no interface
DRIFT = "drift"  # rules that differ from what generate writes
REPLACED = "replaced"  # a plan replaces a firewall resource: an outage while it runs
NOTE = "note"


@dataclass(frozen=True)
class Finding:
    code: str
    place: str
    message: str
    note: bool = False  # worth saying; fails nothing
    peers: tuple[str, ...] = ()  # the far ends it is about, as exact prefixes
    flow: str = ""  # "who -> where service", for listings of flows
    rules: tuple[str, ...] = ()  # the rules that let it through, or the one that stops it

    def __str__(self) -> str:
        return f"{self.place}: {self.message}" if self.place else self.message


@dataclass
class Report:
    """The judgement of one module (or one cloud of a plan or account) of one system."""

    system: str
    target: str
    module: str  # the folder, plan or account judged
    classes: list[Judged] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    parties: list[Party] = field(default_factory=list)  # how sets are told in listings

    @property
    def failures(self) -> list[Finding]:
        return [f for f in self.findings if not f.note]

    @property
    def ok(self) -> bool:
        return not self.failures

    def add(self, code: str, message: str, place: str = "", note: bool = False) -> None:
        self.findings.append(Finding(code, place, message, note))

    @property
    def verdict(self) -> str:
        links = len({(c.link.server, c.link.address) for c in self.classes})
        judged = f"{len(self.classes)} packet classes on {links} links judged by sets"
        if self.ok:
            return f"{judged}: exact"
        return f"{judged}: {len(self.failures)} finding(s)"


def to_dict(report: Report) -> dict[str, Any]:
    """A report as JSON data (what the verdict cache keeps): the packet classes keep their sets,
    their differences live on as findings."""
    return {"system": report.system, "target": report.target, "module": report.module,
            "findings": [asdict(f) for f in report.findings],
            "parties": [[p.name, list(p.addresses.cidrs)] for p in report.parties],
            "classes": [[c.link.server, str(c.link.address), c.inbound, c.query.protocol,
                         list(c.query.ports), list(c.query.sports), list(c.admitted.cidrs),
                         list(c.intent.cidrs)] for c in report.classes]}


def from_dict(data: dict[str, Any]) -> Report:
    import ipaddress  # noqa: PLC0415

    classes = [Judged(Link(server, ipaddress.ip_address(address)), inbound,
                      Query(protocol, (ports[0], ports[1]), (sports[0], sports[1])),
                      AddressSet.of(*admitted), AddressSet.of(*intent), (), ())
               for server, address, inbound, protocol, ports, sports, admitted, intent
               in data["classes"]]
    return Report(data["system"], data["target"], data["module"], classes,
                  [Finding(**{**f, "peers": tuple(f.get("peers", ())),
                               "rules": tuple(f.get("rules", ()))})
                   for f in data["findings"]],
                  [Party(name, AddressSet.of(*cidrs)) for name, cidrs in data["parties"]])


def _ports(judged: Judged) -> str:
    return judged.query.label


def _rows(report: Report) -> list[tuple[str, str, str, str]]:
    """One row per link, direction and packet class that anything passes or the topology
    names, pieces with the same sets merged."""
    rows: list[tuple[str, str, str, str]] = []
    seen: set[tuple[str, bool, str]] = set()
    for judged in report.classes:
        if not judged.admitted and not judged.intent:
            continue
        key = (str(judged.link), judged.inbound, judged.query.label)
        if key in seen:
            continue
        seen.add(key)
        rows.append((str(judged.link), "in" if judged.inbound else "out", _ports(judged),
                     describe(judged.admitted, report.parties)))
    return rows


_MARK = {FORBIDDEN: "FORBIDDEN", MISSING: "MISSING", UNDECIDED: "UNDECIDED",
         PROBLEM: "PROBLEM", NOT_FOUND: "NOT FOUND", DRIFT: "DRIFT", REPLACED: "REPLACED",
         LATENT: "LATENT"}


def as_table(reports: list[Report]) -> str:
    lines: list[str] = []
    for report in reports:
        lines.append(f"{report.system} / {report.target}  ({report.module})")
        rows = _rows(report)
        widths = [max((len(r[i]) for r in rows), default=0) for i in range(3)]
        for row in rows:
            lines.append("  " + "  ".join(row[i].ljust(widths[i]) for i in range(3))
                         + f"  {row[3]}")
        for finding in report.findings:
            mark = "note" if finding.note else _MARK.get(finding.code, finding.code.upper())
            lines.append(f"  {mark:9} {finding}")
        lines.append(f"  {report.verdict}")
        lines.append("")
    return "\n".join(lines).rstrip("\n") + "\n"


def as_json(reports: list[Report]) -> str:
    return json.dumps({
        "ok": all(r.ok for r in reports),
        "results": [{
            "system": r.system, "target": r.target, "module": r.module, "ok": r.ok,
            "classes": len(r.classes), "findings": [asdict(f) for f in r.findings],
            "judged": [{"link": str(c.link), "direction": "in" if c.inbound else "out",
                        "protocol": c.query.protocol, "ports": list(c.query.ports),
                        "source_ports": list(c.query.sports),
                        "admitted": list(c.admitted.cidrs), "intent": list(c.intent.cidrs)}
                       for c in r.classes if c.admitted or c.intent],
        } for r in reports],
    }, indent=2) + "\n"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def as_markdown(reports: list[Report]) -> str:
    """What is wrong first, then what was judged."""
    lines: list[str] = []
    for report in reports:
        lines += [f"### {report.system} / {report.target}", "",
                  f"`{report.module}`: {report.verdict}", ""]
        failing = [f for f in report.findings if not f.note]
        if failing:
            lines += ["| finding | where | what |", "|---|---|---|"]
            lines += [f"| {f.code} | {_cell(f.place)} | {_cell(f.message)} |" for f in failing]
            lines.append("")
        lines += [f"- note: {_cell(str(f))}" for f in report.findings if f.note]
        lines.append("")
    return "\n".join(lines).rstrip("\n") + "\n"


def emit(reports: list[Report], fmt: str, what: str) -> int:
    """Print the reports in `fmt` (stdout) and a one-line verdict (stderr); the exit code."""
    printers: dict[str, Any] = {"json": as_json, "markdown": as_markdown, "table": as_table}
    sys.stdout.write(printers[fmt](reports))
    failed = [r for r in reports if not r.ok]
    if failed:
        names = ", ".join(f"{r.system}/{r.target}" for r in failed)
        print(f"scadafw {what}: {names}", file=sys.stderr)
        return 1
    return 0
