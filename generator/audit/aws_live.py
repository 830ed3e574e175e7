"""What a live AWS account allows now, read-only: the servers' interfaces found by their
addresses, every security group on them read back, judged with the evaluator `verify` uses,
and scadafw's own groups compared with what `generate` writes.

Calls (all read-only): ec2:DescribeNetworkInterfaces, ec2:DescribeSecurityGroups,
ec2:DescribeSecurityGroupRules, ec2:GetManagedPrefixListEntries. Throttling is retried by
botocore's standard mode, a bounded number of times.
"""

from __future__ import annotations

import ipaddress
from dataclasses import replace
from functools import partial
from typing import Any

from generator.errors import ScadafwError
from generator.model import System, Target
from generator.placement import placements
from generator.policy import Service
from generator.targets.aws import aws_rules
from generator.targets.aws_peers import aws_peer_rules
from generator.verify.aws_effective import (
    AwsState,
    allowing_rules,
    decide_aws,
    normalize_protocol,
    read_effective,
)
from generator.verify.aws_effective import decide_traffic as aws_traffic
from generator.verify.peer_checks import peer_checks
from generator.verify.reachability import Endpoint, TargetReport, Traffic, compare
from generator.verify.report import expected_aws

MAX_ATTEMPTS = 5  # botocore standard retry mode: throttling and transient errors
_DENIED = ("UnauthorizedOperation", "AccessDenied", "AccessDeniedException", "AuthFailure")


class AuditError(ScadafwError):
    """The account cannot be read: credentials, permissions, region, endpoint."""


def ec2_client(region: str | None, profile: str | None) -> Any:
    import boto3  # noqa: PLC0415
    from botocore.config import Config  # noqa: PLC0415
    from botocore.exceptions import BotoCoreError  # noqa: PLC0415

    try:
        session = boto3.Session(profile_name=profile, region_name=region)
        return session.client("ec2", config=Config(
            retries={"max_attempts": MAX_ATTEMPTS, "mode": "standard"},
            connect_timeout=5, read_timeout=30))
    except BotoCoreError as exc:
        raise AuditError(f"AWS: {exc}") from exc


def _calls(ec2: Any, action: Any) -> Any:
    """Run `action`, turning botocore's failures into one clear line."""
    from botocore.exceptions import (  # noqa: PLC0415
        BotoCoreError,
        ClientError,
        EndpointConnectionError,
        NoCredentialsError,
        NoRegionError,
    )

    try:
        return action()
    except NoCredentialsError as exc:
        raise AuditError("AWS: no credentials found (environment, shared config, SSO or "
                         "instance role); set AWS_PROFILE or pass --profile") from exc
    except NoRegionError as exc:
        raise AuditError("AWS: no region: pass --region or set AWS_REGION") from exc
    except EndpointConnectionError as exc:
        where = exc.kwargs.get("endpoint_url", "the EC2 endpoint")
        raise AuditError(f"AWS: cannot reach {where}: check --region and the network") from exc
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "")
        operation = exc.operation_name
        if code in _DENIED:
            raise AuditError(f"AWS: access denied to ec2:{operation}; the audit needs the "
                             "read-only policy in the README") from exc
        raise AuditError(f"AWS: ec2:{operation} failed: {code}: "
                         f"{exc.response.get('Error', {}).get('Message', '')}") from exc
    except BotoCoreError as exc:
        raise AuditError(f"AWS: {exc}") from exc


def find_interfaces(ec2: Any, view: System, vpc_id: str | None) -> tuple[dict[str, list[str]],
                                                                         list[str]]:
    """Server name -> the interfaces holding its IPv4 addresses, and what was not found."""
    addresses = {str(a): s.name for s in view.servers for a in s.addresses
                 if isinstance(a, ipaddress.IPv4Address)}
    problems = [f"{s.name}: no IPv4 address in the topology, so its interfaces cannot be "
                "found" for s in view.servers if not any(a.version == 4 for a in s.addresses)]
    found: dict[str, dict[str, str]] = {}  # address -> ENI -> VPC
    if addresses:
        filters = [{"Name": "addresses.private-ip-address", "Values": sorted(addresses)}]
        if vpc_id:
            filters.append({"Name": "vpc-id", "Values": [vpc_id]})
        paginator = ec2.get_paginator("describe_network_interfaces")
        pages = _calls(ec2, lambda: list(paginator.paginate(Filters=filters)))
        for page in pages:
            for eni in page.get("NetworkInterfaces", []):
                for item in eni.get("PrivateIpAddresses", []):
                    if item["PrivateIpAddress"] in addresses:
                        found.setdefault(item["PrivateIpAddress"], {})[
                            eni["NetworkInterfaceId"]] = eni.get("VpcId", "")
    interfaces: dict[str, list[str]] = {}
    for address, server in sorted(addresses.items()):
        enis = found.get(address, {})
        if not enis:
            problems.append(f"{server}: no network interface has its address {address}")
        elif len(set(enis.values())) > 1:
            problems.append(f"{server}: address {address} is on interfaces in several VPCs "
                            f"({', '.join(sorted(set(enis.values())))}): pass --vpc-id")
        else:
            interfaces.setdefault(server, []).extend(sorted(enis))
    return interfaces, problems


