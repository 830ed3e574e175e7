"""The AWS proof through the real Terraform provider: `scadafw verify --terraform`.

For each system, in moto running as a server on 127.0.0.1: the servers are created first as an
account has them (generator/sources/landscape.py), a root configuration calls the emitted
module with their VPC and interface IDs, Terraform plans and applies it and plans again (an
apply must leave nothing to change; generator/sources/terraform_apply.py), and the judge reads
back every group on every server address's interface.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any

from generator.checks.judgement import Outbound, findings_of
from generator.checks.report import NOTE, PROBLEM, Report
from generator.checks.verify import judge as judge_sides
from generator.checks.verify import own_addresses
from generator.intent.links import expand
from generator.judge.addresses import union
from generator.judge.aws import aws_sides
from generator.model import System, Target
from generator.sources.ec2 import read_state
from generator.sources.hcl_module import ModuleReadError
from generator.sources.landscape import ec2_client, moto_endpoint, provision_servers
from generator.sources.terraform import Terraform
from generator.sources.terraform_apply import (
    LINK_RESOURCE,
    ROOT_CONFIGURATION,
    Applied,
    apply_root,
    state_labels,
)
from generator.targets.placement import placements


def judge(system: System, applied: Applied, ec2: Any, module: str,
          folder: str = Target.AWS.value) -> Report:
    """Every server address judged by sets, read back from what Terraform built (`system`: the
    system as the module sees it). The link interfaces carry the module's groups only, but
    moto shows an instance's launch group on them too (its known gap): extra destinations
    count among the system's servers, and the launch group's own egress is the site's."""
    intent = expand(system)
    state = read_state(ec2, applied.landscape.link_interfaces(intent.links),
                       state_labels(applied.state), acls=True)
    report = Report(system.name, folder, module)
    report.classes = judge_sides(aws_sides(state, own_addresses(intent)), intent)
    report.parties = intent.parties
    servers = union(intent.own.values())
    report.findings += findings_of(report.classes, intent.parties,
                                   Outbound(lambda _: servers))
    for problem in state.problems:
        report.add(PROBLEM, problem)
    for drift in applied.drift:
        report.add(PROBLEM, f"re-plan after apply wants a change: {drift}")
    descriptions = [g for g in applied.moto_gaps if not g.startswith(f"{LINK_RESOURCE}.")]
    if descriptions:
        report.add(NOTE, f"re-plan after apply: {len(descriptions)} rule description(s) to set "
                         "again, moto's known gap (it drops descriptions of group-referencing "
                         "rules), not the module's", note=True)
    if len(descriptions) < len(applied.moto_gaps):
        report.add(NOTE, f"re-plan after apply: {len(applied.moto_gaps) - len(descriptions)} "
                         "link interface(s) shown with their instance's launch group too, "
                         "moto's known gap (it merges an instance's groups into every interface "
                         "attached to it), not the module's", note=True)
    return report


def verify_with_terraform(systems: list[System], modules: Path,
                          mirror: Path | None = None) -> list[Report]:
    """Every AWS module of every system, through Terraform into one moto server; each module
    gets a VPC of its own with its servers in it."""
    reports: list[Report] = []
    with tempfile.TemporaryDirectory(prefix="scadafw-terraform-") as tmp, \
            moto_endpoint() as endpoint:
        work = Path(tmp)
        terraform = Terraform.prepare(work, mirror)
        ec2 = ec2_client(endpoint)
        for system in systems:
            for placed in placements(system):
                if placed.target is not Target.AWS:
                    continue
                folder = modules / system.name / placed.folder
                if not (folder / "main.tf").is_file():
                    raise ModuleReadError(f"{folder}: no module here (run `scadafw generate` "
                                          "first?)")
                root = work / system.name / placed.folder
                shutil.copytree(folder, root / "module",
                                ignore=shutil.ignore_patterns(".terraform*", "*.tfstate*"))
                (root / "main.tf").write_text(ROOT_CONFIGURATION, encoding="utf-8")
                landscape = provision_servers(ec2, placed.view)
                applied = apply_root(terraform, root, endpoint, landscape, keep_plan=False)
                reports.append(judge(placed.view, applied, ec2, str(folder), placed.folder))
    return reports
