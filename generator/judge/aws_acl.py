"""AWS network ACLs as gates: stateless, per subnet, in rule-number order.

Semantics (AWS VPC user guide, "Control subnet traffic with network access control lists"):
- an ACL holds numbered inbound and outbound entries; the lowest number that matches decides,
  and the `*` entry (32767) denies what no entry matched;
- it is stateless: a request that crosses it inbound needs its reply to cross outbound, on the
  requester's source port (the ephemeral ports), and the other way round;
- it filters only what enters or leaves the subnet: traffic between addresses of one subnet
  never meets it;
- entries match protocol (-1 all), a port range (TCP, UDP) or an ICMP type and code, and an
  IPv4 or IPv6 CIDR.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from generator.judge.addresses import AddressSet
from generator.judge.gates import FirstMatch, Gate, Stateless
from generator.judge.rules import Action, Rule, protocols


@dataclass
class Acl:
    """One network ACL: its entries as DescribeNetworkAcls gives them, and the CIDR blocks of
    the subnet it stands on (traffic inside them never crosses it)."""

    acl_id: str
    entries: list[dict[str, Any]]
    subnet_cidrs: AddressSet = field(default_factory=AddressSet)
    label: str = ""  # a Terraform address, where the caller knows it


def _protocol(value: object) -> str:
    text = str(value).strip().lower()
    return {"1": "icmp", "6": "tcp", "17": "udp", "58": "icmpv6", "all": "-1"}.get(text, text)


def _entry(acl: Acl, entry: dict[str, Any]) -> Rule:
    protocol = _protocol(entry.get("Protocol", "-1"))
    ports: tuple[tuple[int, int], ...] | None = None
    if protocol in ("tcp", "udp") and entry.get("PortRange"):
        span = entry["PortRange"]
        ports = ((int(span.get("From", 0)), int(span.get("To", 65535))),)
    elif protocol in ("icmp", "icmpv6") and entry.get("IcmpTypeCode"):
        kind = entry["IcmpTypeCode"]
        code, icmp_type = int(kind.get("Code", -1)), int(kind.get("Type", -1))
        ports = () if code not in (-1, 0) else (None if icmp_type == -1
                                               else ((icmp_type, icmp_type),))
    cidr = entry.get("CidrBlock") or entry.get("Ipv6CidrBlock")
    number = int(entry.get("RuleNumber", 32767))
    action = Action.ALLOW if str(entry.get("RuleAction", "")).lower() == "allow" else Action.DENY
    where = "inbound" if not entry.get("Egress") else "outbound"
    shown = "*" if number == 32767 else str(number)
    name = acl.label or f"network ACL {acl.acl_id}"
    label = entry.get("Label") or f"{name} {where} rule {shown}"  # a plan's resource address
    return Rule(f"{label} ({action.value.lower()})", action,
                protocols(protocol), ports if protocol != "-1" else None,
                AddressSet.of(str(cidr)) if cidr else AddressSet())


def _direction(acl: Acl, egress: bool) -> FirstMatch:
    entries = sorted((e for e in acl.entries if bool(e.get("Egress")) is egress),
                     key=lambda e: int(e.get("RuleNumber", 32767)))
    name = acl.label or f"network ACL {acl.acl_id}"
    where = "outbound" if egress else "inbound"
    return FirstMatch(f"{name} {where}", [_entry(acl, e) for e in entries], False,
                      f"{name} {where}: no rule matches (denied)")


def acl_gate(state: Any, subnet: str, inbound: bool) -> Gate | None:
    """The gate a subnet's ACL puts on one side of a link in it: inbound, the request comes
    in and its reply goes out; outbound, the other way round."""
    acl = state.acls.get(subnet) if subnet else None
    if not isinstance(acl, Acl):
        return None
    forward, back = _direction(acl, egress=not inbound), _direction(acl, egress=inbound)
    return Stateless(acl.label or acl.acl_id, forward, back, acl.subnet_cidrs)
