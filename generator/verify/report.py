"""Run every evaluation a system's topology asks for and shape the result for people and CI."""

from __future__ import annotations

import json
from contextlib import ExitStack
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from generator.model import Server, System, Target
from generator.policy import Flow, Service
from generator.targets.aws import AwsRule, protocol_and_ports
from generator.targets.azure import NsgRule, allow_priority
from generator.verify.aws_effective import decide_aws
from generator.verify.aws_effective import decide_traffic as aws_traffic
from generator.verify.aws_moto import build_in_moto, moto_sandbox
from generator.verify.azure_nsg import build_nsgs, decide_azure
from generator.verify.azure_nsg import decide_traffic as azure_traffic
from generator.verify.hcl_module import read_module
from generator.verify.peer_checks import peer_checks
from generator.verify.reachability import Check, compare


@dataclass
class TargetReport:
    system: str
    target: str
    module: str
    checks: list[Check] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # worth saying, not a failure

    @property
    def mismatches(self) -> list[Check]:
        return [c for c in self.checks if not c.ok]

    @property
    def ok(self) -> bool:
        return not self.mismatches and not self.problems


def _flow(src: Server, dst: Server, service: Service) -> Flow:
    return Flow(src.group, dst.group, service, ())


def expected_aws(src: Server, dst: Server, service: Service) -> str:
    flow = _flow(src, dst, service)
    protocol, low, high = protocol_and_ports(service, 0)
    rules = [AwsRule(d, flow, protocol, low, high, "") for d in ("egress", "ingress")]
    return " and ".join(r.address for r in rules)


def expected_azure(src: Server, dst: Server, service: Service) -> str:
    flow = _flow(src, dst, Service.ICMP_ECHO if service is Service.ICMPV6_ECHO else service)
    rules = [NsgRule(flow.source, "Outbound", "Allow", flow.service, allow_priority(flow), "",
                     flow.destination),
             NsgRule(flow.destination, "Inbound", "Allow", flow.service, allow_priority(flow),
                     "", flow.source)]
    return " and ".join(f"azurerm_network_security_rule.{r.name}" for r in rules)


def verify_target(system: System, target: Target, modules: Path,
                  ec2: Any | None = None) -> TargetReport:
    """Evaluate one module; `ec2` is a shared moto sandbox (a fresh one when None)."""
    folder = modules / system.name / target.value
    module = read_module(folder)
    report = TargetReport(system.name, target.value, str(folder))
    if target is Target.AWS:
        aws = build_in_moto(system, module, ec2)
        report.problems = aws.problems
        decide = partial(decide_aws, aws, system.port)
        report.checks = compare(system, target.value, decide, expected_aws)
        if system.version == 2:  # the builder gives servers the module's groups only
            report.checks += peer_checks(system, target.value, partial(aws_traffic, aws),
                                         strict_outbound=True, dmz_outbound_denied=True)
    else:
        azure = build_nsgs(module)
        report.problems = azure.problems
        decide = partial(decide_azure, azure, system.port)
        report.checks = compare(system, target.value, decide, expected_azure)
        if system.version == 2:
            report.checks += peer_checks(system, target.value, partial(azure_traffic, azure),
                                         strict_outbound=False, dmz_outbound_denied=True)
    return report


def verify_systems(systems: list[System], modules: Path) -> list[TargetReport]:
    """Every target of every system, sharing one moto sandbox."""
    with ExitStack() as stack:
        ec2 = (stack.enter_context(moto_sandbox())
               if any(Target.AWS in s.targets for s in systems) else None)
        return [verify_target(system, target, modules, ec2)
                for system in systems for target in system.targets]


def as_json(reports: list[TargetReport]) -> str:
    return json.dumps({
        "ok": all(r.ok for r in reports),
        "results": [{
            "system": r.system, "target": r.target, "module": r.module, "ok": r.ok,
            "checks": len(r.checks), "mismatches": len(r.mismatches), "problems": r.problems,
            "notes": r.notes,
            "flows": [c.as_dict() for c in r.checks],
        } for r in reports],
    }, indent=2)


def as_table(reports: list[TargetReport]) -> str:
    lines: list[str] = []
    for r in reports:
        lines.append(f"{r.system} / {r.target}  ({r.module})")
        width = max((len(c.source) + len(c.destination) for c in r.checks), default=0) + 4
        for c in r.checks:
            pair = f"{c.source} -> {c.destination}"
            mark = "ok " if c.ok else "MISMATCH"
            expected = "allow" if c.expected else "deny"
            actual = "allow" if c.actual else "deny"
            lines.append(f"  {mark:8} {pair:{width}} {c.service:20} expected {expected:5} "
                         f"actual {actual:5}  {c.because}")
        for problem in r.problems:
            lines.append(f"  PROBLEM  {problem}")
        for note in r.notes:
            lines.append(f"  note     {note}")
        verdict = "exact" if r.ok else (f"{len(r.mismatches)} mismatch(es), "
                                        f"{len(r.problems)} problem(s)")
        lines.append(f"  {len(r.checks)} checks: {verdict}")
        lines.append("")
    return "\n".join(lines).rstrip("\n") + "\n"
