"""`make bench`: wall time and peak RSS of scadafw against synthetic fleets, beside aerleon.

Synthetic systems: a Hot-Standby pair, a permanent standby and a DMZ permanent standby, with
addresses. Every measurement is a separate process (os.wait4 gives its own peak RSS). Writes
bench/results.md. A script, not a test: figures are only comparable within one run.
"""

from __future__ import annotations

import importlib.util
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
# Outputs go to tmpfs where there is one: this machine's virtual disk swings tenfold in write
# speed from minute to minute, which would measure the disk, not the tools.
SCRATCH = Path("/dev/shm/scadafw-bench") if Path("/dev/shm").is_dir() else OUT
SCADAFW = Path(sys.executable).with_name("scadafw")
SIZES = (1, 10, 100, 1000)
VERIFY_SIZES = (1, 100)

sys.path.insert(0, str(ROOT))

from generator.flow_table import server_flows  # noqa: E402
from generator.policy import flows_for  # noqa: E402
from generator.targets import render_system  # noqa: E402
from generator.topology import load_topology  # noqa: E402


@dataclass
class Run:
    label: str
    systems: int
    seconds: float
    peak_mb: float
    ok: bool


def measure(label: str, systems: int, command: list[str]) -> Run:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    # stderr goes to a file, not a pipe: aclgen logs a line per file and would fill a pipe
    with tempfile.TemporaryFile() as log:
        start = time.perf_counter()
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=log, env=env)
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - start
        ok = os.waitstatus_to_exitcode(status) == 0
        if not ok:
            log.seek(0)
            print(log.read().decode(errors="replace")[-2000:], file=sys.stderr)
    return Run(label, systems, seconds, usage.ru_maxrss / 1024, ok)


def topology(i: int) -> str:
    a, b = divmod(i, 250)
    return (f"version: 1\nsystem: plant-{i:04d}\ntargets: [aws, azure]\nservers:\n"
            f"  - {{name: scada-a, role: main, addresses: [10.{a}.{b}.10]}}\n"
            f"  - {{name: scada-b, role: standby, addresses: [10.{a}.{b}.11]}}\n"
            f"  - {{name: scada-dr, role: permanent_standby, addresses: [10.{a}.{b}.12]}}\n"
            f"  - {{name: scada-dmz, role: dmz_permanent_standby, addresses: [10.{a}.{b}.13]}}\n")


def fleet(n: int) -> Path:
    folder = OUT / f"topologies-{n}"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    for i in range(n):
        (folder / f"plant-{i:04d}.yaml").write_text(topology(i))
    return folder


def economy() -> list[tuple[str, int, int, int]]:
    """(cloud, rules emitted, minimum for the flows, a per-server rule set) for one system."""
    system = load_topology(fleet(1) / "plant-0000.yaml")
    minimum = 2 * len(flows_for(system))  # one rule per group pair, service and direction
    per_server = 2 * len(server_flows(system))
    modules = render_system(system)
    aws = len(re.findall(r'^resource "aws_vpc_security_group_(?:ingress|egress)_rule"',
                         modules["aws"]["main.tf"],
                         re.MULTILINE))
    azure_text = modules["azure"]["main.tf"]
    azure_allows = len(re.findall(r'access += "Allow"', azure_text))
    return [("aws", aws, minimum, per_server), ("azure (allow rules)", azure_allows, minimum,
                                                 per_server)]


def machine() -> str:
    cpu = "unknown CPU"
    info = Path("/proc/cpuinfo")
    if info.exists():
        match = re.search(r"model name\s*:\s*(.+)", info.read_text())
        cpu = match.group(1).strip() if match else cpu
    return (f"{os.cpu_count()} cores ({cpu}), Python {platform.python_version()}, "
            f"{platform.system()} {platform.machine()}")


