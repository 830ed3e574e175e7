"""Emitted text: deterministic, formatted as `terraform fmt` formats it, escaped, up to date."""

from __future__ import annotations

import json
import os
import random
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import hcl2
import jinja2
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from generator.hcl import hcl_comment, hcl_identifier, hcl_string
from generator.sources.terraform import Terraform
from generator.targets import render_system
from generator.targets.module import hcl_environment, single_blank_lines
from generator.targets.tables import markdown_cell
from generator.topology import load_topology
from tests.conftest import EXAMPLES, HCL_OPTIONS, ROOT, need_terraform, run_cli, snapshot
from tests.hcl_layout import format_hcl
from tests.strategies import topologies


def test_committed_modules_equal_a_fresh_generate(tmp_path: Path) -> None:
    result = run_cli("generate", *EXAMPLES, "--out", tmp_path)
    assert result.code == 0, result.err
    fresh, committed = snapshot(tmp_path), snapshot(ROOT / "modules")
    stale = sorted(k for k in fresh.keys() | committed.keys()
                   if fresh.get(k) != committed.get(k))
    assert not stale, f"modules/ is stale, run `make generate`: {stale}"


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.stem)
def test_output_does_not_depend_on_input_order(example: Path, tmp_path: Path) -> None:
    doc = yaml.safe_load(example.read_text())
    rng = random.Random(7)
    shuffled = {k: doc[k] for k in rng.sample(list(doc), len(doc))}
    shuffled["servers"] = [dict(rng.sample(list(s.items()), len(s)))
                           for s in rng.sample(doc["servers"], len(doc["servers"]))]
    copy = tmp_path / "in" / example.name  # same file name: the header names it
    copy.parent.mkdir()
    copy.write_text(yaml.safe_dump(shuffled, sort_keys=False))
    assert run_cli("generate", example, "--out", tmp_path / "a").code == 0
    assert run_cli("generate", copy, "--out", tmp_path / "b").code == 0
    assert snapshot(tmp_path / "a") == snapshot(tmp_path / "b")


def test_emitted_hcl_is_formatted_as_terraform_fmt_formats_it(tmp_path: Path) -> None:
    """The real `terraform fmt` (the binary on PATH) over every emitted and example file."""
    need_terraform()
    terraform = Terraform.prepare(tmp_path)
    shutil.copytree(ROOT / "modules", tmp_path / "modules")
    shutil.copytree(ROOT / "examples", tmp_path / "examples")
    check = terraform.fmt_check(tmp_path)
    assert check.returncode == 0, check.stdout
    # and the oracle does say no to unformatted text
    (tmp_path / "bad.tf").write_text('resource "a" "b" {\n  x = 1\n  long_name = 2\n}\n')
    assert terraform.fmt_check(tmp_path).returncode == 3


def test_format_hcl_aligns_and_indents_like_fmt() -> None:
    text = 'a {\nx = 1\nlong_name = "v = 2"\n\ntags = merge(var.t, {\nK = "v"\n})\n}\n'
    assert format_hcl(text) == (
        'a {\n  x         = 1\n  long_name = "v = 2"\n\n  tags = merge(var.t, {\n'
        '    K = "v"\n  })\n}\n')


HOSTILE = [
    'quote " inside', "back\\slash", "${var.secret}", "%{ if true }x%{ endif }", "line\nbreak",
    "tab\tand\rcarriage", "$${already}", "%%{already}", 'end\\"', "unicode é ✓ 中", "\x00\x1f",
    "#comment", "// c", "/* c */", "}\n}\nresource \"x\" \"y\" {", "$", "%", "${", "\\${x}",
]


def _read_back(literal: str) -> str:
    value = hcl2.loads(f"x = {literal}\n", serialization_options=HCL_OPTIONS)["x"]
    assert isinstance(value, str)
    return value


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_strings_round_trip_through_hcl(text: str) -> None:
    literal = hcl_string(text)
    assert _read_back(literal) == text
    assert "\n" not in literal


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=40))
def test_any_string_round_trips_through_hcl(text: str) -> None:
    assert _read_back(hcl_string(text)) == text


def test_templates_refuse_a_string_that_skipped_the_filter() -> None:
    template = hcl_environment().from_string("x = {{ value }}")
    with pytest.raises(TypeError, match="unescaped"):
        template.render(value="${evil}")
    assert template.render(value=hcl_string("${evil}")) == 'x = "\\u0024{evil}"'
    assert template.render(value=5481) == "x = 5481"


