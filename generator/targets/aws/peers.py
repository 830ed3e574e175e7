"""AWS rules for the peers of topology version 2: one rule resource per role group, peer,
service, network and port range, with a CIDR instead of a referenced group.

Names depend only on what the rule is (its group, direction, peer, service, network and port),
so adding or reordering sources, clients or ports never renames another rule.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from generator.intent.flows import Flow, peer_flows
from generator.model import Network, RoleGroup, System
from generator.targets.aws.names import SERVER_PORT_SERVICES, port_suffix


@dataclass(frozen=True)
class AwsPeerRule:
    flow: Flow
    network: Network
    from_port: int
    to_port: int

    @property
    def group(self) -> RoleGroup:
        return self.flow.group

    @property
    def direction(self) -> str:
        return "ingress" if self.flow.inbound else "egress"

    @property
    def resource_type(self) -> str:
        return f"aws_vpc_security_group_{self.direction}_rule"

    @property
    def cidr_key(self) -> str:
        return "cidr_ipv4" if self.network.version == 4 else "cidr_ipv6"

    @property
    def on_server_port(self) -> bool:
        return self.flow.service in SERVER_PORT_SERVICES

    @property
    def name(self) -> str:
        """What the rule is; a server-port rule carries its port (names.py)."""
        if self.on_server_port:
            return self.plain_name + port_suffix(self.from_port)
        if len(self.flow.ports) == 1 or self.flow.is_icmp:
            return self.plain_name
        return f"{self.plain_name}_{self.from_port}"

    @property
    def plain_name(self) -> str:
        link = "from" if self.flow.inbound else "to"
        peer = re.sub(r"[^a-z0-9]+", "_", f"{self.flow.kind}_{self.flow.peer}")
        if self.flow.kind == "monitor":
            peer = "icmp_monitor"
        where = re.sub(r"[^0-9a-f]+", "_", str(self.network).lower()).strip("_")
        return f"{self.group.value}_{link}_{peer}_{self.flow.service}_{where}"

    @property
    def description(self) -> str:
        """A server-port rule names its own port (two during a migration); others, the
        flow's ports."""
        if self.on_server_port:
            return self.flow.on((self.from_port, self.to_port)).description()
        return self.flow.description()

    @property
    def address(self) -> str:
        return f"{self.resource_type}.{self.name}"


@lru_cache(maxsize=256)
def aws_peer_rules(system: System) -> tuple[AwsPeerRule, ...]:
    rules = []
    for flow in peer_flows(system):
        for network in flow.networks:
            for low, high in flow.ports:
                if flow.is_icmp:  # from_port is the ICMP type, to_port the code (-1: any)
                    rules.append(AwsPeerRule(flow, network, low, -1))
                else:
                    rules.append(AwsPeerRule(flow, network, low, high))
    return tuple(sorted(rules, key=lambda r: (r.group.index, r.direction != "ingress", r.name)))
