"""Large fleets are rendered across processes: same bytes, same errors as one process."""

from __future__ import annotations

from pathlib import Path

import pytest

from generator import fleet
from generator.errors import TopologyError
from generator.writer import write_modules


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


def _files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file()}


def test_workers_write_what_one_process_writes(tmp_path: Path) -> None:
    """The fleet's workers write their own chunks into the staging folder (generator/fleet.py,
    `generate`): the same folders and bytes as the one-process writer, the user's files kept,
    no staging folder left behind."""
    paths = write_fleet(tmp_path / "fleet", fleet.PARALLEL_FROM + 6)
    assert fleet._workers(paths) >= 2 or fleet.os.cpu_count() == 1
    one = tmp_path / "one"
    write_modules(one, fleet.render_tree(fleet.load_systems(paths)))
    many = tmp_path / "many"
    (many / "s005" / "aws").mkdir(parents=True)
    (many / "s005" / "aws" / "imports.tf").write_text("# mine\n")
    written = fleet.generate(paths, many)
    assert written == sorted(many / f"s{i:03d}" / t for i in range(len(paths))
                             for t in ("aws", "azure"))
    assert (many / "s005" / "aws" / "imports.tf").read_text() == "# mine\n"
    (many / "s005" / "aws" / "imports.tf").unlink()
    assert _files(many) == _files(one)
    assert [p.name for p in many.iterdir() if p.name.startswith(".")] == []


def test_workers_change_nothing_when_one_file_has_a_problem(tmp_path: Path) -> None:
    paths = write_fleet(tmp_path / "fleet", fleet.PARALLEL_FROM + 6)
    out = tmp_path / "out"
    fleet.generate(paths[:4], out)
    before = _files(out)
    paths[-2].write_text("version: 1\nsystem: late\nservers:\n  - {name: a, role: boss}\n")
    with pytest.raises(TopologyError):
        fleet.generate(paths, out)
    assert _files(out) == before
    assert sorted(p.name for p in out.iterdir()) == ["s000", "s001", "s002", "s003"]
