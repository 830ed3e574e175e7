"""`scadafw audit TOPOLOGY... --aws | --azure`: what is deployed now, judged in Geo SCADA terms."""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

from generator.commands.arguments import add_topologies
from generator.errors import UsageError
from generator.fleet import load_systems


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "audit",
        help="read a live AWS account or Azure resource group (read-only) and judge what "
        "is deployed now",
        description="Find each server's network interfaces by its addresses, read every "
        "security group (AWS) or NIC and subnet NSG (Azure) that applies to them, scadafw's and "
        "anyone else's, and judge every server pair and service as verify does; compare "
        "scadafw's groups and NSGs with what generate writes. Reports missing flows, forbidden "
        "flows with the rule responsible, servers not found, and rules changed by hand. "
        "Read-only. AWS: the standard credential chain (AWS_PROFILE, --profile, SSO, instance "
        "roles) and AWS_ENDPOINT_URL when set. Azure: DefaultAzureCredential (environment, "
        "managed identity, Azure CLI). Exit 0 clean, 1 a finding, 2 bad input or an account "
        "that cannot be read.",
    )
    add_topologies(p)
    p.add_argument("--aws", action="store_true", help="audit an AWS account")
    p.add_argument("--azure", action="store_true", help="audit an Azure resource group")
    aws = p.add_argument_group("AWS")
    aws.add_argument("--region", help="AWS region (default: the profile's or AWS_REGION)")
    aws.add_argument("--profile", help="AWS named profile")
    aws.add_argument("--vpc-id", help="only interfaces in this VPC (when addresses repeat "
                     "across VPCs)")
    azure = p.add_argument_group("Azure")
    azure.add_argument("--subscription", default=os.environ.get("AZURE_SUBSCRIPTION_ID"),
                       help="subscription ID (default: AZURE_SUBSCRIPTION_ID)")
    azure.add_argument("--resource-group", help="the resource group of the servers' NICs")
    azure.add_argument("--arm-endpoint", help="Azure Resource Manager endpoint for sovereign "
                       "clouds (default: SCADAFW_ARM_ENDPOINT, else https://management.azure.com)")
    p.add_argument("--strict", action="store_true",
                   help="count every destination a server's egress allows beyond the flows as a "
                   "finding (by default one towards a server that refuses it is a latent note, "
                   "and other egress is the site's own)")
    p.add_argument("--format", choices=("table", "json", "markdown"), default="table",
                   help="table for people, json for pipelines, markdown for a ticket "
                   "(default: table)")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from generator.checks.report import emit  # noqa: PLC0415

    if args.aws == args.azure:
        raise UsageError("say which cloud to audit: --aws or --azure (one per run)")
    if args.azure and not (args.subscription and args.resource_group):
        raise UsageError("audit --azure needs --subscription (or AZURE_SUBSCRIPTION_ID) and "
                         "--resource-group")
    systems = load_systems([Path(p) for p in args.topologies])
    if args.aws:
        from generator.checks.audit import audit_aws  # noqa: PLC0415
        from generator.sources.aws_live import ec2_client  # noqa: PLC0415

        reports = audit_aws(systems, ec2_client(args.region, args.profile), args.vpc_id,
                            args.strict)
    else:
        from generator.checks.audit import audit_azure  # noqa: PLC0415
        from generator.sources.azure_live import (  # noqa: PLC0415
            AzureReader,
            arm_endpoint,
            network_client,
        )

        client = network_client(args.subscription, arm_endpoint(args.arm_endpoint))
        reports = audit_azure(systems, AzureReader(client, args.subscription,
                                                   args.resource_group), args.strict)
    return emit(reports, args.format, "audit: findings in")
