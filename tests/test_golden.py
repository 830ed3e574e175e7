"""Version-1 output is pinned: the three version-1 examples must keep producing these bytes.

When a change alters version-1 output on purpose, the golden files are updated in the same
commit and the commit message says why; anything else that changes them is a regression.
"""

from __future__ import annotations

from pathlib import Path

from tests.conftest import ROOT, run_cli, snapshot

GOLDEN = ROOT / "tests" / "data" / "golden"
VERSION_1 = [ROOT / "examples" / n for n in ("dmz.yaml", "hot-standby.yaml",
                                             "triple-standby-dr.yaml")]


def test_version_1_examples_produce_the_golden_bytes(tmp_path: Path) -> None:
    assert all("version: 1" in p.read_text() for p in VERSION_1)
    result = run_cli("generate", *VERSION_1, "--out", tmp_path)
    assert result.code == 0, result.err
    fresh, golden = snapshot(tmp_path), snapshot(GOLDEN)
    assert sorted(fresh) == sorted(golden)
    changed = sorted(k for k in fresh if fresh[k] != golden[k])
    if changed:  # write the actual output beside the golden files, as aerleon does
        for key in changed:
            actual = tmp_path.parent / "golden-actual" / key
            actual.parent.mkdir(parents=True, exist_ok=True)
            actual.write_bytes(fresh[key])
    assert not changed, f"version-1 output changed: {changed} (actual in {tmp_path.parent})"
