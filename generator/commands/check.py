"""`scadafw check TOPOLOGY... --modules DIR`: fail when modules on disk are not what `generate`
would write (edited by hand, or stale after a topology change), like `terraform fmt -check`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from generator.commands.arguments import add_modules_dir, add_topologies
from generator.fleet import load_and_render


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "check",
        help="exit 1 when the modules on disk differ from what generate would write",
        description="Render each TOPOLOGY in memory and compare with DIR/<system>/<target>/. "
        "Lists every file that is missing, different or extra; exit 0 when all match, 1 when "
        "any differs, 2 on bad input. Writes nothing.",
    )
    add_topologies(p)
    add_modules_dir(p)
    p.set_defaults(run=run)


def stale_files(modules: Path, tree: dict[Path, dict[str, str]]) -> list[tuple[Path, str]]:
    """(path, why) for every file that differs from the rendered tree."""
    found: list[tuple[Path, str]] = []
    for folder, files in sorted(tree.items()):
        on_disk = modules / folder
        for name, text in sorted(files.items()):
            path = on_disk / name
            if not path.is_file():
                found.append((path, "missing"))
            elif path.read_bytes() != text.encode("utf-8"):
                found.append((path, "differs"))
        if on_disk.is_dir():
            found += [(extra, "not generated") for extra in sorted(on_disk.iterdir())
                      if extra.name not in files]
    return found


def run(args: argparse.Namespace) -> int:
    stale = stale_files(args.modules, load_and_render(args.topologies))
    for path, why in stale:
        print(f"{path}: {why}")
    if stale:
        print(f"scadafw check: {len(stale)} file(s) differ from what generate would write; "
              "run `scadafw generate` (or `make generate`)", file=sys.stderr)
        return 1
    return 0
