"""Many topologies at once: load and render them, across processes when there are enough.

Rendering is pure and per system, so a large fleet is split into contiguous chunks, a few per
core; each worker loads and renders a chunk at a time (and, for `generate`, writes it into the
staging folder), and the parent gathers every problem (from all chunks) before anything is
written. Output is identical to a single-process run. What a
topology file renders to is kept in scadafw's cache (`render`, generator/cache.py), keyed by
the file's bytes and name and scadafw's code: an unchanged file is neither parsed nor rendered
again (`SCADAFW_CACHE=off` turns it off).
"""

from __future__ import annotations

import hashlib
import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

from generator import cache
from generator.cache import code_fingerprint
from generator.errors import Problem, TopologyError, UsageError
from generator.model import System
from generator.targets import render_system
from generator.targets.quotas import check_quotas
from generator.topology import load_topology
from generator.writer import Installed, Staged, Staging, Tree, WriteError, write_modules

PARALLEL_FROM = 64  # below this many files, starting processes costs more than it saves


def expand(paths: list[Path]) -> list[Path]:
    """Topology files as given, a folder standing for every *.yaml and *.yml file in it."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            inside = sorted(p for p in path.iterdir()
                            if p.suffix in (".yaml", ".yml") and p.is_file())
            if not inside:
                raise UsageError(f"{path}: a folder without topology files (*.yaml, *.yml)")
            found += inside
        else:
            found.append(path)
    return found


def _load(paths: list[Path]) -> tuple[list[tuple[Path, System]], list[Problem]]:
    loaded: list[tuple[Path, System]] = []
    problems: list[Problem] = []
    for path in paths:
        try:
            system = load_topology(path)
            check_quotas(system, str(path))
        except TopologyError as exc:
            problems.extend(exc.problems)
            continue
        loaded.append((path, system))
    return loaded, problems


def _duplicates(names: list[tuple[Path, str]]) -> list[Problem]:
    """One problem per file whose system name an earlier file already took."""
    first_file: dict[str, Path] = {}
    problems = []
    for path, name in names:
        if name in first_file:
            problems.append(Problem(str(path), 1, 1, f"system '{name}' is also defined in "
                                    f"{first_file[name]}; system names must differ"))
        first_file.setdefault(name, path)
    return problems


def load_systems(paths: list[Path]) -> list[System]:
    """Load every topology, gathering the problems of all files before raising."""
    loaded, problems = _load(expand(paths))
    problems += _duplicates([(path, system.name) for path, system in loaded])
    if problems:
        raise TopologyError(problems)
    return [system for _, system in loaded]


def render_tree(systems: list[System]) -> Tree:
    tree: Tree = {}
    for system in systems:
        for folder, files in render_system(system).items():
            tree[Path(system.name) / folder] = files
    return tree


def _render_key(path: Path) -> str | None:
    """What a topology file's modules depend on: its bytes, its name (the headers name it),
    scadafw's code and the libraries' versions."""
    try:
        data = path.read_bytes()
    except OSError:
        return None  # loading it says why
    digest = hashlib.sha256(f"{code_fingerprint()}\n{path.name}\n".encode())
    digest.update(data)
    return digest.hexdigest()


def _load_and_render(paths: list[Path]) -> tuple[list[tuple[Path, str]], list[Problem], Tree]:
    """Each file's system name and modules, from the render cache (keyed by the file's bytes)
    or loaded, validated and rendered; every problem of every file."""
    names, problems, tree, _ = _load_render_each(paths, None)
    return names, problems, {} if problems else tree


def _load_render_stage(paths: list[Path], staging: Staging
                       ) -> tuple[list[tuple[Path, str]], list[Problem], list[Staged]]:
    """As `_load_and_render`, each module folder written into `staging` as soon as it is
    rendered (nothing once a file has a problem): a worker writes its own chunk."""
    names, problems, _, staged = _load_render_each(paths, staging)
    return names, problems, [] if problems else staged


def _load_render_each(paths: list[Path], staging: Staging | None) -> tuple[
        list[tuple[Path, str]], list[Problem], Tree, list[Staged]]:
    """Both paths: the modules kept in memory (`staging` None) or written into `staging`."""
    folder = cache.cache_folder("render")
    names: list[tuple[Path, str]] = []
    problems: list[Problem] = []
    tree: Tree = {}
    staged: list[Staged] = []

    def keep(rendered: Tree) -> None:
        if staging is None:
            tree.update(rendered)
        elif not problems:
            staged.extend(staging.stage(f, files) for f, files in rendered.items())

    for path in paths:
        key = _render_key(path) if folder else None
        hit = cache.read(folder, key) if folder and key else None
        if isinstance(hit, dict) and "system" in hit and "tree" in hit:
            names.append((path, str(hit["system"])))
            keep({Path(f): dict(files) for f, files in hit["tree"].items()})
            continue
        loaded, found = _load([path])
        problems += found
        for _, system in loaded:
            rendered = render_tree([system])
            names.append((path, system.name))
            keep(rendered)
            if folder and key:
                cache.write(folder, key, {"system": system.name, "tree": {
                    str(f): files for f, files in rendered.items()}})
    return names, problems, tree, staged


def _problems(results: list[tuple[list[tuple[Path, str]], list[Problem], Any]]
              ) -> list[Problem]:
    """Every chunk's problems, then each system name that an earlier file already took."""
    problems = [p for _, found, _ in results for p in found]
    return problems + _duplicates([pair for names, _, _ in results for pair in names])


