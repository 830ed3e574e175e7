"""Loading topology files: what is accepted, and every problem reported at once with its place."""

from __future__ import annotations

import ipaddress
import os
import pickle
import subprocess
import sys
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest

from generator.errors import TopologyError
from generator.model import DEFAULT_PORT, Role, Target
from generator.topology import load_topology
from tests.conftest import EXAMPLES, ROOT


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.stem)
def test_examples_load(example: Path) -> None:
    system = load_topology(example)
    assert system.servers
    assert [s.name for s in system.servers] == sorted(s.name for s in system.servers)


def test_a_system_is_the_same_dictionary_key_in_every_interpreter() -> None:
    """A system keeps its hash once computed (model.py); one pickled by an interpreter with
    another hash seed must still find, and be found by, the equal system read here."""
    example = EXAMPLES[0]
    here = load_topology(example)
    hash(here)  # computed and kept before the copy is made, as the caches do
    code = ("import pickle, sys; from pathlib import Path; "
            "from generator.topology import load_topology; "
            "s = load_topology(Path(sys.argv[1])); hash(s); "
            "sys.stdout.buffer.write(pickle.dumps(s))")
    pickled = subprocess.run([sys.executable, "-c", code, str(example)], check=True,
                             capture_output=True, env={**os.environ, "PYTHONHASHSEED": "12345"},
                             cwd=ROOT).stdout
    there = pickle.loads(pickled)
    assert there == here
    assert {there: "found"}.get(here) == "found"
    assert {here: "found"}.get(there) == "found"
    assert hash(replace(here, name="other")) != hash(here)


def test_defaults_and_values(write_topology: Callable[..., Path]) -> None:
    path = write_topology("""\
        version: 1
        system: plant-x
        servers:
          - {name: b, role: standby, addresses: ["fd00::2", 10.0.0.2]}
          - {name: a, role: main}
        """)
    system = load_topology(path)
    assert system.port == DEFAULT_PORT == 5481
    assert system.targets == (Target.AWS, Target.AZURE)
    assert [(s.name, s.role) for s in system.servers] == [("a", Role.MAIN), ("b", Role.STANDBY)]
    assert system.servers[1].addresses == (ipaddress.ip_address("fd00::2"),
                                           ipaddress.ip_address("10.0.0.2"))
    assert system.source == path.name


def problems_of(path: Path) -> list[str]:
    with pytest.raises(TopologyError) as info:
        load_topology(path)
    return [str(p) for p in info.value.problems]


BASE = """\
version: 1
system: plant-x
servers:
  - {name: scada-a, role: main}
"""

# (topology text, (line, message fragment)): one problem each, at a known line.
BAD = {
    "version-3": (BASE.replace("version: 1", "version: 3"), (1, "version must be 1 or 2")),
    "version-bool": (BASE.replace("version: 1", "version: true"), (1, "version must be 1")),
    "system-upper": (BASE.replace("plant-x", "Plant-X"), (2, "system 'Plant-X' must match")),
    "system-long": (BASE.replace("plant-x", "p" * 41), (2, "must match")),
    "port-zero": (BASE + "port: 0\n", (5, "port must be from 1 to 65535, got 0")),
    "port-high": (BASE + "port: 65536\n", (5, "port must be from 1 to 65535, got 65536")),
    "port-string": (BASE + "port: '5481'\n", (5, "port must be an integer")),
    "port-bool": (BASE + "port: yes\n", (5, "port must be an integer")),
    "unknown-key": (BASE + "prot: 5481\n", (5, "unknown key 'prot' in the topology "
                                           "(did you mean 'port'?)")),
    "unknown-target": (BASE + "targets: [aws, gcp]\n", (5, "unknown target 'gcp'")),
    "role-typo": (BASE + "  - {name: b, role: standyb}\n", (5, "did you mean 'standby'")),
    "two-mains": (BASE + "  - {name: b, role: main}\n", (5, "exactly one 'main'")),
    "duplicate-name": (BASE + "  - {name: scada-a, role: standby}\n",
                       (5, "duplicate server name 'scada-a' (first at line 4)")),
    "duplicate-key": (BASE + "system: other\n", (5, "duplicate key 'system' (first at line 2)")),
    "server-key-typo": (BASE + "  - {name: b, role: standby, adresses: [10.0.0.1]}\n",
                        (5, "unknown key 'adresses' in a server (did you mean 'addresses'?)")),
    "cidr-address": (BASE + "  - {name: b, role: standby, addresses: [10.0.0.0/24]}\n",
                     (5, "is a network")),
    "open-address": (BASE + "  - {name: b, role: standby, addresses: [0.0.0.0/0]}\n",
                     (5, "is a network")),
    "not-an-address": (BASE + "  - {name: b, role: standby, addresses: [scada-b.local]}\n",
                       (5, "is not an IPv4 or IPv6 address")),
    "same-address": (BASE + "  - {name: b, role: standby, addresses: [10.0.0.1]}\n"
                     "  - {name: c, role: permanent_standby, addresses: [10.0.0.1]}\n",
                     (6, "address 10.0.0.1 is used twice (first at line 5)")),
}


