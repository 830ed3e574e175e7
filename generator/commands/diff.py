"""`scadafw diff OLD NEW`: what a topology change does to flows and Terraform resources."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from generator.fleet import load_systems


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "diff",
        help="show flows and Terraform resources a topology change adds, removes or changes",
        description="Compare two topology files: flows added and removed, and per cloud the "
        "Terraform resources added, removed and changed (by address, with the changed "
        "attributes), and the host firewall scripts' rules as `windows_firewall_rule.<name>`. "
        "Exit 0 when nothing changes, 1 when something does. The markdown "
        "output is fit to paste as a pull-request comment.",
    )
    p.add_argument("old", metavar="OLD", type=Path, help="topology before the change")
    p.add_argument("new", metavar="NEW", type=Path, help="topology after the change")
    p.add_argument("--format", choices=("text", "json", "markdown"), default="text",
                   help="output format (default: text)")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    # python-hcl2 (which reads the rendered resources back) loads only for this command
    from generator.checks.diff import (  # noqa: PLC0415
        as_json,
        as_markdown,
        as_text,
        diff_topologies,
    )

    (old,) = load_systems([args.old])
    (new,) = load_systems([args.new])
    result = diff_topologies(old, new)
    render = {"text": as_text, "json": as_json, "markdown": as_markdown}[args.format]
    sys.stdout.write(render(result))
    return 0 if result.empty else 1
