"""Atomic replacement of module folders: everything is rendered before anything is written.

Each module folder is written complete in a staging folder inside DIR (same file system), then
swapped in with renames; if a step fails, folders already swapped are put back. What the user
keeps in a module folder survives: every file that does not carry scadafw's header (a
`moved.tf`, an `imports.tf`) and every folder (`.terraform/` after `terraform init`) moves
into the new folder; scadafw's own files that it no longer writes are dropped.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from generator.errors import ScadafwError
from generator.provenance import provenance

Tree = dict[Path, dict[str, str]]  # module folder (relative to DIR) -> file name -> text


class WriteError(ScadafwError):
    pass


def write_modules(out: Path, modules: Tree) -> list[Path]:
    """Replace each module folder under `out` with exactly its files; return the folders."""
    if out.exists() and not out.is_dir():
        raise WriteError(f"{out}: exists and is not a directory")
    try:
        out.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".scadafw-", dir=out))
    except OSError as exc:
        raise WriteError(f"{out}: cannot write: {exc.strerror or exc}") from exc
    swaps: list[_Swap] = []
    try:
        for i, (folder, files) in enumerate(sorted(modules.items())):
            swap = _Swap(out / folder, staging / f"new-{i}")
            swap.staged.mkdir()
            for name, text in sorted(files.items()):
                (swap.staged / name).parent.mkdir(parents=True, exist_ok=True)
                (swap.staged / name).write_text(text, encoding="utf-8", newline="\n")
            swap.dest.parent.mkdir(parents=True, exist_ok=True)
            swaps.append(swap)
            if swap.dest.exists():
                kept = [e.name for e in users_entries(swap.dest, files)]
                swap.backup = staging / f"old-{i}"
                os.replace(swap.dest, swap.backup)
                for name in kept:  # a rename, not a copy: .terraform/ holds the providers
                    os.replace(swap.backup / name, swap.staged / name)
                    swap.moved.append(name)
            os.replace(swap.staged, swap.dest)
            swap.installed = True
    except OSError as exc:
        for swap in reversed(swaps):
            swap.undo()
        raise WriteError(f"{out}: cannot write: {exc.strerror or exc}; nothing was changed") \
            from exc
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return [swap.dest for swap in swaps]


@dataclass
class _Swap:
    """One module folder being replaced, and how to put it back."""

    dest: Path
    staged: Path
    backup: Path | None = None  # what was there, while the swap runs
    moved: list[str] = field(default_factory=list)  # the user's entries moved across
    installed: bool = False

    def undo(self) -> None:
        holder = self.dest if self.installed else self.staged
        if self.backup is not None:
            for name in self.moved:
                os.replace(holder / name, self.backup / name)
        if self.installed:
            shutil.rmtree(self.dest, ignore_errors=True)
        if self.backup is not None:
            os.replace(self.backup, self.dest)


def users_entries(folder: Path, generated: dict[str, str]) -> list[Path]:
    """What in a module folder is the user's: folders, and files without scadafw's header
    that generate does not write."""
    kept = []
    folders = {name.split("/")[0] for name in generated if "/" in name}
    for entry in sorted(folder.iterdir()):
        if entry.name in generated or entry.name in folders:
            continue
        if entry.is_dir() or not is_generated(entry):
            kept.append(entry)
    return kept


def is_generated(path: Path) -> bool:
    try:
        with path.open(encoding="utf-8", errors="replace") as handle:
            first = handle.readline()
    except OSError:
        return False
    return provenance(first) is not None

