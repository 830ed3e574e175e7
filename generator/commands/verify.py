"""`scadafw verify TOPOLOGY... [--modules DIR]`: prove the emitted modules' directionality."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from generator.commands.arguments import add_modules_dir, add_topologies
from generator.fleet import load_systems


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "verify",
        help="prove that the emitted modules allow exactly the Geo SCADA flows",
        description="Read the emitted .tf files of each TOPOLOGY's system with python-hcl2, build "
        "them in moto (AWS) and in an NSG evaluator with Azure's semantics (Azure), and compare "
        "every ordered server pair and service with the flow matrix. Exit 0 when exact, 1 on "
        "any mismatch, 2 on bad input.",
    )
    add_topologies(p)
    add_modules_dir(p)
    p.add_argument("--format", choices=("table", "json"), default="table",
                   help="table for people, json for pipelines (default: table)")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    # moto, boto3, azure-mgmt-network and python-hcl2 load only for this command (~0.4 s)
    from generator.verify.report import as_json, as_table, verify_systems  # noqa: PLC0415

    reports = verify_systems(load_systems(args.topologies), args.modules)
    sys.stdout.write(as_json(reports) + "\n" if args.format == "json" else as_table(reports))
    failed = [r for r in reports if not r.ok]
    if failed:
        names = ", ".join(f"{r.system}/{r.target}" for r in failed)
        print(f"scadafw verify: {names} do not match the flow matrix", file=sys.stderr)
        return 1
    return 0
