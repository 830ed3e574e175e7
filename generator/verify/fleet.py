"""`verify` over many systems: every core, and no work twice for the same bytes.

- Verdicts are kept per system in `$XDG_CACHE_HOME/scadafw/verdicts` (default
  `~/.cache/scadafw/verdicts`), keyed by the SHA-256 of everything they depend on: the path and
  bytes of every .tf file in the system's module folders, the system as its topology defines it, scadafw's
  own code and templates, and the versions of moto, botocore, azure-mgmt-network and
  python-hcl2. A changed byte anywhere is a new key, so what is reported always judges the
  files on disk; `SCADAFW_CACHE=off` turns the cache off.
- Systems not in the cache are split into one contiguous chunk per core, each verified in a
  forked process with its own moto sandbox; the reports come back in the systems' order, the
  same as a run in one process (the tests hold them equal).
"""

from __future__ import annotations

import functools
import gc
import hashlib
import json
import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict
from pathlib import Path

from generator.model import System
from generator.placement import placements
from generator.verify.reachability import Check, TargetReport

PARALLEL_FROM = 2  # systems not in the cache; below this one process does it
_LIBRARIES = ("moto", "botocore", "azure-mgmt-network", "python-hcl2")


@functools.cache
def _code_fingerprint() -> str:
    """scadafw's own sources and templates, and the libraries that judge."""
    from importlib.metadata import PackageNotFoundError, version  # noqa: PLC0415

    import generator  # noqa: PLC0415

    digest = hashlib.sha256()
    root = Path(generator.__file__).parent
    for path in sorted(root.rglob("*")):
        if path.suffix in (".py", ".j2") and path.is_file():
            digest.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes())
    for name in _LIBRARIES:
        try:
            digest.update(f"{name}={version(name)}".encode())
        except PackageNotFoundError:
            digest.update(f"{name}=none".encode())
    return digest.hexdigest()


@functools.cache
def _cache_folder() -> Path | None:
    if os.environ.get("SCADAFW_CACHE", "").lower() in ("off", "0", "no"):
        return None
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    folder = base / "scadafw" / "verdicts"
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None
    return folder


def verdict_key(system: System, modules: Path) -> str | None:
    """What a system's verdicts depend on, hashed; None when a module folder is missing (the
    run then says so)."""
    digest = hashlib.sha256(f"{_code_fingerprint()}\n{system!r}\n".encode())
    for placed in placements(system):
        folder = modules / system.name / placed.folder
        if not folder.is_dir():
            return None
        digest.update(str(folder).encode() + b"\0")  # reports name the folder
        for path in sorted(folder.glob("*.tf")):
            digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def _load(folder: Path, key: str) -> list[TargetReport] | None:
    try:
        raw = json.loads((folder / f"{key}.json").read_text(encoding="utf-8"))
        return [TargetReport(r["system"], r["target"], r["module"],
                             [Check(**c) for c in r["checks"]], r["problems"], r["notes"])
                for r in raw]
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _store(folder: Path, key: str, reports: list[TargetReport]) -> None:
    try:
        entry = folder / f"{key}.json"
        temporary = entry.with_suffix(f".{os.getpid()}.tmp")
        temporary.write_text(json.dumps([asdict(r) for r in reports]), encoding="utf-8")
        os.replace(temporary, entry)
    except (OSError, TypeError, ValueError):
        pass


def _verify_chunk(systems: list[System], modules: Path) -> list[list[TargetReport]]:
    from generator.verify.report import verify_each  # noqa: PLC0415

    return verify_each(systems, modules)


def _preload() -> None:
    """What every worker needs, loaded once before the fork."""
    from generator.verify.aws_moto import clear_sandbox, moto_sandbox  # noqa: PLC0415
    from generator.verify.hcl_read import _parser  # noqa: PLC0415
    from generator.verify.report import verify_each  # noqa: PLC0415, F401

    with moto_sandbox() as ec2:  # moto loads the rest of itself on the first calls
        ec2.describe_security_group_rules()
        ec2.describe_network_interfaces()
        clear_sandbox()
    _parser()
    gc.freeze()  # the collector then leaves these objects (and their shared pages) alone


def _run(systems: list[System], modules: Path) -> list[list[TargetReport]]:
    """Each system's reports, on every core when there are enough systems."""
    workers = min(os.cpu_count() or 1, len(systems))
    if len(systems) < PARALLEL_FROM or workers < 2 or \
            "fork" not in multiprocessing.get_all_start_methods():
        return _verify_chunk(systems, modules)
    size = -(-len(systems) // workers)
    chunks = [systems[i:i + size] for i in range(0, len(systems), size)]
    _preload()  # the workers share these pages with the parent (fork: copy on write)
    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(len(chunks), mp_context=context) as pool:
        done = list(pool.map(_verify_chunk, chunks, [modules] * len(chunks)))
    return [reports for chunk in done for reports in chunk]


def verify_fleet(systems: list[System], modules: Path) -> list[TargetReport]:
    """Every module of every system (as `report.verify_systems`), from the cache or computed."""
    folder = _cache_folder()
    found: dict[int, list[TargetReport]] = {}
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
            _store(folder, key, reports)
    return [r for index in range(len(systems)) for r in found[index]]