@given(st.text())
def test_comment_text_is_one_line_of_printable_ascii(text: str) -> None:
    """Each code point outside printable ASCII becomes one "?": nothing can end a comment."""
    shown = hcl_comment(text)
    assert len(shown) == len(text)
    assert all(0x20 <= ord(ch) <= 0x7e for ch in shown)
    assert all(a == b for a, b in zip(shown, text, strict=True) if 0x20 <= ord(b) <= 0x7e)


@given(st.text())
def test_a_markdown_cell_stays_one_cell_of_text(text: str) -> None:
    """No pipe ends the cell, no line break ends the row, no tag reaches the rendered page;
    every other character is kept."""
    shown = markdown_cell(text)
    assert not {"\n", "\r", "<", ">"} & set(shown)
    assert "|" not in shown.replace("\\|", "")
    expected = text
    for old, new in (("|", "\\|"), ("\n", " "), ("\r", " "), ("<", "&lt;"), (">", "&gt;")):
        expected = expected.replace(old, new)
    assert shown == expected


def test_identifiers_are_checked() -> None:
    assert hcl_identifier("redundant_from_dmz") == "redundant_from_dmz"
    with pytest.raises(ValueError, match="not an HCL identifier"):
        hcl_identifier('x" {')


@given(st.text(alphabet="ab\n"))
def test_a_readme_never_has_two_blank_lines_in_a_row(text: str) -> None:
    assert single_blank_lines(text) == re.sub(r"\n{3,}", "\n\n", text)


def test_undefined_template_values_fail_loudly() -> None:
    with pytest.raises((jinja2.UndefinedError, TypeError)):
        hcl_environment().from_string("{{ missing }}").render()


def test_scadafw_runs_as_a_module(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "generator", "--version"],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0
    assert done.stdout.startswith("scadafw ")


@pytest.mark.parametrize(("args", "code", "stream", "expected"), [
    (["flows", "examples/dmz.yaml"], 0, "stdout", "plant-north: 16 flows"),
    (["flows", "examples/dmz.yaml", "--format", "json"], 0, "stdout", '"flows"'),
    (["flows", "missing.yaml"], 2, "stderr", "missing.yaml:1:1: no such file"),
    (["flows"], 2, "stderr", "usage: scadafw flows"),
    (["--help"], 0, "stdout", "usage: scadafw"),
])
def test_the_command_exits_with_its_code_and_all_its_output(
        args: list[str], code: int, stream: str, expected: str) -> None:
    """The command ends with a hard exit (generator/cli.py, `run`): what it printed must still
    arrive whole through a pipe, with main's exit code."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}  # buffered, as a pipe is
    done = subprocess.run([sys.executable, "-m", "generator", *args], capture_output=True,
                          text=True, check=False, cwd=ROOT, env=env)
    assert done.returncode == code, done.stderr
    assert expected in getattr(done, stream)
    if "json" in args:  # the whole document, not a buffer's worth
        assert json.loads(done.stdout)["flows"]


def test_generate_is_fast_enough_to_be_called_in_a_loop(
        write_topology: Callable[..., Path]) -> None:
    # not a timing test (that is `make bench`): a sanity bound on work, 20 systems in one call
    paths = [write_topology(f"version: 1\nsystem: s{i}\nservers:\n  - {{name: a, role: main}}\n"
                            "  - {name: b, role: standby}\n") for i in range(20)]
    out = paths[0].parent / "many"
    assert run_cli("generate", *paths, "--out", out).code == 0
    assert len(list(out.glob("*/*/main.tf"))) == 40


@settings(max_examples=100, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(doc=topologies())
def test_every_emitted_file_is_already_in_fmt_layout(doc: dict[str, object],
                                                     tmp_path: Path) -> None:
    """Templates are written in `terraform fmt`'s layout and used as rendered: re-formatting
    any emitted file (the layout rules of hclwrite, in format_hcl) must change nothing."""
    path = tmp_path / "t.yaml"
    path.write_text(yaml.safe_dump(doc))
    for files in render_system(load_topology(path)).values():
        for name, text in files.items():
            if name.endswith(".tf"):
                assert format_hcl(text) == text, name
