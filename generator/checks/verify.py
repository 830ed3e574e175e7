"""`verify`: the emitted modules judged by sets against the topology.

Each module is read back from its .tf files (python-hcl2, never the generator's objects), built
as its cloud would hold it (AWS: in moto; Azure: NSG models with Azure's default rules), turned
into gates, and every side of every server address judged for every protocol and port the
system uses (generator/judge/sides.py).

What counts, besides every inbound difference and every missing flow:
- AWS: every extra outbound destination (in verify the module's groups are the interfaces'
  only groups, so its egress rules are exactly what leaves);
- Azure: an extra outbound destination on the server port or ICMP, which the module's NSG
  denies to anything not allowed above it. Other egress passes Azure's default
  `AllowInternetOutBound`, the site's to restrict.
- Windows (the host firewall scripts): an extra outbound destination of a DMZ permanent
  standby among the servers, on the server port or ICMP echo, which its script blocks. Other
  egress is allowed by Windows' default, the site's to restrict.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from generator.checks.judgement import EVERY_EXTRA, Outbound, findings_of
from generator.checks.report import NOTE, PROBLEM, UNDECIDED, Finding, Report
from generator.intent.links import LinkIntent, expand, stand_ins
from generator.intent.services import ICMP, ICMPV6, SERVER_PORT, service_ports
from generator.judge.addresses import AddressSet, union
from generator.judge.aws import aws_sides
from generator.judge.perimeter import perimeter_sides
from generator.judge.sides import Judged, Side, judge_side
from generator.judge.windows import windows_sides
from generator.model import Role, System, Target
from generator.sources.hcl_module import read_module
from generator.sources.moto_module import build_in_moto, clear_sandbox, moto_sandbox
from generator.sources.perimeter_policy import read_policy, rendering_problems
from generator.sources.windows_script import Script, read_script
from generator.targets.placement import placements


def judge(sides: list[Side], intent: LinkIntent) -> list[Judged]:
    return [j for side in sides
            for j in judge_side(side, intent.scope, intent.of(side.link, side.inbound))]


def own_addresses(intent: LinkIntent) -> list[tuple[Any, AddressSet]]:
    return [(link, intent.own[server.name]) for server, link in intent.links]


def named_addresses(intent: LinkIntent) -> AddressSet:
    return union(p.addresses for p in intent.parties)


def _on_server_services(view: System) -> Callable[[Judged], bool]:
    """Whether a packet class is the server port (TCP) or ICMP."""
    server_port = service_ports(view, SERVER_PORT)[1]

    def on(judged: Judged) -> bool:
        q = judged.query
        return q.protocol in (ICMP, ICMPV6) or (q.protocol == "tcp" and (q.ports,) == server_port)

    return on


def azure_outbound(view: System) -> Outbound:
    """The server port and ICMP echo, which the module's NSGs deny to anything not allowed
    above (docs/design.md)."""
    on = _on_server_services(view)
    return Outbound(lambda j: AddressSet.everything() if on(j) else AddressSet())


def windows_outbound(view: System) -> Outbound:
    """A DMZ permanent standby's server port and ICMP echo towards every other server, which
    its script blocks (docs/design.md, "The host firewall")."""
    on = _on_server_services(view)
    dmz = {s.name for s in view.servers if s.role is Role.DMZ_PERMANENT_STANDBY}
    servers = AddressSet.of(*(a for s in (*view.servers, *view.partners) for a in s.addresses))
    return Outbound(lambda j: servers if j.link.server in dmz and on(j) else AddressSet())


def read_scripts(view: System, folder: Path) -> tuple[dict[str, Script | None], list[str]]:
    """Each server's script, read strictly; what is missing or unreadable as problems."""
    found: dict[str, Script | None] = {}
    problems = []
    if not folder.is_dir():
        return {}, [f"{folder}: no such folder; run `scadafw generate` first"]
    for server in view.servers:
        path = folder / f"{server.name}.ps1"
        if not path.is_file():
            found[server.name] = None
            problems.append(f"{path}: missing; {server.name} is judged with Windows' defaults "
                            "alone")
            continue
        script = found[server.name] = read_script(path)
        problems += script.problems
        group = f"scadafw {view.name} {server.name}"
        if script.group and script.group != group:
            problems.append(f"{path}: removes the group '{script.group}', not '{group}'")
    return found, problems


