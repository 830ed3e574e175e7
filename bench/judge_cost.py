"""What the exact judge itself costs per system, apart from building what it judges: for each
module of each system in MODULES, the gates are built from the module (moto for AWS, NSG
models for Azure; untimed), then turning them into sides and judging every side of every
server address is timed. Prints one JSON object: milliseconds per system, per cloud.

    python bench/judge_cost.py TOPOLOGY_FOLDER MODULES_FOLDER
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from generator.checks.fleet import _preload  # noqa: E402
from generator.checks.verify import judge, named_addresses, own_addresses  # noqa: E402
from generator.fleet import load_systems  # noqa: E402
from generator.intent.links import expand, stand_ins  # noqa: E402
from generator.judge.aws import aws_sides  # noqa: E402
from generator.judge.azure import azure_sides  # noqa: E402
from generator.model import Target  # noqa: E402
from generator.sources.azure_module import build_nsgs  # noqa: E402
from generator.sources.hcl_module import read_module  # noqa: E402
from generator.sources.moto_module import build_in_moto, clear_sandbox, moto_sandbox  # noqa: E402
from generator.targets.placement import placements  # noqa: E402


def main() -> int:
    topologies, modules = Path(sys.argv[1]), Path(sys.argv[2])
    systems = load_systems([topologies])
    _preload()
    spent = {"aws": 0.0, "azure": 0.0}
    classes = {"aws": 0, "azure": 0}
    with moto_sandbox() as ec2:
        for system in systems:
            clear_sandbox()
            for placed in placements(system):
                module = read_module(modules / system.name / placed.folder)
                intent = expand(placed.view, stand_ins(placed.view))
                if placed.target is Target.AWS:
                    state = build_in_moto(intent.links, module, ec2)
                    start = time.perf_counter()
                    judged = judge(aws_sides(state, own_addresses(intent)), intent)
                else:
                    nsgs = build_nsgs(module, placed.view)
                    start = time.perf_counter()
                    sides, _ = azure_sides(nsgs, own_addresses(intent), named_addresses(intent))
                    judged = judge(sides, intent)
                spent[placed.target.value] += time.perf_counter() - start
                classes[placed.target.value] += len(judged)
    n = len(systems)
    print(json.dumps({cloud: {"ms_per_system": 1000 * spent[cloud] / n,
                              "classes_per_system": classes[cloud] / n} for cloud in spent}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
