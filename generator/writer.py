"""Atomic replacement of module folders: everything is rendered before anything is written.

Each module folder is written complete in a staging folder inside DIR (same file system), then
swapped in with renames; if a step fails, folders already swapped are put back.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from generator.errors import ScadafwError

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
    swapped: list[tuple[Path, Path | None]] = []  # (destination, backup of what was there)
    try:
        for i, (folder, files) in enumerate(sorted(modules.items())):
            new = staging / f"new-{i}"
            new.mkdir()
            for name, text in sorted(files.items()):
                (new / name).write_text(text, encoding="utf-8", newline="\n")
            dest = out / folder
            dest.parent.mkdir(parents=True, exist_ok=True)
            backup = None
            if dest.exists():
                backup = staging / f"old-{i}"
                os.replace(dest, backup)
            os.replace(new, dest)
            swapped.append((dest, backup))
    except OSError as exc:
        for dest, backup in reversed(swapped):
            shutil.rmtree(dest, ignore_errors=True)
            if backup is not None:
                os.replace(backup, dest)
        raise WriteError(f"{out}: cannot write: {exc.strerror or exc}; nothing was changed") \
            from exc
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return [dest for dest, _ in swapped]
