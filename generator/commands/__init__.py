"""One module per command; each has `add_parser(subparsers)` that sets `run` on its args."""

from __future__ import annotations

from types import ModuleType

from generator.commands import audit, check, diff, flows, generate, review, schema, verify

COMMANDS: tuple[ModuleType, ...] = (generate, verify, review, audit, check, flows, diff, schema)