def _generated(view: System) -> set[tuple[str, ...]]:
    """The rules `generate` writes, as (group, direction, protocol, from, to, peer)."""
    wanted: set[tuple[str, ...]] = {
        (r.group.value, r.direction, r.protocol, str(r.from_port), str(r.to_port),
         f"group:{r.peer.value}") for r in aws_rules(view)}
    wanted |= {(r.group.value, r.direction, r.flow.protocol, str(r.from_port), str(r.to_port),
                str(r.network)) for r in aws_peer_rules(view)}
    return wanted


def generated_drift(view: System, state: AwsState) -> list[str]:
    """Rules on scadafw's groups of this system that differ from what generate writes."""
    roles = {gid: state.group_roles.get(gid, "") for gid in state.rules_of}
    ours = {gid for gid, role in roles.items() if role}
    if not ours:
        return [f"no security group tagged scadafw:system={view.name} is on its servers"]
    live: dict[tuple[str, ...], str] = {}
    for gid in ours:
        for rule in state.rules_of[gid]:
            ref = rule.get("ReferencedGroupInfo", {}).get("GroupId")
            peer = (f"group:{roles.get(ref) or ref}" if ref else
                    str(rule.get("CidrIpv4") or rule.get("CidrIpv6") or rule.get("PrefixListId")))
            key = (roles[gid], "egress" if rule.get("IsEgress") else "ingress",
                   normalize_protocol(rule.get("IpProtocol")), str(rule.get("FromPort")),
                   str(rule.get("ToPort")), peer)
            live[key] = state.rule_label(rule)
    wanted = _generated(view)
    drift = [f"not generated by scadafw: {live[k]} ({k[1]} {k[2]} {k[3]}-{k[4]} {k[5]})"
             for k in sorted(live.keys() - wanted)]
    drift += [f"generated but missing: {k[0]} {k[1]} {k[2]} {k[3]}-{k[4]} {k[5]}"
              for k in sorted(wanted - live.keys()) if k[0] in set(roles.values())]
    return drift


def audit_aws(systems: list[System], ec2: Any, vpc_id: str | None) -> list[TargetReport]:
    reports = []
    for system in systems:
        for placed in placements(system):
            if placed.target is not Target.AWS:
                continue
            view = placed.view
            report = TargetReport(system.name, f"{placed.folder} (live)", "AWS account")
            interfaces, report.problems = find_interfaces(ec2, view, vpc_id)
            state = _calls(ec2, lambda v=view, i=interfaces: read_effective(ec2, v, i))
            _calls(ec2, lambda s=state, n=system.name: tag_roles(ec2, s, n))
            found = [s for s in view.servers if s.name in interfaces]
            judged = replace(view, servers=tuple(found))
            report.checks = compare(judged, report.target, partial(decide_aws, state, view.port),
                                    expected_aws)
            if view.version == 2:
                report.checks += peer_checks(judged, report.target, partial(aws_traffic, state),
                                             strict_outbound=False, dmz_outbound_denied=False)
            report.problems += generated_drift(view, state)
            report.problems += latent_openings(judged, state)
            reports.append(report)
    return reports


def latent_openings(view: System, state: AwsState) -> list[str]:
    """Rules of groups that are not scadafw's which let a forbidden flow through their side
    (into the destination, or out of the source): today the other side refuses it, but the
    firewall then rests on that side alone."""
    found: list[str] = []
    for check in compare(view, "", partial(decide_aws, state, view.port), lambda *_: ""):
        if check.expected or check.actual:
            continue
        src = Endpoint.of(view.server(check.source))
        dst = Endpoint.of(view.server(check.destination))
        traffic = next(Traffic.of(s, view.port) for s in Service
                       if s.label(view.port) == check.service)
        sides = [(dst, src, False, "admits it into"), (src, dst, True, "lets it out of")]
        for server, peer, egress, verb in sides:
            for label in allowing_rules(state, server, peer, traffic, egress):
                if not _scadafw_label(state, label):
                    found.append(f"{check.source} -> {check.destination} {check.service} is "
                                 f"forbidden but {label} {verb} {server.name}; only the other "
                                 "side refuses it")
    return sorted(set(found))


def _scadafw_label(state: AwsState, label: str) -> bool:
    """Whether a rule label names a rule of one of scadafw's groups (tagged)."""
    return any(gid in label for gid, role in state.group_roles.items() if role)


def tag_roles(ec2: Any, state: AwsState, system: str) -> None:
    """Which groups on the servers are scadafw's for `system`, and for which role group."""
    if not state.rules_of:
        return
    groups = ec2.describe_security_groups(GroupIds=sorted(state.rules_of))["SecurityGroups"]
    for group in groups:
        tags = {t["Key"]: t["Value"] for t in group.get("Tags", [])}
        if tags.get("scadafw:system") == system:
            state.group_roles[group["GroupId"]] = tags.get("scadafw:role-group", "")
