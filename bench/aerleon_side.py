"""The same server-to-server flows, rendered by aerleon as an iptables filter (bench only).

aerleon is the nearest existing policy-to-firewall compiler; it is an optional `bench` extra.
Two ways, both run in their own process by bench/run.py:
- `python bench/aerleon_side.py api TOPOLOGY_DIR OUT_DIR`: policies built in memory from the
  topologies, rendered with aerleon's Generate API (aerleon at its most favourable);
- `python bench/aerleon_side.py files TOPOLOGY_DIR POLICY_DIR`: write aerleon's own YAML policy
  and definition files, untimed, for `aclgen` to read from disk as scadafw reads topologies;
- `python bench/aerleon_side.py onefile TOPOLOGY_DIR POLICY_DIR`: the same, but every
  system's terms in one policy file, so one `aclgen` run renders one file (aerleon's cheapest
  way through its command line).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import yaml
from aerleon import api
from aerleon.lib import naming

from generator.intent.listing import server_flows
from generator.topology import load_topology


def token(*parts: str) -> str:
    return "_".join(p.upper().replace("-", "_") for p in parts)


def policy_for(topology: Path, networks: dict[str, Any],
               services: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    system = load_topology(topology)
    for server in system.servers:
        networks[token(system.name, server.name)] = {
            "values": [{"address": f"{a}/{a.max_prefixlen}"} for a in server.addresses]}
    services[token(system.name, "port")] = [{"port": system.port, "protocol": "tcp"}]
    terms = []
    for index, flow in enumerate(server_flows(system)):
        term: dict[str, Any] = {
            "name": f"{prefix}flow-{index}-{flow.service}",  # iptables: 24 at most
            "source-address": token(system.name, flow.source.name),
            "destination-address": token(system.name, flow.destination.name),
            "protocol": flow.protocol,
            "action": "accept",
        }
        if flow.protocol == "tcp":
            term["destination-port"] = token(system.name, "port")
        else:
            term["icmp-type"] = "echo-request"
        terms.append(term)
    return {"filename": system.name,
            "filters": [{"header": {"targets": {"iptables": "INPUT DROP"}}, "terms": terms}]}


def main(mode: str, topologies: Path, out: Path) -> int:
    networks: dict[str, Any] = {}
    services: dict[str, Any] = {}
    files = sorted(topologies.glob("*.yaml"))
    prefixes = [f"s{i}-" if mode == "onefile" else "" for i in range(len(files))]
    policies = [policy_for(t, networks, services, p) for t, p in zip(files, prefixes, strict=True)]
    if mode == "onefile":  # one filter holding every system's terms
        terms = [t for policy in policies for t in policy["filters"][0]["terms"]]
        policies = [{"filename": "fleet", "filters": [
            {"header": {"targets": {"iptables": "INPUT DROP"}}, "terms": terms}]}]
    out.mkdir(parents=True, exist_ok=True)
    if mode in ("files", "onefile"):
        pol = out / "policies" / "pol"  # aclgen looks for policies in folders named pol
        pol.mkdir(parents=True, exist_ok=True)
        (out / "defs").mkdir(exist_ok=True)
        for policy in policies:
            body = {"filters": policy["filters"]}
            (pol / f"{policy['filename']}.yaml").write_text(yaml.safe_dump(body))
        (out / "defs" / "networks.yaml").write_text(yaml.safe_dump({"networks": networks}))
        (out / "defs" / "services.yaml").write_text(yaml.safe_dump({"services": services}))
        return 0
    definitions = naming.Naming()
    definitions.ParseDefinitionsObject({"networks": networks, "services": services}, "")
    api.Generate(policies, definitions, output_directory=out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3])))
