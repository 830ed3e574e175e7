"""A live AWS account, read-only: each server address's network interface found by the
address, then what applies to it read back (generator/sources/ec2.py): its groups and their
rules, every other interface that carries a group a rule references, and its subnet's network
ACL.

Calls (all read-only): ec2:DescribeNetworkInterfaces, ec2:DescribeSecurityGroups,
ec2:DescribeSecurityGroupRules, ec2:GetManagedPrefixListEntries, ec2:DescribeSubnets,
ec2:DescribeNetworkAcls. Throttling is retried by botocore's standard mode, a bounded number
of times; a failure is one line.
"""

from __future__ import annotations

from typing import Any

from generator.errors import ScadafwError
from generator.judge.aws import AwsState
from generator.judge.sides import Link
from generator.sources.ec2 import interface_addresses, read_state

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


def find_links(ec2: Any, links: list[Link], vpc_id: str | None) -> tuple[dict[Link, str],
                                                                       list[str]]:
    """Each server address -> the interface that holds it, and what was not found. Interfaces
    are found by their private IPv4 addresses; an IPv6 address belongs to the interface of its
    server that holds it."""
    wanted = {str(k.address): k for k in links if k.address.version == 4}
    found: dict[str, dict[str, str]] = {}  # address -> ENI -> VPC
    holds: dict[str, list[str]] = {}  # ENI -> every address it holds
    if wanted:
        filters = [{"Name": "addresses.private-ip-address", "Values": sorted(wanted)}]
        if vpc_id:
            filters.append({"Name": "vpc-id", "Values": [vpc_id]})
        paginator = ec2.get_paginator("describe_network_interfaces")
        pages = _calls(ec2, lambda: list(paginator.paginate(Filters=filters)))
        for page in pages:
            for eni in page.get("NetworkInterfaces", []):
                holds[eni["NetworkInterfaceId"]] = [str(a) for a in interface_addresses(eni)]
                for item in eni.get("PrivateIpAddresses", []):
                    if item["PrivateIpAddress"] in wanted:
                        found.setdefault(item["PrivateIpAddress"], {})[
                            eni["NetworkInterfaceId"]] = eni.get("VpcId", "")
    located: dict[Link, str] = {}
    problems: list[str] = []
    for address, link in sorted(wanted.items()):
        enis = found.get(address, {})
        if not enis:
            problems.append(f"{link.server}: no network interface has its address {address}")
        elif len(set(enis.values())) > 1:
            problems.append(f"{link.server}: address {address} is on interfaces in several "
                            f"VPCs ({', '.join(sorted(set(enis.values())))}): pass --vpc-id")
        else:
            located[link] = sorted(enis)[0]
    for link in links:
        if link.address.version == 6:
            owner = [eni for other, eni in located.items() if other.server == link.server
                     and str(link.address) in holds.get(eni, [])]
            if owner:
                located[link] = owner[0]
            else:
                problems.append(f"{link.server}: no interface of it holds its IPv6 address "
                                f"{link.address}")
    return located, problems


def read_account(ec2: Any, located: dict[Link, str]) -> AwsState:
    """What the account applies to the interfaces found: every group and rule, the other
    members of referenced groups, and the subnets' network ACLs."""
    state: AwsState = _calls(ec2, lambda: read_state(ec2, located, members=True, acls=True))
    return state
