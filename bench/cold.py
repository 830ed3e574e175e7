"""The cold rows of `make bench` (bench/run.py): what a CI runner and a first-time user meet.

- scadafw with its caches off (`SCADAFW_CACHE=off`): generate 1,000 systems, verify 1 and 100;
- checkov on the same module as `verify` of one system, three pairs, medians compared;
- `make generate` on a fresh clone (a new virtual environment, the tool's dependencies, the
  example modules), beside `pip install` of those dependencies alone into a new environment.
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
CHECKOV = ROOT / ".venv-checkov" / "bin" / "checkov"


def _timed(command: list[str], cwd: Path | None = None, env: dict[str, str] | None = None
           ) -> float:
    start = time.perf_counter()
    subprocess.run(command, cwd=cwd, env=env, check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def checkov_pairs(scadafw: Path, topology: Path, modules: Path, env: dict[str, str]
                  ) -> dict[str, Any] | None:
    """verify of one system (caches off) and checkov on its AWS module, three times each,
    alternating; None where checkov is not installed (`make scan` installs it)."""
    if not CHECKOV.exists():
        return None
    module = next(p for p in (modules / topology.stem).iterdir() if p.name == "aws")
    off = {**env, "SCADAFW_CACHE": "off"}
    ours, theirs = [], []
    for _ in range(3):
        ours.append(_timed([str(scadafw), "verify", str(topology), "--modules", str(modules)],
                           env=off))
        theirs.append(_timed([str(CHECKOV), "--directory", str(module), "--framework",
                              "terraform", "--skip-download", "--quiet", "--compact"]))
    return {"verify": statistics.median(ours), "checkov": statistics.median(theirs),
            "runs": (ours, theirs)}


def generate_pairs(generate: list[str], aclgen: list[str] | None, env: dict[str, str]
                   ) -> dict[str, Any] | None:
    """generate of the fleet (caches off) and aerleon's one-file aclgen on the same flows,
    three times each, alternating, so a slow spell of a shared machine falls on both; None
    without aerleon."""
    if aclgen is None:
        return None
    off = {**env, "SCADAFW_CACHE": "off"}
    ours, theirs = [], []
    for _ in range(3):
        ours.append(_timed(generate, env=off))
        theirs.append(_timed(aclgen, env=env))
    return {"generate": statistics.median(ours), "aclgen": statistics.median(theirs),
            "runs": (ours, theirs)}


def first_run() -> dict[str, float] | None:
    """`make generate` on a fresh clone, and `pip install` of the runtime dependencies alone;
    None where the project is not a git checkout."""
    if not (ROOT / ".git").exists():
        return None
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    with tempfile.TemporaryDirectory(prefix="scadafw-first-run-") as tmp:
        clone = Path(tmp) / "clone"
        subprocess.run(["git", "clone", "--quiet", str(ROOT), str(clone)], check=True)
        env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH")}
        make = _timed(["make", "generate", f"PYTHON={sys.executable}"], cwd=clone, env=env)
        venv = Path(tmp) / "deps"
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet",
                        "--disable-pip-version-check", *deps], check=True)
        pip = time.perf_counter() - start
        shutil.rmtree(clone, ignore_errors=True)
    return {"make generate": make, "pip install": pip}


def section(row: Callable[[str, int], Any], pairs: dict[str, Any] | None,
            first: dict[str, float] | None, generated: dict[str, Any] | None = None
            ) -> list[str]:
    """The cold figures against the targets, as ratios measured in this run."""
    lines = ["", "## Cold runs (this run, caches off)", ""]
    if generated:
        ratio = generated["aclgen"] / generated["generate"]
        lines.append(f"- generate 1,000 systems: median {generated['generate']:.2f} s; aerleon's "
                     f"one-file `aclgen` on the same flows, median {generated['aclgen']:.2f} s "
                     f"(three pairs, alternating): {ratio:.1f}x faster (target 10x: "
                     f"{'met' if ratio >= 10 else 'not met'}); single runs: "
                     + ", ".join(f"{a:.2f}/{b:.2f} s" for a, b in zip(*generated["runs"],
                                                                       strict=True)))
    if pairs:
        ratio = pairs["verify"] / pairs["checkov"]
        lines.append(f"- verify one system: median {pairs['verify']:.2f} s; checkov on its AWS "
                     f"module, median {pairs['checkov']:.2f} s: {ratio:.2f} of checkov's time "
                     f"(target at most 0.5: {'met' if ratio <= 0.5 else 'not met'})")
    else:
        lines.append("- checkov not installed (`make scan` installs it): no comparison")
    hundred = row("scadafw verify, caches off", 100)
    if hundred:
        lines.append(f"- verify 100 systems: {hundred.seconds:.2f} s, peak memory "
                     f"{hundred.peak_mb:.0f} MB")
    if first:
        lines.append(f"- `make generate` on a fresh clone: {first['make generate']:.1f} s; "
                     f"`pip install` of the runtime dependencies alone into a new environment: "
                     f"{first['pip install']:.1f} s (pip's cache as the machine has it)")
    return lines
