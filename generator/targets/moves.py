"""`moved` blocks: where a resource's address changes but the resource does not (a renamed
server, client or outstation, a rule named anew), so that Terraform moves it in its state
instead of destroying it and creating another. Each target lists its moves; the module writes
them to `renames.tf` (generator/targets/common/renames.tf.j2)."""

from __future__ import annotations

import re
from dataclasses import dataclass

_ADDRESS = re.compile(r"[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*")


@dataclass(frozen=True, order=True)
class Move:
    source: str  # the address in states made before
    target: str  # the address now
    why: str  # one line: what was renamed

    def __post_init__(self) -> None:
        for address in (self.source, self.target):
            if not _ADDRESS.fullmatch(address):
                raise ValueError(f"not a resource address: {address!r}")
        if self.source == self.target:
            raise ValueError(f"a move to where it is: {self.source}")


def checked(moves: list[Move]) -> list[Move]:
    """The moves in order, each address the source of one move and the target of one at most
    (Terraform refuses two moves from, or to, one address)."""
    sources = [m.source for m in moves]
    targets = [m.target for m in moves]
    for kind, found in (("from", sources), ("to", targets)):
        twice = sorted({a for a in found if found.count(a) > 1})
        if twice:
            raise ValueError(f"two moves {kind} {twice[0]}")
    return sorted(set(moves), key=lambda m: (m.target, m.source))
