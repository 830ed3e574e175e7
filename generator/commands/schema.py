"""`scadafw schema`: the JSON Schema of the topology file (version 1), for editors and CI."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from generator.model import Role, Target
from generator.topology import MAX_STANDBYS, NAME_PATTERN

SCHEMA_ID = "https://scadafw.invalid/schema/topology.schema.json"


def topology_schema() -> dict[str, Any]:
    """What a JSON Schema can say of the loader's rules: keys, types, patterns, ranges, enums.
    Counting roles (one main, two standbys at most) and uniqueness of names stay the loader's."""
    name = {"type": "string", "pattern": f"^{NAME_PATTERN.pattern}$"}
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": "scadafw topology (version 1)",
        "description": "Servers of one Geo SCADA Expert system and their redundancy roles.",
        "type": "object",
        "additionalProperties": False,
        "required": ["version", "system", "servers"],
        "properties": {
            "version": {"const": 1, "description": "File format version."},
            "system": {**name, "description": "Prefixes every cloud resource name."},
            "port": {"type": "integer", "minimum": 1, "maximum": 65535, "default": 5481,
                     "description": "The system's server port."},
            "targets": {
                "type": "array", "minItems": 1, "uniqueItems": True,
                "items": {"enum": [t.value for t in Target]},
                "description": "Which module flavours to emit (default: all).",
            },
            "servers": {
                "type": "array", "minItems": 1, "maxItems": 1 + MAX_STANDBYS + 4,
                "items": {
                    "type": "object",
                    "additionalProperties": False,
                    "required": ["name", "role"],
                    "properties": {
                        "name": {**name, "description": "Unique within the system."},
                        "role": {"enum": [r.value for r in Role]},
                        "addresses": {
                            "type": "array", "uniqueItems": True,
                            "items": {"type": "string", "anyOf": [{"format": "ipv4"},
                                                                  {"format": "ipv6"}]},
                            "description": "Host addresses, one per redundancy link.",
                        },
                    },
                },
                "contains": {"type": "object", "properties": {"role": {"const": "main"}},
                             "required": ["role"]},
                "minContains": 1,
                "maxContains": 1,
            },
        },
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