def _workers(paths: list[Path]) -> int:
    workers = min(os.cpu_count() or 1, max(1, len(paths) // (PARALLEL_FROM // 2)))
    return workers if "fork" in multiprocessing.get_all_start_methods() else 1


CHUNKS_PER_WORKER = 4  # a worker that finishes early takes the next chunk: none waits long


def _chunks(paths: list[Path], workers: int) -> list[list[Path]]:
    size = -(-len(paths) // (workers * CHUNKS_PER_WORKER))
    return [paths[i:i + size] for i in range(0, len(paths), size)]


def load_and_render(paths: list[Path]) -> Tree:
    """Every module of every topology, rendered in memory; TopologyError lists all problems."""
    paths = expand(paths)
    workers = _workers(paths)
    if workers < 2:
        names, problems, tree = _load_and_render(paths)
        problems += _duplicates(names)
        if problems:
            raise TopologyError(problems)
        return tree
    chunks = _chunks(paths, workers)
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork")) as pool:
        results = list(pool.map(_load_and_render, chunks))
    problems = _problems(results)
    if problems:
        raise TopologyError(problems)
    return {folder: files for _, _, tree in results for folder, files in tree.items()}


def generate(paths: list[Path], out: Path) -> list[Installed]:
    """Load, render and write every topology's modules into `out`, all or nothing (the
    writer's staging and swap, generator/writer.py); each module folder, and whether it was
    written.

    A large fleet is split into a few chunks per core, and each worker writes the folders it
    renders into the staging folder itself: neither the text nor the writing passes through
    one process. Nothing in `out` changes until every file of every topology is rendered
    without a problem."""
    paths = expand(paths)
    workers = _workers(paths)
    if workers < 2:
        return write_modules(out, load_and_render(paths))
    staging = Staging.open(out)
    try:
        chunks = _chunks(paths, workers)
        context = multiprocessing.get_context("fork")
        with ProcessPoolExecutor(workers, mp_context=context) as pool:
            results = list(pool.map(_load_render_stage, chunks, [staging] * len(chunks)))
    except OSError as exc:
        staging.discard()
        raise WriteError.unchanged(out, exc) from exc
    except BaseException:
        staging.discard()
        raise
    problems = _problems(results)
    if problems:
        staging.discard()
        raise TopologyError(problems)
    return staging.install([s for _, _, staged in results for s in staged])
