"""`scadafw schema`: the JSON Schema of the topology file (versions 1 and 2), for editors and CI."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from generator.model import (
    FIREWALL_PLATFORMS,
    LISTED_TARGETS,
    NETWORK_SLOTS,
    PEER_SLOTS,
    ClientService,
    NsgMode,
    Role,
    RoleGroup,
)
from generator.topology.checker import NAME_PATTERN
from generator.topology.options import PRIORITY_OFFSETS
from generator.topology.read import MAX_STANDBYS

SCHEMA_ID = "https://scadafw.invalid/schema/topology.schema.json"


def _network() -> dict[str, Any]:
    return {"type": "string", "pattern": r"^[0-9A-Fa-f:.]+(/[0-9]{1,3})?$",
            "description": "A network (CIDR) or a host address, no wider than /8 (IPv4) or "
                           "/32 (IPv6)."}


def _ports(description: str) -> dict[str, Any]:
    return {"type": "array", "minItems": 1, "uniqueItems": True,
            "items": {"type": "integer", "minimum": 1, "maximum": 65535},
            "description": description}


def _version(version: int) -> dict[str, Any]:
    """The schema of one file version: version 2 is version 1 plus its own keys."""
    name = {"type": "string", "pattern": f"^{NAME_PATTERN.pattern}$"}
    address = {"type": "string", "anyOf": [{"format": "ipv4"}, {"format": "ipv6"}]}
    server: dict[str, Any] = {
        "name": {**name, "description": "Unique within the system."},
        "role": {"enum": [r.value for r in Role]},
        "addresses": {"type": "array", "uniqueItems": True, "items": address,
                      "description": "Host addresses, one per redundancy link."},
        "renamed_from": {**name, "description": "The server's previous name: the modules "
                                                "move its resources (`moved` blocks)."},
    }
    top: dict[str, Any] = {
        "version": {"const": version, "description": "File format version."},
        "system": {**name, "description": "Prefixes every cloud resource name."},
        "port": {"type": "integer", "minimum": 1, "maximum": 65535, "default": 5481,
                 "description": "The system's server port."},
        "previous_port": {"type": "integer", "minimum": 1, "maximum": 65535,
                          "description": "During a port migration, the port the servers move "
                                         "from: allowed beside `port` until it is removed."},
        "targets": {
            "type": "array", "minItems": 1, "uniqueItems": True,
            "items": {"enum": [t.value for t in LISTED_TARGETS]},
            "description": "Which module flavours to emit (default: all).",
        },
        "renamed_from": {**name, "description": "The name the system's cloud resources were "
                                                "created with; a rename keeps them."},
        "azure": {
            "type": "object", "additionalProperties": False,
            "properties": {
                "nsgs": {"enum": [m.value for m in NsgMode], "default": "create",
                         "description": "create: an NSG per role group, associated with the "
                                        "NICs; existing: rules into your NSGs."},
                "priority_offset": {"type": "integer", "minimum": PRIORITY_OFFSETS[0],
                                    "maximum": PRIORITY_OFFSETS[1], "default": 0,
                                    "description": "Added to every priority scadafw writes."},
            },
        },
    }
    if version == 2:
        server["network"] = {**name, "description": "The network the server is in (with "
                                                     "`networks`)."}
        top["networks"] = {
            "type": "object", "minProperties": 1, "maxProperties": 10,
            "propertyNames": {"pattern": f"^{NAME_PATTERN.pattern}$"},
            "additionalProperties": {
                "type": "object", "additionalProperties": False, "required": ["cloud"],
                "properties": {"cloud": {"enum": ["aws", "azure", "onprem"]},
                               "azure_slot": _slot(NETWORK_SLOTS),
                               "host_firewall": {
                                   "type": "boolean",
                                   "description": "Its servers get Windows Defender Firewall "
                                                  "scripts (<system>/windows/)."},
                               "firewalls": {
                                   "type": "array", "minItems": 1, "uniqueItems": True,
                                   "items": {"enum": list(FIREWALL_PLATFORMS)},
                                   "description": "On premises: the platforms its perimeter "
                                                  "policy is rendered for (aerleon's names)."}}},
            "description": "Where servers are: one module per aws or azure network, a "
                           "perimeter policy per onprem network.",
        }
        server["icmp_monitors"] = {"type": "array", "uniqueItems": True, "maxItems": 6,
                                   "items": address,
                                   "description": "Hosts this server pings (ICMP monitor)."}
        top["web_ports"] = _ports("IIS ports for web clients (default [443]).")
        top["advise_ports"] = {"anyOf": [{"type": "integer", "minimum": 1, "maximum": 65535},
                                         {"type": "string", "pattern": r"^[0-9]+-[0-9]+$"}],
                               "default": "5500-5509",
                               "description": "Server advise callback ports: \"A-B\" or one."}
        top["clients"] = {"type": "array", "items": {
            "type": "object", "additionalProperties": False,
            "required": ["name", "sources", "services"],
            "properties": {
                "name": name,
                "sources": {"type": "array", "minItems": 1, "uniqueItems": True,
                            "items": _network()},
                "services": {"type": "array", "minItems": 1, "uniqueItems": True,
                             "items": {"enum": [c.value for c in ClientService]}},
                "connects_to": {"type": "array", "minItems": 1, "uniqueItems": True,
                                "items": {"enum": [g.value for g in RoleGroup]},
                                "default": ["redundant"]},
                "azure_slot": _slot(PEER_SLOTS),
                "renamed_from": {**name, "description": "The client's previous name: its "
                                                        "rules move, their Azure names stay."},
            }}}
        top["outstations"] = {"type": "array", "items": {
            "type": "object", "additionalProperties": False,
            "required": ["name", "addresses", "protocol", "ports"],
            "properties": {
                "name": name,
                "addresses": {"type": "array", "minItems": 1, "uniqueItems": True,
                              "items": _network()},
                "protocol": {"enum": ["tcp", "udp"]},
                "ports": _ports("Outstation ports the redundant servers connect to."),
                "listen_ports": _ports("Channel listen ports outstations connect in on."),
                "azure_slot": _slot(PEER_SLOTS),
                "renamed_from": {**name, "description": "The outstation's previous name: its "
                                                        "rules move, their Azure names stay."},
            }}}
    top["servers"] = {
        "type": "array", "minItems": 1, "maxItems": 1 + MAX_STANDBYS + 4,
        "items": {"type": "object", "additionalProperties": False,
                  "required": ["name", "role"], "properties": server},
        "contains": {"type": "object", "properties": {"role": {"const": "main"}},
                     "required": ["role"]},
        "minContains": 1,
        "maxContains": 1,
    }
    return {"type": "object", "additionalProperties": False,
            "required": ["version", "system", "servers"], "properties": top}


def _slot(count: int) -> dict[str, Any]:
    return {"type": "integer", "minimum": 0, "maximum": count - 1,
            "description": "Where its Azure priorities go, when its name's slot is another's."}


def topology_schema() -> dict[str, Any]:
    """What a JSON Schema can say of the loader's rules: keys, types, patterns, ranges, enums,
    for both file versions. Counting roles, uniqueness of names, network widths and port
    collisions stay the loader's."""
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": "scadafw topology (versions 1 and 2)",
        "description": "Servers of one Geo SCADA Expert system, their redundancy roles and "
                       "(version 2) the clients, monitors and outstations they talk to.",
        "oneOf": [_version(1), _version(2)],
    }


def schema_text() -> str:
    return json.dumps(topology_schema(), indent=2) + "\n"


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "schema",
        help="print the JSON Schema of the topology file",
        description="Print the JSON Schema (draft 2020-12) of topology files, as committed in "
        "schema/topology.schema.json, for editor completion and CI validation.",
    )
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    del args
    sys.stdout.write(schema_text())
    return 0
