"""`scadafw review PLAN.json TOPOLOGY...`: a Terraform plan judged in Geo SCADA terms."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from generator.commands.arguments import add_topologies
from generator.fleet import load_systems


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "review",
        help="judge a terraform plan: forbidden flows it opens, needed flows it lacks",
        description="Read a JSON plan (terraform show -json plan.out > plan.json) and, for each "
        "TOPOLOGY's system, compute every server's flows after the plan from every "
        "firewall-bearing resource in the root and child modules (references unknown until "
        "apply followed through the plan's configuration). Reports forbidden flows the plan "
        "opens (with the resource that opens them), needed flows it lacks, flows added and "
        "removed against the prior state, replacements of groups, rules and attachments "
        "(outage risks), and what could not be decided. Exit 0 clean, 1 a finding, 2 not a "
        "plan or bad input.",
    )
    p.add_argument("plan", metavar="PLAN.json", type=Path, help="terraform show -json output")
    add_topologies(p)
    p.add_argument("--allow-undecided", action="store_true",
                   help="report what the plan does not let scadafw follow as notes, not "
                   "findings (by default they fail: the review fails closed)")
    p.add_argument("--require-all", action="store_true",
                   help="a server address that no interface in the plan holds is a finding "
                   "(by default a note: a plan may manage part of a system)")
    p.add_argument("--format", choices=("text", "json", "markdown"), default="text",
                   help="text for people, json for pipelines, markdown for a pull-request "
                   "comment (default: text)")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from generator.checks.review import (  # noqa: PLC0415
        as_json,
        as_markdown,
        as_text,
        review_plan,
    )
    from generator.sources.plan import load_plan  # noqa: PLC0415

    systems = load_systems(args.topologies)
    plan = load_plan(args.plan)
    reviews = [r for system in systems
               for r in review_plan(plan, system, args.allow_undecided, args.require_all)]
    render = {"text": as_text, "json": as_json, "markdown": as_markdown}[args.format]
    sys.stdout.write(render(reviews))
    return 1 if any(r.findings for r in reviews) else 0
