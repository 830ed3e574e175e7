"""`scadafw flows TOPOLOGY`: the intended flows, for reviewers and on-premises firewall teams."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from generator.fleet import load_systems
from generator.intent.listing import FORMATS, render_flows
from generator.targets.quotas import priorities, usage


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "flows",
        help="list the intended server-to-server flows of a topology",
        description="Print one row per source server, destination server, protocol and port, "
        "with its Geo SCADA purpose. csv and markdown suit an on-premises firewall team; "
        "mermaid and dot draw the flows; json adds the cloud quota headroom; ports is the "
        "ports-and-services baseline as CSV (server,protocol,port,sources,purpose: each port "
        "a server listens on, the exact sources allowed, and why), the evidence NERC "
        "CIP-007-6 R1.1 and IEC 62443-3-3 SR 7.7 audits ask for.",
    )
    p.add_argument("topology", metavar="TOPOLOGY", type=Path, help="topology file (YAML)")
    p.add_argument("--format", choices=FORMATS, default="table",
                   help="output format (default: table)")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    (system,) = load_systems([args.topology])
    extra: dict[str, object] = {}
    if args.format == "json":
        extra = {"quotas": [u.as_dict() for u in usage(system)],
                 "azure_priorities": priorities(system)}
    sys.stdout.write(render_flows(system, args.format, extra))
    return 0
