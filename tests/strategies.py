"""Hypothesis strategies: random valid topologies within docs/geo-scada.md's limits."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

NAME = st.from_regex(r"[a-z][a-z0-9-]{0,11}", fullmatch=True)


@st.composite
def topologies(draw: st.DrawFn) -> dict[str, Any]:
    standbys = draw(st.integers(0, 2))
    limit = 3 if standbys == 2 else 4
    permanent = draw(st.integers(0, limit))
    dmz = draw(st.integers(0, limit - permanent))
    roles = (["main"] + ["standby"] * standbys + ["permanent_standby"] * permanent
             + ["dmz_permanent_standby"] * dmz)
    names = draw(st.lists(NAME, min_size=len(roles), max_size=len(roles), unique=True))
    servers: list[dict[str, Any]] = []
    for i, (name, role) in enumerate(zip(names, draw(st.permutations(roles)), strict=True)):
        server: dict[str, Any] = {"name": name, "role": role}
        if draw(st.booleans()):
            addresses = [f"10.{i}.0.10"]
            if draw(st.booleans()):
                addresses.append(f"fd00:{i}::10")
            server["addresses"] = addresses
        servers.append(server)
    doc: dict[str, Any] = {"version": 1, "system": draw(NAME), "servers": servers}
    if draw(st.booleans()):
        doc["port"] = draw(st.integers(1, 65535))
    doc["targets"] = draw(st.sampled_from([["aws"], ["azure"], ["aws", "azure"]]))
    return doc
