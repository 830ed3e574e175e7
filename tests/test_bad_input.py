"""Bad input is boring: every file of the corpus under tests/data/bad/ gets its message, as
FILE:LINE:COL, exit 2, no traceback, and the output folder stays exactly as it was."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from generator import cli
from tests.conftest import ROOT, run_cli, snapshot

CORPUS = sorted((ROOT / "tests" / "data" / "bad").glob("*.yaml"))
LOCATED = re.compile(r"^.+:\d+:\d+: \S")


def expected_fragment(path: Path) -> str:
    first = path.read_bytes().split(b"\n", 1)[0].decode("utf-8")
    assert first.startswith("# expect: "), f"{path.name} lacks its '# expect:' line"
    return first.removeprefix("# expect: ")


@pytest.fixture
def prefilled(tmp_path: Path) -> Path:
    """An output folder that already holds modules, to prove a failed run changes nothing."""
    out = tmp_path / "out"
    shutil.copytree(ROOT / "modules" / "pump-station", out / "plant-x")
    (out / "notes.txt").write_text("the operator's own file\n")
    return out


def test_the_corpus_is_large_enough() -> None:
    assert len(CORPUS) >= 30


@pytest.mark.parametrize("path", CORPUS, ids=lambda p: p.stem)
def test_bad_topology_is_refused_cleanly(path: Path, prefilled: Path) -> None:
    before = snapshot(prefilled)
    result = run_cli("generate", path, "--out", prefilled)
    assert result.code == 2, result.err
    assert expected_fragment(path) in result.err
    messages = result.err.strip().splitlines()
    assert messages[-1].startswith("scadafw: ")
    assert "nothing was written" in messages[-1]
    assert all(LOCATED.match(m) and m.startswith(str(path)) for m in messages[:-1]), messages
    assert "Traceback" not in result.err
    assert result.out == ""
    assert snapshot(prefilled) == before


@pytest.mark.parametrize("content", [b"", b"\n  \n"], ids=["empty", "blank"])
def test_empty_file(content: bytes, tmp_path: Path, prefilled: Path) -> None:
    path = tmp_path / "empty.yaml"
    path.write_bytes(content)
    result = run_cli("generate", path, "--out", prefilled)
    assert result.code == 2
    assert f"{path}:1:1: file is empty" in result.err


def test_file_over_one_mebibyte_is_refused_unread(tmp_path: Path, prefilled: Path) -> None:
    path = tmp_path / "huge.yaml"
    path.write_bytes(b"# padding\n" * 110_000)
    before = snapshot(prefilled)
    result = run_cli("generate", path, "--out", prefilled)
    assert result.code == 2
    assert "limited to 1048576 (1 MiB)" in result.err
    assert snapshot(prefilled) == before


def test_alias_bomb_is_refused_at_the_first_alias(tmp_path: Path) -> None:
    lines = ["version: 1", "system: x", 'a0: &a0 ["lol", "lol", "lol", "lol", "lol"]']
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, 12)]
    path = tmp_path / "bomb.yaml"
    path.write_text("\n".join(lines) + "\n")
    result = run_cli("generate", path, "--out", tmp_path / "out")
    assert result.code == 2
    assert f"{path}:4:" in result.err
    assert "anchors and aliases" in result.err


def test_all_problems_of_all_files_at_once(tmp_path: Path) -> None:
    result = run_cli("generate", *CORPUS[:5], "--out", tmp_path / "out")
    assert result.code == 2
    for path in CORPUS[:5]:
        assert str(path) in result.err


def test_an_unexpected_error_is_one_line_and_exit_3(monkeypatch: pytest.MonkeyPatch,
                                                    tmp_path: Path) -> None:
    def boom(*_: object) -> None:
        raise RuntimeError("simulated bug")

    monkeypatch.setattr("generator.commands.generate.generate", boom)
    example = ROOT / "examples" / "hot-standby.yaml"
    result = run_cli("generate", example, "--out", tmp_path / "out")
    assert result.code == cli.BUG_EXIT == 3
    assert "This is a bug" in result.err
    assert "simulated bug" in result.err
    assert "Traceback" not in result.err
    debug = run_cli("--debug", "generate", example, "--out", tmp_path / "out")
    assert debug.code == 3
    assert "Traceback" in debug.err
    assert not (tmp_path / "out").exists()
