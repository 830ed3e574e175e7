"""`audit`: what a live account applies now, judged by sets as verify judges a module.

Each server address is found by its interface (AWS) or NIC (Azure) and judged on its own: a
group missing from a backup link's interface is a missing flow on that link. What applies is
read back whole, whoever wrote it: every group on the interface and every other interface that
carries a group a rule references, the subnet's network ACL; the virtual network's effective
security admin rules (Virtual Network Manager), the NIC's and the subnet's NSG and every NIC in
an ASG a rule names. Route tables and firewall appliances are named as not evaluated.
scadafw's own groups and NSGs are also compared with what `generate` writes
(generator/checks/drift.py).

Outbound, an extra destination is a latent opening: the account's egress allows it (an
instance's launch group keeps AWS's default allow-all egress) while the destination refuses it,
so the firewall rests on one side. Towards the system's servers it is a note, and with
`--strict` every extra destination is a finding.
"""

from __future__ import annotations

from typing import Any

from generator.checks.drift import aws_drift, azure_drift
from generator.checks.judgement import Outbound, findings_of
from generator.checks.report import DRIFT, NOT_FOUND, NOTE, PROBLEM, UNDECIDED, Report
from generator.checks.verify import judge, named_addresses, own_addresses
from generator.intent.links import LinkIntent, expand
from generator.judge.addresses import AddressSet, union
from generator.judge.aws import aws_sides
from generator.judge.azure import azure_sides
from generator.model import System, Target
from generator.sources.aws_live import find_links, read_account
from generator.sources.azure_live import AzureReader, read_live
from generator.targets.placement import placements


def latent(view: System, intent: LinkIntent, strict: bool) -> Outbound:
    servers = union([*intent.own.values(), *(AddressSet.of(*p.addresses)
                                             for p in view.partners)])
    if strict:
        return Outbound(lambda _: AddressSet.everything())
    return Outbound(lambda _: AddressSet(), lambda _: servers)


NOT_READ = {
    "aws": "not evaluated, though they can decide a packet: route tables, AWS Network Firewall "
           "and Gateway Load Balancer endpoints",
    "azure": "not evaluated, though they can decide a packet: route tables (user-defined "
             "routes), Azure Firewall and network virtual appliances",
}


def _unaddressed(view: System, report: Report) -> None:
    for server in view.servers:
        if not server.addresses:
            report.add(NOT_FOUND, f"{server.name}: no address in the topology, so its "
                                  "interfaces cannot be found")


def audit_aws(systems: list[System], ec2: Any, vpc_id: str | None,
              strict: bool = False) -> list[Report]:
    reports = []
    for system in systems:
        for placed in placements(system):
            if placed.target is not Target.AWS:
                continue
            view = placed.view
            report = Report(system.name, f"{placed.folder} (live)", "AWS account")
            intent = expand(view)
            _unaddressed(view, report)
            located, missing = find_links(ec2, [k for _, k in intent.links], vpc_id)
            for text in missing:
                report.add(NOT_FOUND, text)
            state = read_account(ec2, located)
            report.classes = judge(aws_sides(state, own_addresses(intent)), intent)
            report.parties = intent.parties
            report.findings += findings_of(report.classes, intent.parties,
                                           latent(view, intent, strict))
            for text in state.problems:
                report.add(PROBLEM, text)
            for text in aws_drift(view, state):
                report.add(DRIFT, text)
            report.add(NOTE, NOT_READ["aws"], note=True)
            reports.append(report)
    return reports


def audit_azure(systems: list[System], reader: AzureReader,
                strict: bool = False) -> list[Report]:
    reports = []
    for system in systems:
        for placed in placements(system):
            if placed.target is not Target.AZURE:
                continue
            view = placed.view
            report = Report(system.name, f"{placed.folder} (live)",
                            f"Azure resource group {reader.group}")
            intent = expand(view)
            _unaddressed(view, report)
            live = read_live(reader, [k for _, k in intent.links])
            for text in live.problems:
                report.add(NOT_FOUND, text)
            found = [(k, own) for k, own in own_addresses(intent) if str(k) in live.link_nic]
            sides, undecided = azure_sides(live.state, found, named_addresses(intent))
            report.classes = judge(sides, intent)
            report.parties = intent.parties
            report.findings += findings_of(report.classes, intent.parties,
                                           latent(view, intent, strict))
            for text in undecided:
                report.add(UNDECIDED, text)
            for text in azure_drift(view, live):
                report.add(DRIFT, text)
            report.add(NOTE, NOT_READ["azure"], note=True)
            reports.append(report)
    return reports
