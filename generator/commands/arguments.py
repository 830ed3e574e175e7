"""Arguments several commands share, spelled and explained once."""

from __future__ import annotations

import argparse
from pathlib import Path


def add_topologies(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("topologies", nargs="+", metavar="TOPOLOGY", type=Path,
                        help="topology file (YAML, version 1 or 2), or a folder: every "
                        "*.yaml and *.yml file in it")


def add_modules_dir(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--modules", type=Path, default=Path("modules"), metavar="DIR",
                        help="folder holding <system>/<target>/ modules (default: modules)")
