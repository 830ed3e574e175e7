"""Atomic replacement of module folders: everything is rendered before anything is written.

Each module folder is written complete in a staging folder inside DIR (same file system), then
swapped in with renames; if a step fails, folders already swapped are put back. What the user
keeps in a module folder survives: every file that does not carry scadafw's header (a
`moved.tf`, an `imports.tf`) and every folder (`.terraform/` after `terraform init`) moves
into the new folder; scadafw's own files that it no longer writes are dropped. A module folder
that already holds exactly the files it would get (none of scadafw's beside them, nothing else in
its subfolders such as `definitions/`) is left as it is: nothing in it is written, and its files
keep their times.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

from generator.errors import ScadafwError
from generator.provenance import provenance

Tree = dict[Path, dict[str, str]]  # module folder (relative to DIR) -> file name -> text


class WriteError(ScadafwError):
    @classmethod
    def unchanged(cls, out: Path, exc: OSError) -> WriteError:
        """A write that failed before anything in `out` changed (or after it was put back)."""
        return cls(f"{out}: cannot write: {exc.strerror or exc}; nothing was changed")


class Installed(NamedTuple):
    folder: Path  # a module folder in DIR
    changed: bool  # False: it held these files already, and nothing in it was touched


def write_modules(out: Path, modules: Tree) -> list[Installed]:
    """Replace each module folder under `out` with exactly its files; return each folder and
    whether it was written."""
    staging = Staging.open(out)
    try:
        staged = [staging.stage(folder, files) for folder, files in modules.items()]
    except OSError as exc:
        staging.discard()
        raise WriteError.unchanged(out, exc) from exc
    return staging.install(staged)


@dataclass(frozen=True)
class Staged:
    """One module folder written complete in the staging folder, waiting to be swapped in."""

    folder: Path  # relative to DIR
    path: Path | None  # where it was written; None: DIR holds these files already
    names: tuple[str, ...]  # the files scadafw wrote in it


@dataclass(frozen=True)
class Staging:
    """A staging folder inside DIR. Module folders are written into it (by any process: the
    fleet's workers write their own chunks), then `install` swaps them all in, or none."""

    out: Path
    path: Path

    @classmethod
    def open(cls, out: Path) -> Staging:
        if out.exists() and not out.is_dir():
            raise WriteError(f"{out}: exists and is not a directory")
        try:
            out.mkdir(parents=True, exist_ok=True)
            return cls(out, Path(tempfile.mkdtemp(prefix=".scadafw-", dir=out)))
        except OSError as exc:
            raise WriteError(f"{out}: cannot write: {exc.strerror or exc}") from exc

    def stage(self, folder: Path, files: dict[str, str]) -> Staged:
        """Write one module folder's files, unless DIR holds them already; raises OSError (the
        caller discards)."""
        data = {name: text.encode("utf-8") for name, text in files.items()}
        if _holds(self.out / folder, data):
            return Staged(folder, None, tuple(files))
        path = tempfile.mkdtemp(prefix="new-", dir=self.path)
        made = {path}
        for name, content in data.items():
            target = os.path.join(path, name)
            parent = os.path.dirname(target)
            if parent not in made:
                os.makedirs(parent, exist_ok=True)
                made.add(parent)
            _write_new(target, content)
        return Staged(folder, Path(path), tuple(files))

    def discard(self) -> None:
        shutil.rmtree(self.path, ignore_errors=True)

    def install(self, staged: list[Staged]) -> list[Installed]:
        """Swap every staged folder in, in folder order; on any failure put back what was
        swapped and raise WriteError. The staging folder goes either way."""
        swaps: list[_Swap] = []
        done: list[Installed] = []
        try:
            for i, item in enumerate(sorted(staged, key=lambda s: s.folder)):
                if item.path is None:
                    done.append(Installed(self.out / item.folder, changed=False))
                    continue
                swap = _Swap(self.out / item.folder, item.path)
                swap.dest.parent.mkdir(parents=True, exist_ok=True)
                swaps.append(swap)
                if swap.dest.exists():
                    kept = [e.name for e in users_entries(swap.dest, item.names)]
                    swap.backup = self.path / f"old-{i}"
                    os.replace(swap.dest, swap.backup)
                    for name in kept:  # a rename, not a copy: .terraform/ holds the providers
                        os.replace(swap.backup / name, swap.staged / name)
                        swap.moved.append(name)
                os.replace(swap.staged, swap.dest)
                swap.installed = True
                done.append(Installed(swap.dest, changed=True))
        except OSError as exc:
            for swap in reversed(swaps):
                swap.undo()
            raise WriteError.unchanged(self.out, exc) from exc
        finally:
            self.discard()
        return done


def _holds(folder: Path, data: dict[str, bytes]) -> bool:
    """Whether `folder` holds exactly these files already, with no file of scadafw's beside
    them and no other file in the subfolders scadafw writes (a swap would drop either): then it
    needs no writing."""
    try:
        present = os.listdir(folder)
    except OSError:
        return False
    subfolders = {name.split("/")[0] for name in data if "/" in name}
    for name in present:
        extra = folder / name
        if name in subfolders:
            if not _holds_only(extra, data):
                return False
        elif name not in data and not extra.is_dir() and is_generated(extra):
            return False
    return all(_reads(os.path.join(folder, name), content) for name, content in data.items())


def _holds_only(sub: Path, data: dict[str, bytes]) -> bool:
    """Whether the subfolder `sub` holds no file but the ones `data` names in it."""
    for root, _, files in os.walk(sub):
        base = os.path.relpath(root, sub.parent)
        if any(f"{base}/{entry}" not in data for entry in files):
            return False
    return True


def _reads(path: str, expected: bytes) -> bool:
    """Whether the file at `path` holds `expected`, byte for byte."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return False
    try:
        found = b""
        while len(found) <= len(expected):
            chunk = os.read(fd, len(expected) + 1 - len(found))
            if not chunk:
                break
            found += chunk
        return found == expected
    except OSError:  # a folder of that name, for one
        return False
    finally:
        os.close(fd)


def _write_new(path: str, data: bytes) -> None:
    """A new file holding `data`, through the system calls alone: a text-mode `open` per file
    was two fifths of staging's time."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
    finally:
        os.close(fd)


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


def users_entries(folder: Path, generated: Iterable[str]) -> list[Path]:
    """What in a module folder is the user's: folders, and files without scadafw's header
    that generate does not write."""
    kept = []
    names = set(generated)
    folders = {name.split("/")[0] for name in names if "/" in name}
    for entry in sorted(folder.iterdir()):
        if entry.name in names or entry.name in folders:
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

