"""`scadafw generate TOPOLOGY... --out DIR`: write DIR/<system>/<target>/ for each topology."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from generator.commands.arguments import add_topologies
from generator.fleet import generate


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "generate",
        help="emit the modules, policies and scripts of one or more topologies",
        description="Read each TOPOLOGY file and write DIR/<system>/aws/ and DIR/<system>/azure/ "
        "(the targets the file names), or with `networks` one folder per network: a Terraform "
        "module per cloud network, the perimeter policy of each on-premises network (aerleon's "
        "policy and its renderings for the network's `firewalls`), and DIR/<system>/windows/ "
        "for the host firewall scripts (target windows, or `host_firewall: true`). Every file "
        "is validated and rendered before anything is written; on any problem nothing in DIR "
        "changes. A module folder that already holds exactly what it would get is left "
        "untouched and reported as unchanged.",
    )
    add_topologies(p)
    p.add_argument("--out", "-o", required=True, type=Path, metavar="DIR",
                   help="folder that receives <system>/<target>/ module folders")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    for folder, changed in generate(args.topologies, args.out):
        print(f"{'wrote' if changed else 'unchanged'} {folder}/", file=sys.stdout)
    return 0