def main() -> int:
    runs: list[Run] = []
    folders = {n: fleet(n) for n in SIZES}
    has_aerleon = importlib.util.find_spec("aerleon") is not None
    SCRATCH.mkdir(parents=True, exist_ok=True)
    for n in SIZES:
        out = SCRATCH / f"modules-{n}"
        shutil.rmtree(out, ignore_errors=True)
        runs.append(measure("scadafw generate (aws + azure)", n,
                            [str(SCADAFW), "generate", *map(str, sorted(folders[n].glob("*.yaml"))),
                             "--out", str(out)]))
        if has_aerleon:
            side = [sys.executable, str(ROOT / "bench" / "aerleon_side.py")]
            runs.append(measure("aerleon Generate API, policies in memory", n,
                                [*side, "api", str(folders[n]), str(SCRATCH / f"aerleon-{n}")]))
            sources = SCRATCH / f"aerleon-sources-{n}"
            subprocess.run([*side, "files", str(folders[n]), str(sources)], check=True,
                           env={**os.environ, "PYTHONPATH": str(ROOT)})  # untimed
            runs.append(measure("aerleon aclgen, policy files on disk", n,
                                [str(SCADAFW.with_name("aclgen")),
                                 "--base_directory", str(sources / "policies"),
                                 "--definitions_directory", str(sources / "defs"),
                                 "--output_directory", str(sources / "out")]))
    for n in VERIFY_SIZES:
        runs.append(measure("scadafw verify (aws + azure)", n,
                            [str(SCADAFW), "verify", *map(str, sorted(folders[n].glob("*.yaml"))),
                             "--modules", str(SCRATCH / f"modules-{n}")]))
    shutil.rmtree(SCRATCH, ignore_errors=True)
    report = render(runs, economy(), has_aerleon)
    (ROOT / "bench" / "results.md").write_text(report)
    print(report)
    return 0 if all(r.ok for r in runs) else 1


def render(runs: list[Run], rules: list[tuple[str, int, int, int]], has_aerleon: bool) -> str:
    lines = ["# scadafw benchmark", "", f"Machine: {machine()}. Written by `make bench` "
             f"(bench/run.py); outputs on {'tmpfs' if SCRATCH != OUT else 'disk'}.", "",
             "Each system: a Hot-Standby pair, a permanent standby and a DMZ permanent standby, "
             "with addresses. Each row is one process; peak RSS is that process's.", "",
             "| command | systems | wall (s) | peak RSS (MB) | ok |", "|---|---|---|---|---|"]
    lines += [f"| {r.label} | {r.systems} | {r.seconds:.2f} | {r.peak_mb:.0f} | "
              f"{'yes' if r.ok else 'NO'} |" for r in runs]
    gen = {r.systems: r for r in runs if r.label.startswith("scadafw generate")}
    lines += ["", "## Ratios (this run)", ""]
    if 100 in gen and 1000 in gen:
        lines.append(f"- generate, 1,000 systems / 100 systems: "
                     f"{gen[1000].seconds / gen[100].seconds:.1f}x the time (target: at most 12x)")
    if has_aerleon:
        for way in ("aerleon Generate API", "aerleon aclgen"):
            aer = {r.systems: r for r in runs if r.label.startswith(way)}
            ratios = ", ".join(f"{aer[n].seconds / gen[n].seconds:.1f}x at {n}"
                               for n in SIZES if n in aer and n in gen)
            lines.append(f"- {way} time / scadafw generate time: {ratios}")
        lines.append("- scadafw reads its topology files and writes 10 files per system; "
                     "aclgen reads its policy files and writes 1; the Generate API starts "
                     "from policies already built in memory (from the same topologies)")
    else:
        lines.append("- aerleon not installed (`pip install -e '.[bench]'`): no comparison")
    lines += ["", "## Resource economy (one system)", "",
              "| cloud | rules emitted | minimum for the flows | per-server rule set |",
              "|---|---|---|---|"]
    lines += [f"| {c} | {emitted} | {minimum} | {per_server} |"
              for c, emitted, minimum, per_server in rules]
    lines += ["", "Minimum: one rule per distinct role-group pair, service and direction. "
              "Azure also carries 4 deny rules per NSG (server port and ICMP, in and out), "
              "the price of Azure's AllowVNetInBound default.", ""]
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
