"""The one exception family of scadafw; only `cli.py` turns these into messages and exit codes."""

from __future__ import annotations

from dataclasses import dataclass


class ScadafwError(Exception):
    """Base of every error scadafw raises on purpose."""

    exit_code = 2


class UsageError(ScadafwError):
    """The command line or the files named on it cannot be used."""


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input file, at a place in it (1-based line and column)."""

    path: str
    line: int
    column: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}:{self.column}: {self.message}"


class TopologyError(ScadafwError):
    """A topology file is invalid; carries every problem found, not just the first."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = sorted(problems, key=lambda p: (p.path, p.line, p.column, p.message))
        super().__init__("\n".join(str(p) for p in self.problems))


class VerificationError(ScadafwError):
    """Emitted rules do not give exactly the flows of the policy."""

    exit_code = 1


def did_you_mean(word: str, choices: tuple[str, ...]) -> str:
    """" (did you mean 'x'?)" for the closest choice, or nothing."""
    import difflib  # noqa: PLC0415

    close = difflib.get_close_matches(word, choices, n=1)
    return f" (did you mean '{close[0]}'?)" if close else ""
