"""scadafw's on-disk caches: where they live, and the fingerprint of the code that fills them.

Each cache maps a SHA-256 key (of everything the result depends on) to a JSON file under
`$SCADAFW_CACHE_DIR/<name>/` if that is set, else `$XDG_CACHE_HOME/scadafw/<name>/` (default
`~/.cache/scadafw/<name>/`). Entries are written
atomically and never trusted blindly: an entry that cannot be read is recomputed, a cache
that cannot be written is skipped. `SCADAFW_CACHE=off` turns every cache off.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
from pathlib import Path
from typing import Any

_LIBRARIES = ("jinja2", "PyYAML", "moto", "botocore", "azure-mgmt-network", "python-hcl2")


def enabled() -> bool:
    return os.environ.get("SCADAFW_CACHE", "").lower() not in ("off", "0", "no")


def cache_folder(name: str) -> Path | None:
    """The folder of one cache, made if needed; None when caching is off or impossible."""
    if not enabled():
        return None
    given = os.environ.get("SCADAFW_CACHE_DIR")
    base = Path(given) if given else \
        Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "scadafw"
    folder = base / name
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None
    return folder


@functools.cache
def code_fingerprint() -> str:
    """scadafw's own sources and templates, and the versions of the libraries it uses."""
    from importlib.metadata import PackageNotFoundError, version  # noqa: PLC0415

    digest = hashlib.sha256()
    root = Path(__file__).parent
    for path in sorted(root.rglob("*")):
        if path.suffix in (".py", ".j2") and path.is_file():
            digest.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes())
    for name in _LIBRARIES:
        try:
            digest.update(f"{name}={version(name)}".encode())
        except PackageNotFoundError:
            digest.update(f"{name}=none".encode())
    return digest.hexdigest()


def read(folder: Path, key: str) -> Any:
    """The entry's JSON value, or None."""
    try:
        return json.loads((folder / f"{key}.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def write(folder: Path, key: str, value: Any) -> None:
    try:
        entry = folder / f"{key}.json"
        temporary = entry.with_suffix(f".{os.getpid()}.tmp")
        temporary.write_text(json.dumps(value, separators=(",", ":")), encoding="utf-8")
        os.replace(temporary, entry)  # concurrent runs never read half an entry
    except (OSError, TypeError, ValueError):
        pass