@pytest.mark.parametrize(("text", "expected"), BAD.values(), ids=BAD.keys())
def test_bad_topology_names_line_and_field(text: str, expected: tuple[int, str],
                                           write_topology: Callable[..., Path]) -> None:
    path = write_topology(text, "bad.yaml")
    problems = problems_of(path)
    line, fragment = expected
    assert any(p.startswith(f"{path}:{line}:") and fragment in p for p in problems), problems


def test_limits_one_past_the_edge(write_topology: Callable[..., Path]) -> None:
    servers = "\n".join(f"  - {{name: s{i}, role: {role}}}" for i, role in enumerate(
        ["main", "standby", "standby", "standby"]))
    assert any("at most 2 servers may have role 'standby'" in p
               for p in problems_of(write_topology(BASE + servers.split("\n", 1)[1] + "\n")))
    pair = BASE + "  - {name: b, role: standby}\n" + "".join(
        f"  - {{name: p{i}, role: permanent_standby}}\n" for i in range(5))
    assert any("at most 4 permanent standbys" in p for p in problems_of(write_topology(pair)))
    triple = BASE + "  - {name: b, role: standby}\n  - {name: c, role: standby}\n" + "".join(
        f"  - {{name: p{i}, role: dmz_permanent_standby}}\n" for i in range(4))
    assert any("at most 3 permanent standbys" in p for p in problems_of(write_topology(triple)))


def test_at_the_limits_is_accepted(write_topology: Callable[..., Path]) -> None:
    pair = BASE + "  - {name: b, role: standby}\n" + "".join(
        f"  - {{name: p{i}, role: permanent_standby}}\n" for i in range(4))
    assert len(load_topology(write_topology(pair)).servers) == 6
    triple = BASE + "  - {name: b, role: standby}\n  - {name: c, role: standby}\n" + "".join(
        f"  - {{name: p{i}, role: permanent_standby}}\n" for i in range(3))
    assert len(load_topology(write_topology(triple)).servers) == 6


def test_every_problem_is_reported_at_once(write_topology: Callable[..., Path]) -> None:
    path = write_topology("""\
        version: 3
        system: Bad_Name
        port: 0
        colour: blue
        servers:
          - {name: a, role: standby}
          - {name: a, role: boss}
        """)
    problems = problems_of(path)
    assert len(problems) == 5, problems
    lines = sorted(int(p.split(":")[1]) for p in problems)
    assert {1, 2, 3, 4, 7} <= set(lines)
    # 'boss' may have been meant as the main: its one message says so, no second one
    assert not any("none found" in p for p in problems)


def test_no_main_at_all(write_topology: Callable[..., Path]) -> None:
    path = write_topology("version: 1\nsystem: x\nservers:\n  - {name: a, role: standby}\n")
    assert any("exactly one server with role 'main'; none found" in p for p in problems_of(path))


MAIN_FAULTS = {
    "a bad address": '{name: scada-a, role: main, addresses: ["fe80::1"]}',
    "a duplicate address": "{name: scada-a, role: main, addresses: [10.0.0.2]}",
    "an address that is not one": "{name: scada-a, role: main, addresses: [scada-a.local]}",
    "a bad name": "{name: Scada_A, role: main}",
    "a role typo": "{name: scada-a, role: mian}",
    "a missing name": "{role: main, addresses: [10.0.0.1]}",
    "an IPv6 address YAML 1.1 reads as a number": "{name: scada-a, role: main, "
                                                   "addresses: [1:2:3:4:5:6:7:8]}",
}


@pytest.mark.parametrize("fault", MAIN_FAULTS.values(), ids=MAIN_FAULTS.keys())
def test_one_root_cause_gives_one_message(write_topology: Callable[..., Path], fault: str) -> None:
    path = write_topology(f"""\
        version: 1
        system: plant-x
        servers:
          - {{name: scada-b, role: standby, addresses: [10.0.0.2]}}
          - {fault}
        """)
    problems = problems_of(path)
    assert len(problems) == 1, problems
