"""Azure priorities stay put: a rule's priority depends only on what the rule is, the ranges a
module says are free can never be filled by a change to the topology, and `diff` warns when a
change does move a priority (a rule of the caller's at the new one fails the apply)."""

from __future__ import annotations

import zlib
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from generator.errors import TopologyError
from generator.targets import render_system
from generator.topology import load_topology
from tests.conftest import ROOT, parse_hcl, resources, run_cli

HYBRID = ROOT / "examples" / "hybrid-dr.yaml"


def _pair_sharing_a_slot(stem: str, count: int) -> tuple[str, str]:
    """Two names whose CRC-32 modulo `count` is the same (worked out here, not by scadafw)."""
    seen: dict[int, str] = {}
    for i in range(1000):
        name = f"{stem}-{i}"
        slot = zlib.crc32(name.encode()) % count
        if slot in seen:
            return seen[slot], name
        seen[slot] = name
    raise AssertionError("no two names share a slot")


def _free(folder: Path) -> list[tuple[int, int]]:
    outputs = {k: v for block in parse_hcl(folder / "outputs.tf")["output"]
               for k, v in block.items()}
    return [(r["first"], r["last"]) for r in outputs["free_priority_ranges"]["value"]]


def _priorities(folder: Path) -> dict[str, int]:
    rules = resources(folder / "main.tf")["azurerm_network_security_rule"]
    return {name: r["priority"] for name, r in rules.items()}


def _generate(tmp_path: Path, text: str, name: str) -> Path:
    topology = tmp_path / f"{name}.yaml"
    topology.write_text(text)
    out = tmp_path / name
    result = run_cli("generate", topology, "--out", out)
    assert result.code == 0, result.err
    return out


def test_growing_the_hybrid_example_puts_no_rule_in_a_range_it_said_was_free(
        tmp_path: Path) -> None:
    """The reported case: a standby added to the DR VNet, and an outstation."""
    before = _generate(tmp_path, HYBRID.read_text(), "before")
    grown = HYBRID.read_text().replace(
        "  - {name: scada-dmz,",
        "  - {name: scada-dr2, role: standby, network: dr-vnet, addresses: [10.20.1.11]}\n"
        "  - {name: scada-dmz,") + (
        "outstations:\n"
        "  - {name: wells, addresses: [10.60.0.0/22], protocol: tcp, ports: [20000]}\n")
    after = _generate(tmp_path, grown, "after")
    free = _free(before / "river-east" / "dr-vnet")
    new = _priorities(after / "river-east" / "dr-vnet")
    assert len(new) > len(_priorities(before / "river-east" / "dr-vnet"))
    inside = {n: p for n, p in new.items() for a, b in free if a <= p <= b}
    assert not inside, (free, inside)
    assert _free(after / "river-east" / "dr-vnet") == free  # and the promise itself holds


def _system_text(clients: list[str], offset: int) -> str:
    lines = ["version: 2", "system: plant-x", "targets: [azure]",
             f"azure: {{priority_offset: {offset}}}", "servers:",
             "  - {name: scada-a, role: main, addresses: [10.0.0.10]}",
             "  - {name: scada-b, role: standby, addresses: [10.0.0.11]}",
             "  - {name: scada-dmz, role: dmz_permanent_standby, addresses: [10.9.0.10]}",
             "clients:"]
    lines += [f"  - {{name: {n}, sources: [10.{50 + i}.0.0/24], services: [viewx, web, advise],"
              f" connects_to: [redundant, dmz_permanent_standby]}}"
              for i, n in enumerate(clients)]
    return "\n".join(lines if clients else lines[:-1]) + "\n"


def _rules(tmp_path: Path, text: str) -> dict[str, int]:
    path = tmp_path / "t.yaml"
    path.write_text(text)
    files = render_system(load_topology(path))["azure"]
    target = tmp_path / "module"
    target.mkdir(exist_ok=True)
    (target / "main.tf").write_text(files["main.tf"])
    (target / "outputs.tf").write_text(files["outputs.tf"])
    return _priorities(target)


NAMES = st.lists(st.from_regex(r"[a-z]{3,8}", fullmatch=True), min_size=1, max_size=4,
                 unique=True).filter(
    lambda names: len({zlib.crc32(n.encode()) % 100 for n in names}) == len(names))


