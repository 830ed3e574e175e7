"""`scadafw audit TOPOLOGY... --aws`: what is deployed now, judged in Geo SCADA terms."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from generator.commands.arguments import add_topologies
from generator.errors import UsageError
from generator.fleet import load_systems


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "audit",
        help="read a live AWS account (read-only) and judge what is deployed now",
        description="Find each server's network interfaces by its addresses, read every "
        "security group on them (scadafw's and anyone else's), and judge every server pair and "
        "service as verify does; compare scadafw's groups with what generate writes. Reports "
        "missing flows, forbidden flows with the rule responsible, servers not found, and "
        "rules changed by hand. Read-only; uses the standard AWS credential chain (AWS_PROFILE, "
        "--profile, SSO, instance roles) and AWS_ENDPOINT_URL when set. Exit 0 clean, 1 a "
        "finding, 2 bad input or an account that cannot be read.",
    )
    add_topologies(p)
    p.add_argument("--aws", action="store_true", help="audit an AWS account")
    p.add_argument("--azure", action="store_true",
                   help="audit an Azure subscription (not available in this version)")
    p.add_argument("--region", help="AWS region (default: the profile's or AWS_REGION)")
    p.add_argument("--profile", help="AWS named profile")
    p.add_argument("--vpc-id", help="only interfaces in this VPC (when addresses repeat "
                   "across VPCs)")
    p.add_argument("--format", choices=("table", "json"), default="table",
                   help="table for people, json for pipelines (default: table)")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from generator.audit.aws_live import audit_aws, ec2_client  # noqa: PLC0415
    from generator.verify.report import emit  # noqa: PLC0415

    if args.azure:
        raise UsageError("audit --azure is not available in this version; --aws is")
    if not args.aws:
        raise UsageError("say which cloud to audit: --aws")
    systems = load_systems([Path(p) for p in args.topologies])
    reports = audit_aws(systems, ec2_client(args.region, args.profile), args.vpc_id)
    return emit(reports, args.format, "audit: findings in")
