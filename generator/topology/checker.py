"""Where a topology file's problems are gathered: each with the FILE:LINE:COL of the value that
causes it, every one of them before anything is refused."""

from __future__ import annotations

import re

from generator.errors import Problem, did_you_mean
from generator.topology.yaml_source import Spanned

NAME_PATTERN = re.compile(r"[a-z][a-z0-9-]{0,39}")


class Checker:
    def __init__(self, path: str) -> None:
        self.path = path
        self.problems: list[Problem] = []
        self.version = 1

    def at(self, where: Spanned | tuple[int, int], message: str) -> None:
        line, col = (where.line, where.column) if isinstance(where, Spanned) else where
        self.problems.append(Problem(self.path, line, col, message))

    def unknown_keys(self, mapping: Spanned, allowed: tuple[str, ...], what: str,
                     later: tuple[str, ...] = ()) -> None:
        """Report keys not in `allowed`; a key of a later version (`later`) says so."""
        for key, mark in mapping.key_marks.items():
            if key in allowed:
                continue
            if key in later:
                self.at(mark, f"'{key}' is a topology version 2 key: say `version: 2` at the "
                              "top of the file to use it")
                continue
            hint = did_you_mean(key, allowed)
            self.at(mark, f"unknown key '{key}' in {what}{hint}; allowed: {', '.join(allowed)}")

    def name(self, value: Spanned, field: str) -> str | None:
        if not isinstance(value.value, str):
            self.at(value, f"{field} must be a string, got {value.kind}")
            return None
        if not NAME_PATTERN.fullmatch(value.value):
            foreign = [c for c in value.value if not c.isascii()]
            hint = (f"; it holds non-ASCII {foreign[0]!r} (U+{ord(foreign[0]):04X}), perhaps a "
                    "look-alike of a Latin letter" if foreign else "")
            self.at(value, f"{field} {value.value!r} must match [a-z][a-z0-9-]{{0,39}} "
                           f"(lower-case ASCII letter, then letters, digits or '-', 40 at most)"
                           f"{hint}")
            return None
        return value.value