@settings(max_examples=15, deadline=None)
@given(names=NAMES, offset=st.sampled_from([-1000, -500, 0, 50]))
def test_adding_a_client_moves_no_other_rule_and_stays_out_of_the_free_ranges(
        tmp_path_factory: object, names: list[str], offset: int) -> None:
    tmp_path = tmp_path_factory.mktemp("p")  # type: ignore[attr-defined]
    before = _rules(tmp_path, _system_text(names[:-1], offset))
    after = _rules(tmp_path, _system_text(names, offset))
    assert {n: after[n] for n in before} == before  # no rule that was there moved
    free = _free(tmp_path / "module")
    promised = [(100, 1099 + offset), (4050 + offset, 4096)]  # README, "Rules and priorities"
    assert free == [(a, b) for a, b in promised if a <= b]
    assert not [p for p in after.values() for a, b in free if a <= p <= b]


def test_two_names_on_one_slot_are_refused_naming_both_with_a_free_slot(tmp_path: Path) -> None:
    first, second = _pair_sharing_a_slot("ops", 100)
    path = tmp_path / "t.yaml"
    path.write_text(_system_text([first, second], 0))
    result = run_cli("generate", path, "--out", tmp_path / "out")
    assert result.code == 2
    slot = zlib.crc32(first.encode()) % 100
    later = max(first, second)
    assert f"{path}:{11 if later == second else 10}:" in result.err
    assert (f"client '{later}' takes Azure priority slot {slot} from its name, and client "
            f"'{min(first, second)}'") in result.err
    assert f"`azure_slot: {(slot + 1) % 100}`" in result.err
    assert not (tmp_path / "out").exists()
    # taking the advice gives the later one exactly that slot, and leaves the other alone
    path.write_text(_system_text([first, second], 0).replace(
        f"name: {later},", f"name: {later}, azure_slot: {(slot + 1) % 100},"))
    rules = _rules(tmp_path, path.read_text())
    viewx = {n: p for n, p in rules.items() if n.startswith("redundant_in_from_client")
             and n.endswith("_viewx")}
    assert viewx == {f"redundant_in_from_client_{min(first, second).replace('-', '_')}_viewx":
                     2000 + 10 * slot + 1,
                     f"redundant_in_from_client_{later.replace('-', '_')}_viewx":
                     2000 + 10 * ((slot + 1) % 100) + 1}


def test_a_slot_given_in_the_file_keeps_it_and_a_name_gives_way(tmp_path: Path) -> None:
    text = _system_text(["alpha", "beta"], 0).replace(
        "name: alpha,", f"name: alpha, azure_slot: {zlib.crc32(b'beta') % 100},")
    path = tmp_path / "t.yaml"
    path.write_text(text)
    try:
        load_topology(path)
    except TopologyError as error:
        (problem,) = error.problems
    else:
        raise AssertionError("two clients on one slot were accepted")
    assert problem.line == 11  # at beta, whose slot comes only from its name
    assert "client 'beta' takes Azure priority slot" in problem.message


def test_networks_on_one_slot_are_refused_too(tmp_path: Path) -> None:
    first, second = _pair_sharing_a_slot("site", 10)
    text = HYBRID.read_text().replace("dr-vnet", first).replace("  plant:", f"  {second}:")
    text = text.replace("network: plant", f"network: {second}").replace(
        " azure_slot: 7,", "")
    path = tmp_path / "t.yaml"
    path.write_text(text)
    result = run_cli("flows", path)
    assert result.code == 2
    assert f"network '{max(first, second)}' takes Azure priority slot" in result.err


def test_slots_matter_only_where_azure_is_a_target(tmp_path: Path) -> None:
    first, second = _pair_sharing_a_slot("ops", 100)
    path = tmp_path / "t.yaml"
    path.write_text(_system_text([first, second], 0).replace("targets: [azure]",
                                                              "targets: [aws]"))
    assert load_topology(path).clients


def test_diff_warns_when_a_change_moves_a_priority(tmp_path: Path) -> None:
    old = tmp_path / "old.yaml"
    old.write_text(_system_text(["alpha", "beta"], 0))
    grown = tmp_path / "grown.yaml"
    grown.write_text(_system_text(["alpha", "beta", "gamma"], 0))
    moved = tmp_path / "moved.yaml"
    moved.write_text(_system_text(["alpha", "beta"], 0).replace("name: beta,",
                                                                 "name: beta, azure_slot: 0,"))
    quiet = run_cli("diff", old, grown)
    assert "client_gamma_viewx" in quiet.out
    assert "priority moves" not in quiet.out
    loud = run_cli("diff", old, moved)
    beta = 2000 + 10 * (zlib.crc32(b"beta") % 100) + 1
    assert (f"  ! azurerm_network_security_rule.redundant_in_from_client_beta_viewx: priority "
            f"moves {beta} -> 2001; check that no rule of yours holds it") in loud.out, loud.out
    markdown = run_cli("diff", old, moved, "--format", "markdown")
    assert ":warning:" in markdown.out
    assert f"priority moves {beta} -> 2001" in markdown.out
