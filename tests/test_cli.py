"""The command line as a user meets it: help, version, exit codes, and what lands on disk."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from generator import __version__
from tests.conftest import EXAMPLES, run_cli, snapshot, topology_text


def test_version() -> None:
    result = run_cli("--version")
    assert result.code == 0
    assert result.out.strip() == f"scadafw {__version__}"


@pytest.mark.parametrize("command", [[], ["generate"], ["verify"]])
def test_help_answers(command: list[str]) -> None:
    result = run_cli(*command, "--help")
    assert result.code == 0
    assert "usage: scadafw" in result.out
    assert "--help" in result.out


def test_no_command_prints_help_and_exits_2() -> None:
    result = run_cli()
    assert result.code == 2
    assert "generate" in result.err


def test_usage_error_exits_2() -> None:
    result = run_cli("generate", EXAMPLES[0])  # no --out
    assert result.code == 2
    assert "--out" in result.err


def test_generate_writes_only_the_named_targets(
        write_topology: Callable[..., Path], tmp_path: Path) -> None:
    path = write_topology(topology_text(targets="[azure]"))
    result = run_cli("generate", path, "--out", tmp_path / "out")
    assert result.code == 0, result.err
    assert sorted(snapshot(tmp_path / "out")) == [
        f"plant-x/azure/{n}" for n in
        ("README.md", "main.tf", "outputs.tf", "variables.tf", "versions.tf")]
    assert "wrote" in result.out


def test_generate_replaces_a_module_folder_whole(
        write_topology: Callable[..., Path], tmp_path: Path) -> None:
    out = tmp_path / "out"
    path = write_topology(topology_text())
    assert run_cli("generate", path, "--out", out).code == 0
    (out / "plant-x" / "aws" / "stray.tf").write_text("# left by hand\n")
    (out / "unrelated.txt").write_text("keep me\n")
    assert run_cli("generate", path, "--out", out).code == 0
    assert not (out / "plant-x" / "aws" / "stray.tf").exists()
    assert (out / "unrelated.txt").read_text() == "keep me\n"
    assert not [p for p in out.iterdir() if p.name.startswith(".scadafw-")]


def test_a_bad_topology_among_good_ones_changes_nothing(
        write_topology: Callable[..., Path], tmp_path: Path) -> None:
    out = tmp_path / "out"
    good = write_topology(topology_text(system="good"))
    assert run_cli("generate", good, "--out", out).code == 0
    before = snapshot(out)
    changed = write_topology(topology_text(system="good", port=6000))
    bad = write_topology("version: 1\nsystem: other\nservers:\n  - {name: a, role: boss}\n",
                         "bad.yaml")
    result = run_cli("generate", changed, bad, "--out", out)
    assert result.code == 2
    assert f"{bad}:4:" in result.err
    assert "unknown role 'boss'" in result.err
    assert "nothing was written" in result.err
    assert "Traceback" not in result.err
    assert snapshot(out) == before


def test_two_files_for_one_system_are_refused(
        write_topology: Callable[..., Path], tmp_path: Path) -> None:
    a = write_topology(topology_text(system="same"))
    b = write_topology(topology_text(system="same"))
    result = run_cli("generate", a, b, "--out", tmp_path / "out")
    assert result.code == 2
    assert "also defined in" in result.err
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(("setup", "fragment"), [
    (lambda d: d / "missing.yaml", "no such file"),
    (lambda d: d, "is a directory"),
])
def test_unreadable_input_is_a_clear_message(setup: Callable[[Path], Path], fragment: str,
                                             tmp_path: Path) -> None:
    result = run_cli("generate", setup(tmp_path), "--out", tmp_path / "out")
    assert result.code == 2
    assert fragment in result.err
    assert "Traceback" not in result.err


def test_out_that_is_a_file_is_refused(write_topology: Callable[..., Path],
                                       tmp_path: Path) -> None:
    target = tmp_path / "file"
    target.write_text("x")
    result = run_cli("generate", write_topology(topology_text()), "--out", target)
    assert result.code == 2
    assert "not a directory" in result.err
    assert target.read_text() == "x"


def test_verify_passes_on_the_examples() -> None:
    result = run_cli("verify", *EXAMPLES)
    assert result.code == 0, result.out + result.err
    assert result.out.count("checks: exact") == 2 * len(EXAMPLES) + 2  # + 2 whole systems


def test_verify_without_modules_is_a_usage_error(tmp_path: Path) -> None:
    result = run_cli("verify", EXAMPLES[0], "--modules", tmp_path)
    assert result.code == 2
    assert "no module folder" in result.err
