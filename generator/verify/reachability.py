"""Expected (DOMAIN.md's matrix, through the policy) against actual (a cloud evaluation)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from generator.model import Address, Server, System
from generator.policy import (
    ICMP_ECHO_REQUEST,
    ICMPV6_ECHO_REQUEST,
    Service,
    applicable_services,
    server_allows,
)


@dataclass(frozen=True)
class Traffic:
    """What is sent: a protocol and the destination port, or for ICMP the message type."""

    protocol: str  # tcp | udp | icmp | icmpv6
    port: int

    @classmethod
    def of(cls, service: Service, server_port: int) -> Traffic:
        if service is Service.SERVER_PORT:
            return cls("tcp", server_port)
        if service is Service.ICMP_ECHO:
            return cls("icmp", ICMP_ECHO_REQUEST)
        return cls("icmpv6", ICMPV6_ECHO_REQUEST)

    @property
    def label(self) -> str:
        if self.protocol == "icmp":
            return "ICMP echo request"
        if self.protocol == "icmpv6":
            return "ICMPv6 echo request"
        return f"{self.protocol.upper()} {self.port}"


@dataclass(frozen=True)
class Endpoint:
    """One end of a flow: a server of the system, or a host outside it (no firewall of ours)."""

    name: str
    addresses: tuple[Address, ...]
    server: Server | None = None

    @classmethod
    def of(cls, server: Server) -> Endpoint:
        return cls(server.name, server.addresses, server)


@dataclass(frozen=True)
class Decision:
    allowed: bool
    because: str  # the resource address(es) that allowed it, or why it is denied


@dataclass(frozen=True)
class Check:
    target: str
    source: str
    destination: str
    service: str
    expected: bool
    actual: bool
    because: str

    @property
    def ok(self) -> bool:
        return self.expected == self.actual

    def as_dict(self) -> dict[str, object]:
        return {
            "target": self.target, "source": self.source, "destination": self.destination,
            "service": self.service, "expected": "allow" if self.expected else "deny",
            "actual": "allow" if self.actual else "deny", "ok": self.ok, "because": self.because,
        }


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


Evaluator = Callable[[Server, Server, Service], Decision]


def compare(system: System, target: str, decide: Evaluator,
            expected_rule: Callable[[Server, Server, Service], str]) -> list[Check]:
    """One Check per ordered pair of distinct servers and applicable service."""
    checks: list[Check] = []
    for src in system.servers:
        for dst in system.servers:
            if src.name == dst.name:
                continue
            for service in applicable_services(src, dst):
                expected = server_allows(src, dst, service)
                decision = decide(src, dst, service)
                because = decision.because
                if expected and not decision.allowed:
                    because = f"{because}; expected {expected_rule(src, dst, service)}"
                checks.append(Check(target, src.name, dst.name, service.label(system.port),
                                    expected, decision.allowed, because))
    return checks
