"""`scadafw check TOPOLOGY... --modules DIR`: fail when modules on disk are not what `generate`
would write (edited by hand, or stale after a topology or scadafw change), like
`terraform fmt -check`."""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path
from typing import Any

from generator.commands.arguments import add_modules_dir, add_topologies
from generator.fleet import load_and_render
from generator.provenance import body, provenance
from generator.writer import Tree, is_generated

# Terraform's own files in a module folder after `terraform init` (never the module's)
TERRAFORM_FILES = re.compile(r"^(\.terraform\.lock\.hcl|terraform\.tfstate(\.backup)?|"
                             r".*\.tfplan|crash\.log)$")
# blocks a file of the user's may add to a generated module folder without changing its rules
_HISTORY_BLOCK = re.compile(r"^\s*(moved|import|removed)\s*\{", re.MULTILINE)
_ANY_BLOCK = re.compile(r"^\s*[a-z_]+\s*(\"[^\"]*\"\s*)*\{", re.MULTILINE)


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "check",
        help="exit 1 when the modules on disk differ from what generate would write",
        description="Render each TOPOLOGY in memory and compare with DIR/<system>/<module>/. "
        "Lists every file that is missing, edited by hand, stale (written by scadafw from an "
        "older topology or by another scadafw version: regenerate) or not generated, and "
        "module folders no topology given produces any more. Ignores the topology's file name "
        "in headers (a renamed topology is no change), Terraform's own files (.terraform/, "
        ".terraform.lock.hcl, state) and files of yours holding only moved, import or removed "
        "blocks. Give every topology (or their folder) so stale folders can be told. Exit 0 "
        "when all match, 1 when any differs, 2 on bad input. Writes nothing.",
    )
    add_topologies(p)
    add_modules_dir(p)
    p.set_defaults(run=run)


def _why(path: Path, text: str) -> str | None:
    """Why an existing file differs from `text` (what generate writes), or None if it does
    not (the headers may name another topology file)."""
    on_disk = path.read_text(encoding="utf-8", errors="replace")
    if on_disk == text or (body(on_disk) == body(text) and provenance(on_disk)):
        return None
    found = provenance(on_disk)
    if found is None:
        return "not written by scadafw (no header); generate will replace it"
    if found.intact:
        return (f"stale: written by scadafw from {found.source}, but generate now writes "
                "something else (the topology or the scadafw version changed); regenerate")
    return "edited by hand (it no longer matches the seal in its header); regenerate"


def _extra(entry: Path) -> str | None:
    """Why an entry generate does not write is a problem in a module folder, or None."""
    if entry.is_dir() or TERRAFORM_FILES.match(entry.name):
        return None
    text = entry.read_text(encoding="utf-8", errors="replace")
    if provenance(text) is not None:
        return "stale: written by scadafw, which no longer writes it; regenerate"
    if entry.suffix in (".tf", ".json") and entry.name != "terraform.tfvars.json" and (
            len(_ANY_BLOCK.findall(text)) != len(_HISTORY_BLOCK.findall(text))):
        return ("not generated: a file of yours that adds to the module (keep only moved, "
                "import and removed blocks here; put the rest in your root configuration)")
    if entry.suffix.lower() == ".ps1":
        return ("not generated: a script scadafw neither writes nor verifies; keep your own "
                "firewall rules in a group of your own, outside this folder")
    return None


def _generated_folders(modules: Path) -> set[Path]:
    """Folders DIR/<system>/<module>/ holding a file scadafw wrote."""
    found: set[Path] = set()
    for system in sorted(modules.iterdir()) if modules.is_dir() else []:
        for folder in sorted(system.iterdir()) if system.is_dir() else []:
            if folder.is_dir() and any(is_generated(f) for f in folder.iterdir()
                                       if f.is_file()):
                found.add(folder.relative_to(modules))
    return found


def stale_files(modules: Path, tree: Tree) -> list[tuple[Path, str]]:
    """(path, why) for everything under `modules` that differs from the rendered tree."""
    found: list[tuple[Path, str]] = []
    for folder, files in sorted(tree.items()):
        on_disk = modules / folder
        for name, text in sorted(files.items()):
            path = on_disk / name
            why = "missing" if not path.is_file() else _why(path, text)
            if why:
                found.append((path, why))
        if on_disk.is_dir():
            for entry in sorted(on_disk.iterdir()):
                why = None if entry.name in files else _extra(entry)
                if why:
                    found.append((entry, why))
    for folder in sorted(_generated_folders(modules) - set(tree)):
        found.append((modules / folder, "stale module folder: no topology given produces it "
                                        "(a system, target or network removed); delete it"))
    return found


def run(args: argparse.Namespace) -> int:
    stale = stale_files(args.modules, load_and_render(args.topologies))
    for path, why in stale:
        print(f"{path}: {why}")
    if stale:
        print(f"scadafw check: {len(stale)} difference(s) from what generate would write; "
              "run `scadafw generate` (or `make generate`)", file=sys.stderr)
        return 1
    return 0
