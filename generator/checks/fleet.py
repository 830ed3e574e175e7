"""`verify` over many systems: every core, and no work twice for the same bytes.

- Verdicts are kept per system in scadafw's cache (generator/cache.py, `verdicts`), keyed by
  the SHA-256 of everything they depend on: the path and bytes of every .tf, .ps1 and policy
  file in the system's module folders, the system as its topology defines it, scadafw's own code and
  templates, and the versions of the libraries that judge. A changed byte anywhere is a new
  key, so what is reported always judges the files on disk; `SCADAFW_CACHE=off` turns the
  cache off.
- Systems not in the cache are split into one contiguous chunk per core, each verified in a
  forked process with its own moto sandbox; the reports come back in the systems' order, the
  same as a run in one process (the tests hold them equal).
- One system with an AWS module and others verifies them side by side: the AWS modules in
  this process (moto), the others in a forked one (the Azure SDK, aerleon), each loading only
  the libraries its modules need.
"""

from __future__ import annotations

import gc
import hashlib
import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from generator import cache
from generator.cache import code_fingerprint
from generator.checks.report import Report, from_dict, to_dict
from generator.model import System, Target
from generator.targets.placement import placements

PARALLEL_FROM = 2  # systems not in the cache; below this one process does it


def verdict_key(system: System, modules: Path) -> str | None:
    """What a system's verdicts depend on, hashed; None when a module folder is missing (the
    run then says so)."""
    digest = hashlib.sha256(f"{code_fingerprint()}\n{system!r}\n".encode())
    for placed in placements(system):
        folder = modules / system.name / placed.folder
        if not folder.is_dir():
            return None
        digest.update(str(folder).encode() + b"\0")  # reports name the folder
        for path in sorted([*folder.glob("*.tf"), *folder.glob("*.ps1"), *folder.glob("*.yaml"),
                            *folder.glob("definitions/*.yaml")]):
            digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def _load(folder: Path, key: str) -> list[Report] | None:
    raw = cache.read(folder, key)
    try:
        return [from_dict(r) for r in raw]
    except (KeyError, TypeError, ValueError):
        return None


def _verify_chunk(systems: list[System], modules: Path) -> list[list[Report]]:
    from generator.checks.verify import verify_each  # noqa: PLC0415

    return verify_each(systems, modules)


def _preload() -> None:
    """What every worker needs, loaded once before the fork."""
    from generator.checks.verify import verify_each  # noqa: PLC0415, F401
    from generator.sources.hcl_read import _parser  # noqa: PLC0415
    from generator.sources.moto_module import clear_sandbox, moto_sandbox  # noqa: PLC0415

    with moto_sandbox() as ec2:  # moto loads the rest of itself on the first calls
        ec2.describe_security_group_rules()
        ec2.describe_network_interfaces()
        clear_sandbox()
    _parser()
    gc.freeze()  # the collector then leaves these objects (and their shared pages) alone


def _verify_placed(system: System, modules: Path, which: list[int]) -> list[Report]:
    from generator.checks.verify import verify_placed  # noqa: PLC0415

    return verify_placed(system, modules, which)


def _split_one(system: System, modules: Path) -> list[Report] | None:
    """One system with an AWS module and others: the AWS modules here (moto), the others in a
    forked process (the Azure SDK, aerleon) at the same time; None when there is nothing to
    split. The reports keep the placements' order."""
    placed = placements(system)
    aws = [i for i, p in enumerate(placed) if p.target is Target.AWS]
    rest = [i for i in range(len(placed)) if i not in aws]
    if not aws or not rest:
        return None
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("fork")) as pool:
        theirs = pool.submit(_verify_placed, system, modules, rest)
        found = dict(zip(aws, _verify_placed(system, modules, aws), strict=True))
        found.update(zip(rest, theirs.result(), strict=True))
    return [found[i] for i in range(len(placed))]


def _run(systems: list[System], modules: Path) -> list[list[Report]]:
    """Each system's reports, on every core when there are enough systems (or, for one
    system, enough kinds of module)."""
    workers = min(os.cpu_count() or 1, len(systems))
    forks = "fork" in multiprocessing.get_all_start_methods()
    if len(systems) == 1 and (os.cpu_count() or 1) >= 2 and forks:
        split = _split_one(systems[0], modules)
        if split is not None:
            return [split]
    if len(systems) < PARALLEL_FROM or workers < 2 or not forks:
        return _verify_chunk(systems, modules)
    size = -(-len(systems) // workers)
    chunks = [systems[i:i + size] for i in range(0, len(systems), size)]
    _preload()  # the workers share these pages with the parent (fork: copy on write)
    context = multiprocessing.get_context("fork")
    # the parent takes the first chunk itself: one process fewer holding moto
    with ProcessPoolExecutor(len(chunks) - 1, mp_context=context) as pool:
        others = [pool.submit(_verify_chunk, chunk, modules) for chunk in chunks[1:]]
        mine = _verify_chunk(chunks[0], modules)
        done = [mine, *(future.result() for future in others)]
    return [reports for chunk in done for reports in chunk]


def verify_fleet(systems: list[System], modules: Path) -> list[Report]:
    """Every module of every system (as `report.verify_systems`), from the cache or computed."""
    folder = cache.cache_folder("verdicts")
    found: dict[int, list[Report]] = {}
    keys: dict[int, str | None] = {}
    for index, system in enumerate(systems):
        keys[index] = verdict_key(system, modules) if folder else None
        key = keys[index]
        cached = _load(folder, key) if folder and key else None
        if cached is not None:
            found[index] = cached
    todo = [i for i in range(len(systems)) if i not in found]
    done = _run([systems[i] for i in todo], modules) if todo else []
    for index, reports in zip(todo, done, strict=True):
        found[index] = reports
        key = keys[index]
        if folder and key:
            cache.write(folder, key, [to_dict(r) for r in reports])
    return [r for index in range(len(systems)) for r in found[index]]

