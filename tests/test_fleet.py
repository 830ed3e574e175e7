"""Large fleets are rendered across processes: same bytes, same errors as one process."""

from __future__ import annotations

from pathlib import Path

import pytest

from generator import fleet
from generator.errors import TopologyError


def write_fleet(folder: Path, count: int) -> list[Path]:
    folder.mkdir()
    paths = []
    for i in range(count):
        path = folder / f"s{i:03d}.yaml"
        path.write_text(f"version: 1\nsystem: s{i:03d}\nservers:\n"
                        "  - {name: a, role: main}\n  - {name: b, role: standby}\n"
                        "  - {name: dr, role: permanent_standby}\n")
        paths.append(path)
    return paths


def test_parallel_render_equals_serial(tmp_path: Path) -> None:
    paths = write_fleet(tmp_path / "fleet", fleet.PARALLEL_FROM + 6)
    parallel = fleet.load_and_render(paths)
    serial = fleet.render_tree(fleet.load_systems(paths))
    assert len(parallel) == 2 * len(paths)
    assert parallel == serial


def test_parallel_render_gathers_every_problem(tmp_path: Path) -> None:
    paths = write_fleet(tmp_path / "fleet", fleet.PARALLEL_FROM + 6)
    paths[3].write_text("version: 1\nsystem: s003\nservers:\n  - {name: a, role: boss}\n")
    paths[-1].write_text(paths[0].read_text())  # a second file for system s000
    with pytest.raises(TopologyError) as info:
        fleet.load_and_render(paths)
    messages = [str(p) for p in info.value.problems]
    assert any(m.startswith(f"{paths[3]}:4:") and "unknown role 'boss'" in m for m in messages)
    assert any(m.startswith(f"{paths[-1]}:1:") and "also defined in" in m for m in messages)
