"""`scadafw verify TOPOLOGY... [--modules DIR]`: prove the emitted modules' directionality."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, Any

from generator.commands.arguments import add_modules_dir, add_topologies
from generator.errors import UsageError
from generator.fleet import load_systems
from generator.model import System, Target

if TYPE_CHECKING:
    from generator.checks.report import Report


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "verify",
        help="prove that the emitted modules allow exactly the Geo SCADA flows",
        description="Read the emitted files of each TOPOLOGY's system back (.tf with python-hcl2, "
        "the host firewall's .ps1 and the perimeter policies with strict readers), build them "
        "in moto (AWS), in an NSG evaluator with Azure's semantics (Azure), in one with "
        "Windows Defender Firewall's (windows) and in a first-match one (the perimeter policy "
        "of each on-premises network, whose renderings must be aerleon's), and judge every "
        "server address, inbound and outbound, for every protocol and port the system uses, by "
        "exact address sets against the topology. Systems are verified on every core; "
        "verdicts are kept in ~/.cache/scadafw/verdicts keyed by the bytes of the "
        "module files, the topology and scadafw's own code (SCADAFW_CACHE=off to skip). Exit 0 "
        "when exact, 1 on any mismatch, 2 on bad input.",
    )
    add_topologies(p)
    add_modules_dir(p)
    p.add_argument("--format", choices=("table", "json"), default="table",
                   help="table for people, json for pipelines (default: table)")
    p.add_argument("--terraform", action="store_true",
                   help="AWS: plan and apply each module with the real `terraform` on PATH and "
                   "its AWS provider into an in-process moto server beside servers that carry "
                   "their own launch groups, re-plan (an apply must leave nothing to change), and "
                   "judge what the provider built. Uses a provider mirror from "
                   "SCADAFW_PROVIDER_MIRROR where no registry is reachable. Azure modules are "
                   "verified offline as without this flag; the whole-system judgement of systems "
                   "with `networks` is left to a run without it.")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    # moto, boto3, azure-mgmt-network and python-hcl2 load only for this command (~0.4 s)
    from generator.checks.fleet import verify_fleet  # noqa: PLC0415
    from generator.checks.report import emit  # noqa: PLC0415

    systems = load_systems(args.topologies)
    if args.terraform:
        reports = _with_terraform(systems, args.modules)
    else:
        reports = verify_fleet(systems, args.modules)
    return emit(reports, args.format, "verify: these do not match the flow matrix:")


def _with_terraform(systems: list[System], modules: Path) -> list[Report]:
    """AWS through Terraform and moto; Azure (no provider needed) as without --terraform."""
    from generator.checks.terraform import verify_with_terraform  # noqa: PLC0415
    from generator.checks.verify import verify_module  # noqa: PLC0415
    from generator.sources.terraform import (  # noqa: PLC0415
        find_provider_mirror,
        find_terraform,
    )
    from generator.targets.placement import placements  # noqa: PLC0415

    if find_terraform() is None:
        raise UsageError("--terraform needs `terraform` on PATH (Terraform 1.5 or newer); "
                         "without it, `scadafw verify` proves the modules in moto directly")
    aws = {(r.system, r.target): r
           for r in verify_with_terraform(systems, modules, find_provider_mirror())}
    reports: list[Report] = []
    for system in systems:
        for placed in placements(system):
            reports.append(aws[(system.name, placed.folder)] if placed.target is Target.AWS
                           else verify_module(placed.view, placed.folder, placed.target,
                                              modules))
    return reports
