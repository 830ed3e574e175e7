"""`scadafw generate TOPOLOGY... --out DIR`: write DIR/<system>/<target>/ for each topology."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from generator.errors import Problem, TopologyError
from generator.model import System
from generator.quotas import check_quotas
from generator.targets import render_system
from generator.topology import load_topology
from generator.writer import Tree, write_modules


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "generate",
        help="emit the Terraform modules of one or more topologies",
        description="Read each TOPOLOGY file and write DIR/<system>/aws/ and DIR/<system>/azure/ "
        "(the targets the file names). Every file is validated and rendered before anything is "
        "written; on any problem nothing in DIR changes.",
    )
    p.add_argument("topologies", nargs="+", metavar="TOPOLOGY", type=Path,
                   help="topology file (YAML, version 1)")
    p.add_argument("--out", "-o", required=True, type=Path, metavar="DIR",
                   help="folder that receives <system>/<target>/ module folders")
    p.set_defaults(run=run)


def load_systems(paths: list[Path]) -> list[System]:
    """Load every topology, gathering the problems of all files before raising."""
    systems: list[System] = []
    problems: list[Problem] = []
    first_file: dict[str, Path] = {}
    for path in paths:
        try:
            system = load_topology(path)
            check_quotas(system, str(path))
        except TopologyError as exc:
            problems.extend(exc.problems)
            continue
        if system.name in first_file:
            problems.append(Problem(str(path), 1, 1, f"system '{system.name}' is also defined "
                                    f"in {first_file[system.name]}; system names must differ"))
            continue
        first_file[system.name] = path
        systems.append(system)
    if problems:
        raise TopologyError(problems)
    return systems


def render_tree(systems: list[System]) -> Tree:
    tree: Tree = {}
    for system in systems:
        for target, files in render_system(system).items():
            tree[Path(system.name) / target.value] = files
    return tree


def run(args: argparse.Namespace) -> int:
    systems = load_systems(args.topologies)
    folders = write_modules(args.out, render_tree(systems))
    for folder in folders:
        print(f"wrote {folder}/", file=sys.stdout)
    return 0
