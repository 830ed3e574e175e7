"""Topology files are read as YAML 1.2 (core schema), and no plain scalar is read one way by
scadafw and another way by the YAML 1.1 tools a plant's engineers also use.

Oracles: the YAML 1.2.2 specification's core-schema example (10.9) for what a scalar is, and
PyYAML's own YAML 1.1 reading for what another tool would make of the same text."""

from __future__ import annotations

import datetime
import math
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from generator.errors import TopologyError
from generator.topology.yaml_source import load_spanned


def read(tmp_path: Path, text: str) -> Any:
    path = tmp_path / "t.yaml"
    path.write_text(f"value: {text}\n")
    return load_spanned(path).value["value"].value


def refusal(tmp_path: Path, text: str) -> str:
    path = tmp_path / "t.yaml"
    path.write_text(f"value: {text}\n")
    with pytest.raises(TopologyError) as caught:
        load_spanned(path)
    assert len(caught.value.problems) == 1
    problem = caught.value.problems[0]
    assert (problem.line, problem.column) == (1, 8)
    return problem.message


# YAML 1.2.2, example 10.9 "Core Tag Resolution", where YAML 1.1 agrees
SPEC_CORE = [
    ("null", None), ("", None), ("~", None), ('""', ""),
    ("true", True), ("True", True), ("false", False), ("FALSE", False),
    ("0", 0), ("0x3A", 58), ("-19", -19),
    ("0.", 0.0), ("-0.0", -0.0), (".5", 0.5),
    (".inf", math.inf), ("-.Inf", -math.inf), ("+.INF", math.inf),
]


@pytest.mark.parametrize(("text", "expected"), SPEC_CORE, ids=[t or "empty" for t, _ in SPEC_CORE])
def test_the_core_schema_reads_as_the_specification_says(
        tmp_path: Path, text: str, expected: Any) -> None:
    value = read(tmp_path, text)
    assert (type(value), value) == (type(expected), expected)


def test_not_a_number_is_a_number(tmp_path: Path) -> None:
    assert math.isnan(read(tmp_path, ".NAN"))


@pytest.mark.parametrize("word", ["yes", "no", "on", "off", "Yes", "NO", "On", "OFF"])
def test_yaml_1_1_booleans_are_the_words_they_are(tmp_path: Path, word: str) -> None:
    assert yaml.safe_load(f"v: {word}")["v"] in (True, False)  # what YAML 1.1 would make of it
    assert read(tmp_path, word) == word


def test_dates_stay_text(tmp_path: Path) -> None:
    assert isinstance(yaml.safe_load("v: 2026-12-02")["v"], datetime.date)
    assert read(tmp_path, "2026-12-02") == "2026-12-02"


@pytest.mark.parametrize(("text", "hint"), [
    ("05461", "write 5461, or '05461' (quoted)"),
    ("-012", "write -12, or '-012' (quoted)"),
    ("08", "write 8, or '08' (quoted)"),
    ("1:31:21", "write 5481 if you mean the number, or '1:31:21' (quoted)"),
    ("0o7", "'0o7' (quoted)"),  # 1.2: 7; 1.1: text
    ("+12e03", "'+12e03' (quoted)"),  # 1.2: 12000.0; 1.1: text
    ("1_000", "'1_000' (quoted)"),  # 1.1: 1000; 1.2: text
    ("0b101", "'0b101' (quoted)"),  # 1.1: 5; 1.2: text
])
def test_numbers_the_versions_read_apart_are_refused_with_the_quoted_form(
        tmp_path: Path, text: str, hint: str) -> None:
    assert hint in refusal(tmp_path, text)


def test_an_unquoted_ipv6_address_that_1_1_reads_as_a_number_says_to_quote_it(
        tmp_path: Path) -> None:
    assert "quote it ('1:2:3:4:5:6:7:8')" in refusal(tmp_path, "1:2:3:4:5:6:7:8")


@pytest.mark.parametrize("text", ["'05461'", '"1:31:21"', "!!str 05461", "'no'"])
def test_quoted_or_tagged_text_is_text(tmp_path: Path, text: str) -> None:
    assert read(tmp_path, text) == yaml.safe_load(f"v: {text}")["v"]


NUMBERISH = st.text(alphabet="0123456789:_.+-eEoxXbBaAfF", min_size=1, max_size=9)


@settings(max_examples=400, deadline=None)
@given(NUMBERISH)
def test_no_plain_scalar_means_a_number_to_one_version_and_else_to_the_other(text: str) -> None:
    """Whatever scadafw accepts, YAML 1.1 reads alike: the same number, or not a number."""
    import tempfile  # noqa: PLC0415 (hypothesis and the tmp_path fixture do not mix)

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "t.yaml"
        path.write_text(f"value: {text}\n")
        try:
            ours = load_spanned(path).value["value"].value
        except TopologyError:
            return
    try:
        theirs = yaml.safe_load(f"value: {text}\n")["value"]
    except yaml.YAMLError:
        return  # not YAML 1.1 at all: no second reading to disagree with
    numbers = (int, float)
    if isinstance(ours, numbers) or (isinstance(theirs, numbers) and not isinstance(theirs, bool)):
        assert type(ours) is type(theirs), (text, ours, theirs)
        assert ours == theirs or (math.isnan(ours) and math.isnan(theirs)), (text, ours, theirs)


def test_a_scalar_reads_by_its_text_tag_and_style_whatever_was_read_before(
        tmp_path: Path) -> None:
    """Scalars are read once per run and remembered (yaml_source.py): the same text quoted, as
    plain text, or with a tag, each reads as itself, in either order."""
    for _ in range(2):
        assert read(tmp_path, "'05461'") == "05461"
        assert "leading zero" in refusal(tmp_path, "05461")
        assert read(tmp_path, '"true"') == "true"
        assert read(tmp_path, "true") is True
        assert read(tmp_path, "!!str true") == "true"
        assert "unsupported YAML tag !!binary" in refusal(tmp_path, "!!binary dHJ1ZQ==")
