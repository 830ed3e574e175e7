"""The perimeter policy rendered by aerleon (used as a library: `aerleon.api.Generate`), one
configuration per platform the network names (docs/design.md, "The plant's perimeter").

Each platform's filter header reads the policy as one rule base for both directions: its
terms name both ends by address, so a zone pair would drop half of them (Palo Alto and SRX:
every zone, FortiGate: every interface; Cisco ASA: one access list; iptables: the FORWARD
chain, default DROP).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from generator.errors import ScadafwError
from generator.targets.perimeter.policy import Policy


@dataclass(frozen=True)
class Platform:
    header: str  # the filter header's options for this platform, `{name}`: the file's name
    comment: str  # how one comment line starts and ends, for the scadafw header
    end: str = ""


PLATFORMS: dict[str, Platform] = {
    "paloalto": Platform("from-zone any to-zone any", "<!-- ", " -->"),
    "fortigate": Platform("from-zone any to-zone any mixed", "# "),
    "ciscoasa": Platform("{name}", "! "),
    "srx": Platform("from-zone all to-zone all", "/* ", " */"),
    "iptables": Platform("FORWARD DROP", "# "),
}


class RenderError(ScadafwError):
    """aerleon could not render a policy."""


def headers(platforms: tuple[str, ...], name: str) -> dict[str, str]:
    return {p: PLATFORMS[p].header.format(name=name) for p in platforms}


def _by_kind_and_name(a: Any, b: Any) -> bool:
    return bool((type(a).__name__, a.name) < (type(b).__name__, b.name))


@contextlib.contextmanager
def _quiet_and_sortable() -> Iterator[None]:
    """aerleon's generators log warnings for what they skip on purpose (the `replies` term on a
    stateful platform), and aerleon 1.18's FortiGate generator cannot order an ICMP service
    beside a TCP one (it sorts objects of two dataclasses): give them one order, for the call."""
    from aerleon.lib import fortigate  # noqa: PLC0415

    base = fortigate.FortigateObjectGroup
    had = base.__dict__.get("__lt__")
    base.__lt__ = _by_kind_and_name  # type: ignore[method-assign,assignment]
    absl = logging.getLogger("absl")
    level = absl.level
    absl.setLevel(logging.ERROR)
    try:
        yield
    finally:
        absl.setLevel(level)
        if had is None:
            del base.__lt__
        else:
            base.__lt__ = had  # type: ignore[method-assign]


def render(policy: Policy) -> dict[str, str]:
    """Each platform's configuration, by aerleon's file name (`<system>-<network>` and the
    platform's extension)."""
    from aerleon import api  # noqa: PLC0415
    from aerleon.lib import naming  # noqa: PLC0415

    definitions = naming.Naming()
    definitions.ParseDefinitionsObject(policy.definitions(), "")
    try:
        with _quiet_and_sortable():
            found = api.Generate([policy.policy()], definitions)  # type: ignore[list-item]
    except Exception as exc:  # aerleon raises many kinds; say which policy and why
        first = str(exc).strip().splitlines()
        raise RenderError(f"aerleon could not render {policy.filename}: "
                          f"{first[-1] if first else type(exc).__name__}") from exc
    return dict(found or {})
