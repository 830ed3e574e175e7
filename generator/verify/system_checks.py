"""A system spread over several networks, judged whole: each ordered server pair and service,
with the source's rules from its own network's module (egress, outbound) and the
destination's from its own (ingress, inbound).

A server on premises has no module: its half is outside the proof, taken as passing, and the
report says so for every pair it is in.
"""

from __future__ import annotations

from generator.model import ONPREM, Server, System
from generator.placement import cloud_of
from generator.policy import applicable_services, server_allows
from generator.verify.peer_checks import Decide
from generator.verify.reachability import Check, Decision, Endpoint, TargetReport, Traffic

SYSTEM_TARGET = "whole system"


def _half(deciders: dict[str, Decide], system: System, here: Server, other: Server,
          traffic: Traffic, outbound: bool) -> Decision:
    """One end's half: `here` sending (outbound) or receiving, judged by its own module."""
    if cloud_of(system, here.network) == ONPREM:
        return Decision(True, f"{here.name} on premises: outside the proof")
    decide = deciders[here.network]
    far = Endpoint(other.name, other.addresses)
    if here.network == other.network:  # same module: both ends are its own servers
        return decide(Endpoint.of(here), Endpoint.of(other), traffic) if outbound else \
            Decision(True, "")
    return decide(Endpoint.of(here), far, traffic) if outbound else \
        decide(far, Endpoint.of(here), traffic)


def whole_system(system: System, deciders: dict[str, Decide], where: str) -> TargetReport:
    report = TargetReport(system.name, SYSTEM_TARGET, where)
    outside = sorted({s.name for s in system.servers if cloud_of(system, s.network) == ONPREM})
    for src in system.servers:
        for dst in system.servers:
            if src.name == dst.name:
                continue
            for service in applicable_services(src, dst):
                traffic = Traffic.of(service, system.port)
                out = _half(deciders, system, src, dst, traffic, outbound=True)
                into = _half(deciders, system, dst, src, traffic, outbound=False)
                allowed = out.allowed and into.allowed
                because = (" + ".join(x for x in (out.because, into.because) if x) if allowed
                           else (out.because if not out.allowed else into.because))
                report.checks.append(Check(
                    SYSTEM_TARGET, f"{src.name} ({src.network})", f"{dst.name} ({dst.network})",
                    traffic.label, server_allows(src, dst, service), allowed, because))
    if outside:
        report.notes.append(f"on premises, outside the proof: {', '.join(outside)}; their "
                            "firewall must allow what `scadafw flows` lists for them")
    return report