def verify_module(view: System, folder_name: str, target: Target, modules: Path,
                  ec2: Any | None = None) -> Report:
    """Judge one module of a system (`view`: the system as that module sees it)."""
    folder = modules / view.name / folder_name
    report = Report(view.name, folder_name, str(folder))
    standing = stand_ins(view)
    intent = expand(view, standing)
    undecided: list[str] = []
    outbound: Outbound
    if target is Target.PERIMETER:
        policy = read_policy(folder)
        problems = policy.problems + rendering_problems(folder)
        sides = perimeter_sides(policy, own_addresses(intent), union(intent.own.values()))
        outbound = EVERY_EXTRA
        report.findings += _inside_notes(view)
    elif target is Target.WINDOWS:
        scripts, problems = read_scripts(view, folder)
        sides = windows_sides(scripts, own_addresses(intent))
        outbound = windows_outbound(view)
    elif target is Target.AWS:
        aws = build_in_moto(intent.links, read_module(folder), ec2)
        problems, sides = aws.problems, aws_sides(aws, own_addresses(intent))
        outbound = EVERY_EXTRA
    else:
        # imported here: the Azure SDK's models take a third of a second to load, and a
        # one-system `verify` loads them in a worker while this process builds AWS in moto
        from generator.judge.azure import azure_sides  # noqa: PLC0415
        from generator.sources.azure_module import build_nsgs  # noqa: PLC0415

        azure = build_nsgs(read_module(folder), view)
        problems = azure.problems
        sides, undecided = azure_sides(azure, own_addresses(intent), named_addresses(intent))
        outbound = azure_outbound(view)
    report.classes = judge(sides, intent)
    report.parties = intent.parties
    for problem in problems:
        report.add(PROBLEM, problem)
    for text in undecided:
        report.add(UNDECIDED, text)
    report.findings += findings_of(report.classes, intent.parties, outbound)
    for name, address in sorted(standing.items()):
        report.add(NOTE, f"{name} lists no address: judged at the stand-in {address}",
                   note=True)
    return report


def _inside_notes(view: System) -> list[Finding]:
    """A DMZ standby inside an on-premises network with other servers: the perimeter never sees
    what passes between them."""
    dmz = [s.name for s in view.servers if s.role is Role.DMZ_PERMANENT_STANDBY]
    if not dmz or len(view.servers) == len(dmz):
        return []
    hosts = any(n.host_firewall for n in view.networks if n.name == view.network)
    return [Finding(NOTE, "", f"{', '.join(dmz)} shares {view.network} with other servers: "
                              "what passes between them never crosses the perimeter, so "
                              + ("only their host firewalls keep it from them" if hosts else
                                 "nothing scadafw writes keeps it from them (set "
                                 "`host_firewall: true` on the network)"), note=True)]


def verify_system(system: System, modules: Path, ec2: Any | None = None) -> list[Report]:
    """Every module of one system. Each judges both sides of its own servers, partners in
    other networks included by their addresses, so together they cover every flow."""
    return [verify_module(p.view, p.folder, p.target, modules, ec2) for p in placements(system)]


def verify_placed(system: System, modules: Path, which: list[int]) -> list[Report]:
    """The modules of one system at these positions of `placements(system)`, with a moto
    sandbox of their own if one of them is AWS's."""
    chosen = [placements(system)[i] for i in which]
    with ExitStack() as stack:
        ec2 = (stack.enter_context(moto_sandbox())
               if any(p.target is Target.AWS for p in chosen) else None)
        return [verify_module(p.view, p.folder, p.target, modules, ec2) for p in chosen]


def verify_each(systems: list[System], modules: Path) -> list[list[Report]]:
    """Each system's reports, in one process, sharing one moto sandbox emptied between
    systems (moto's describe_* calls slow down with everything the account holds)."""
    with ExitStack() as stack:
        ec2 = (stack.enter_context(moto_sandbox())
               if any(Target.AWS in s.targets for s in systems) else None)
        found = []
        for system in systems:
            if ec2 is not None:
                clear_sandbox()
            found.append(verify_system(system, modules, ec2))
        return found


def verify_systems(systems: list[System], modules: Path) -> list[Report]:
    """Every module of every system, in one process: the plain path `verify`'s fleet path
    (generator/checks/fleet.py) must equal."""
    return [r for each in verify_each(systems, modules) for r in each]

