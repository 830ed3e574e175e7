"""Run every evaluation a system's topology asks for and shape the result for people and CI."""

from __future__ import annotations

import json

from generator.intent.flows import End, Flow
from generator.model import Server
from generator.policy import Service
from generator.targets.aws import AwsRule
from generator.targets.azure import NsgRule, allow_priority
from generator.verify.reachability import TargetReport


def _flow(src: Server, dst: Server, service: str) -> Flow:
    return Flow(End.of(src.group), End.of(dst.group), service, "", ((0, 0),), ())


def expected_aws(src: Server, dst: Server, service: Service) -> str:
    flow = _flow(src, dst, service.value)
    rules = [AwsRule(d, flow, "", 0, 0, "") for d in ("egress", "ingress")]
    return " and ".join(r.address for r in rules)


def expected_azure(src: Server, dst: Server, service: Service) -> str:
    key = "icmp" if service is Service.ICMPV6_ECHO else service.value
    flow = _flow(src, dst, key)
    rules = [NsgRule(src.group, "Outbound", "Allow", key, allow_priority(flow), "", dst.group),
             NsgRule(dst.group, "Inbound", "Allow", key, allow_priority(flow), "", src.group)]
    return " and ".join(f"azurerm_network_security_rule.{r.name}" for r in rules)


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


def as_markdown(reports: list[TargetReport]) -> str:
    """For a ticket or a pull request: what is wrong, then what was checked."""
    lines: list[str] = []
    for r in reports:
        verdict = "exact" if r.ok else (f"{len(r.mismatches)} mismatch(es), "
                                        f"{len(r.problems)} problem(s)")
        lines += [f"### {r.system} / {r.target}", "", f"`{r.module}`: {len(r.checks)} checks, "
                  f"{verdict}", ""]
        if r.mismatches:
            lines += ["| from | to | service | expected | actual | because |",
                      "|---|---|---|---|---|---|"]
            for c in r.mismatches:
                cells = [c.source, c.destination, c.service, "allow" if c.expected else "deny",
                         "allow" if c.actual else "deny", c.because]
                lines.append("| " + " | ".join(x.replace("|", "\\|") for x in cells) + " |")
            lines.append("")
        lines += [f"- problem: {p}" for p in r.problems]
        lines += [f"- note: {n}" for n in r.notes]
        lines.append("")
    return "\n".join(lines).rstrip("\n") + "\n"


def emit(reports: list[TargetReport], fmt: str, what: str) -> int:
    """Print the reports in `fmt` (stdout) and a one-line verdict (stderr); the exit code."""
    import sys  # noqa: PLC0415

    printers = {"json": lambda r: as_json(r) + "\n", "markdown": as_markdown, "table": as_table}
    sys.stdout.write(printers[fmt](reports))
    failed = [r for r in reports if not r.ok]
    if failed:
        names = ", ".join(f"{r.system}/{r.target}" for r in failed)
        print(f"scadafw {what}: {names}", file=sys.stderr)
        return 1
    return 0
