"""The fast paths give what the plain paths give: verify's parallel and cached verdicts, the
cached HCL reader, generate's parallel rendering (issue "fleet speed")."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import hcl2
import pytest
from hcl2 import SerializationOptions

from generator.checks import fleet
from generator.checks.report import Report
from generator.checks.verify import verify_systems
from generator.fleet import generate, load_systems
from generator.sources import hcl_read
from tests.conftest import EXAMPLES, ROOT, run_cli

_IDS = re.compile(r"\b(sg|eni|vpc|sgr)-[0-9a-f]+\b")


def _verdicts(reports: list[Report]) -> list[Any]:
    """Everything a report says, but the ids moto makes up afresh on each run."""
    return [(r.system, r.target, r.module,
             [(f.code, f.place, _IDS.sub("ID", f.message), f.note) for f in r.findings],
             [(c.link, c.inbound, c.query, c.admitted, c.intent) for c in r.classes],
             r.parties) for r in reports]


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("SCADAFW_CACHE_DIR", str(tmp_path / "cache" / "scadafw"))
    monkeypatch.delenv("SCADAFW_CACHE", raising=False)
    hcl_read._cache_folder.cache_clear()
    yield tmp_path / "cache"
    hcl_read._cache_folder.cache_clear()


@pytest.fixture
def modules(tmp_path: Path) -> Path:
    copy = tmp_path / "modules"
    shutil.copytree(ROOT / "modules", copy)
    # one module edited by hand, so the comparison covers a failing verdict too
    tf = copy / "plant-north" / "azure" / "main.tf"
    text = tf.read_text()
    tf.write_text(text.replace("priority                    = 4010", "priority = 4999", 1))
    return copy


def test_parallel_and_cached_verdicts_equal_the_plain_path(
        cache: Path, modules: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    systems = load_systems(EXAMPLES)
    plain = verify_systems(systems, modules)
    assert any(not r.ok for r in plain)  # the edited module fails
    monkeypatch.setattr(fleet, "PARALLEL_FROM", 2)
    parallel = fleet.verify_fleet(systems, modules)  # cold: computed on every core
    assert _verdicts(parallel) == _verdicts(plain)
    assert len(list((cache / "scadafw" / "verdicts").glob("*.json"))) == len(systems)

    def no_work(*_: object) -> None:
        raise AssertionError("a cached system was verified again")

    monkeypatch.setattr(fleet, "_run", no_work)
    cached = fleet.verify_fleet(systems, modules)
    assert _verdicts(cached) == _verdicts(plain)


def _aws_placed_last(tmp_path: Path) -> tuple[Path, Path]:
    """hybrid-dr with its AWS network renamed to sort last, generated afresh."""
    topology = tmp_path / "hybrid-dr.yaml"
    topology.write_text((ROOT / "examples" / "hybrid-dr.yaml").read_text()
                        .replace("dmz-vpc", "z-dmz-vpc"))
    out = tmp_path / "aws-last"
    generate([topology], out)
    return topology, out


@pytest.mark.parametrize("example", ["dmz.yaml", "hybrid-dr.yaml", "aws placed last"])
def test_one_system_verifies_its_modules_side_by_side_and_says_the_same(
        example: str, modules: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """One system with an AWS module and others: the AWS modules in this process, the others
    (Azure, perimeter, Windows) in a forked one, the reports in the placements' order."""
    monkeypatch.setenv("SCADAFW_CACHE", "off")
    topology = ROOT / "examples" / example
    if example == "aws placed last":
        topology, modules = _aws_placed_last(tmp_path)
    (system,) = load_systems([topology])
    plain = verify_systems([system], modules)
    if example == "dmz.yaml":
        assert any(not r.ok for r in plain)  # the fixture's edited Azure module
    else:
        assert all(r.ok for r in plain)
    split = fleet._split_one(system, modules)
    assert split is not None
    assert len({r.target for r in split}) >= 2
    assert _verdicts(split) == _verdicts(plain)
    assert _verdicts(fleet.verify_fleet([system], modules)) == _verdicts(plain)


def test_a_changed_byte_is_judged_afresh(cache: Path, modules: Path,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    (system,) = load_systems([ROOT / "examples" / "dmz.yaml"])
    first = fleet.verify_fleet([system], modules)
    tf = modules / "plant-north" / "aws" / "main.tf"
    tf.write_text(tf.read_text().replace(
        "from_port                    = 5481\n  to_port                      = 5481",
        "from_port                    = 5482\n  to_port                      = 5482", 1))
    ran: list[int] = []
    real = fleet._run

    def counted(systems: list[Any], folder: Path) -> Any:
        ran.append(len(systems))
        return real(systems, folder)

    monkeypatch.setattr(fleet, "_run", counted)
    second = fleet.verify_fleet([system], modules)
    assert ran == [1]
    assert _verdicts(second) != _verdicts(first)
    assert not all(r.ok for r in second)


def test_cache_off_computes_everything(cache: Path, modules: Path,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SCADAFW_CACHE", "off")
    systems = load_systems([ROOT / "examples" / "hot-standby.yaml"])
    fleet.verify_fleet(systems, modules)
    assert not (cache / "scadafw" / "verdicts").exists()


def test_the_fast_reader_equals_python_hcl2(cache: Path) -> None:
    options = SerializationOptions(strip_string_quotes=True, explicit_blocks=False,
                                   with_comments=False)
    files = sorted((ROOT / "modules").glob("*/*/*.tf"))
    assert len(files) > 40
    for path in files:
        text = path.read_text()
        expected = hcl2.loads(text, serialization_options=options)
        assert hcl_read.parse_uncached(text) == expected, path
        assert hcl_read.parse_text(text) == expected, path  # stored
        assert hcl_read.parse_text(text) == expected, path  # read back


def test_parallel_generate_equals_one_process(tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    import generator.fleet as generate_fleet  # noqa: PLC0415

    topologies = tmp_path / "topologies"
    topologies.mkdir()
    for example in EXAMPLES:
        shutil.copy(example, topologies / example.name)
    assert run_cli("generate", topologies, "--out", tmp_path / "one").code == 0
    monkeypatch.setattr(generate_fleet, "PARALLEL_FROM", 2)
    assert run_cli("generate", topologies, "--out", tmp_path / "many").code == 0
    one = {p.relative_to(tmp_path / "one"): p.read_bytes()
           for p in (tmp_path / "one").rglob("*") if p.is_file()}
    many = {p.relative_to(tmp_path / "many"): p.read_bytes()
            for p in (tmp_path / "many").rglob("*") if p.is_file()}
    assert one == many
