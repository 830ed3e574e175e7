"""A perimeter policy (`<system>/<network>/policy.yaml` and its `definitions/`) read back
strictly: the aerleon policy scadafw writes (docs/design.md, "The plant's perimeter"), and
nothing else. A key, value or name it does not know is a problem naming the file and term,
and the policy is then judged as undecided (fail closed).
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from generator.judge import intervals as iv

TERM_KEYS = ("name", "comment", "option", "platform", "source-address", "destination-address",
             "protocol", "destination-port", "icmp-type", "action")
ACTIONS = {"accept": True, "deny": False, "reject": False}
PROTOCOLS = ("tcp", "udp", "icmp", "icmpv6")
ECHO_REQUEST = {"icmp": 8, "icmpv6": 128}

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True)
class Term:
    """One term: `None` for an end or port a term leaves out (any)."""

    name: str
    allow: bool
    protocol: str | None
    ports: iv.Intervals | None  # destination ports, or ICMP types
    source: tuple[Network, ...] | None
    destination: tuple[Network, ...] | None
    established: bool = False  # matches replies only: never a new connection
    platforms: tuple[str, ...] = ()  # empty: every platform


@dataclass
class PerimeterPolicy:
    path: Path
    terms: list[Term] = field(default_factory=list)
    targets: dict[str, str] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


class _RefusedError(ValueError):
    pass


def _load(path: Path) -> Any:
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise _RefusedError(f"{path}: missing") from None
    except yaml.YAMLError as exc:
        raise _RefusedError(f"{path}: not valid YAML: {str(exc).splitlines()[0]}") from None


def _networks(path: Path) -> dict[str, tuple[Network, ...]]:
    doc = _load(path)
    if not isinstance(doc, dict) or set(doc) != {"networks"} or not isinstance(
            doc["networks"], dict):
        raise _RefusedError(f"{path}: expected one key, `networks`")
    found = {}
    for name, entry in doc["networks"].items():
        values = entry.get("values") if isinstance(entry, dict) else None
        if not isinstance(values, list) or set(entry) != {"values"}:
            raise _RefusedError(f"{path}: network {name}: expected `values`, a list")
        try:
            found[str(name)] = tuple(ipaddress.ip_network(v["address"], strict=True)
                                     for v in values)
        except (KeyError, TypeError, ValueError) as exc:
            raise _RefusedError(f"{path}: network {name}: not an address: {exc}") from None
    return found


def _services(path: Path) -> dict[str, tuple[str, iv.Intervals]]:
    doc = _load(path)
    if not isinstance(doc, dict) or set(doc) != {"services"} or not isinstance(
            doc["services"], dict):
        raise _RefusedError(f"{path}: expected one key, `services`")
    found = {}
    for name, entries in doc["services"].items():
        protocols, spans = set(), []
        for entry in entries if isinstance(entries, list) else [None]:
            if not isinstance(entry, dict) or set(entry) != {"port", "protocol"}:
                raise _RefusedError(f"{path}: service {name}: expected `port` and `protocol`")
            low, _, high = str(entry["port"]).partition("-")
            if not low.isdigit() or not (high or low).isdigit():
                raise _RefusedError(f"{path}: service {name}: port {entry['port']!r}")
            spans.append((int(low), int(high or low)))
            protocols.add(str(entry["protocol"]))
        if len(protocols) != 1:
            raise _RefusedError(f"{path}: service {name}: one protocol expected")
        found[str(name)] = (protocols.pop(), iv.merged(spans))
    return found


def _term(raw: Any, networks: dict[str, tuple[Network, ...]],
          services: dict[str, tuple[str, iv.Intervals]]) -> Term:
    if not isinstance(raw, dict) or "name" not in raw:
        raise _RefusedError("a term without a name")
    name = str(raw["name"])
    unknown = sorted(set(raw) - set(TERM_KEYS))
    if unknown:
        raise _RefusedError(f"term {name}: `{unknown[0]}` is not a key scadafw writes")
    if raw.get("action") not in ACTIONS:
        raise _RefusedError(f"term {name}: action {raw.get('action')!r}")
    option = raw.get("option")
    established = option in (["established"], "established")
    if option is not None and not established:
        raise _RefusedError(f"term {name}: option {option!r} is not one scadafw writes")
    if established and (set(raw) & {"source-address", "destination-address", "protocol",
                                     "destination-port", "icmp-type"}
                        or raw["action"] != "accept"):
        raise _RefusedError(f"term {name}: an `established` term takes nothing else")

    def ends(key: str) -> tuple[Network, ...] | None:
        if key not in raw:
            return None
        if raw[key] not in networks:
            raise _RefusedError(f"term {name}: {key} {raw[key]!r} is not defined")
        return networks[str(raw[key])]

    protocol = raw.get("protocol")
    if protocol is not None and protocol not in PROTOCOLS:
        raise _RefusedError(f"term {name}: protocol {protocol!r}")
    ports: iv.Intervals | None = None
    if "destination-port" in raw:
        service = services.get(str(raw["destination-port"]))
        if service is None or protocol not in ("tcp", "udp") or service[0] != protocol:
            raise _RefusedError(f"term {name}: destination-port {raw['destination-port']!r} is "
                           f"not a {protocol} service of the definitions")
        ports = service[1]
    if "icmp-type" in raw:
        if protocol not in ECHO_REQUEST or raw["icmp-type"] != ["echo-request"]:
            raise _RefusedError(f"term {name}: icmp-type {raw['icmp-type']!r}")
        ports = ((ECHO_REQUEST[protocol],) * 2,)
    platforms = raw.get("platform", [])
    return Term(name, ACTIONS[raw["action"]], protocol, ports, ends("source-address"),
                ends("destination-address"), established, tuple(platforms))


def read_policy(folder: Path) -> PerimeterPolicy:
    """The policy of one network folder, or the problems that make it unreadable."""
    found = PerimeterPolicy(folder / "policy.yaml")
    try:
        networks = _networks(folder / "definitions" / "networks.yaml")
        services = _services(folder / "definitions" / "services.yaml")
        doc = _load(found.path)
        filters = doc.get("filters") if isinstance(doc, dict) else None
        if not isinstance(filters, list) or len(filters) != 1 or set(doc) != {"filters"}:
            raise _RefusedError(f"{found.path}: expected `filters`, holding one filter")
        (only,) = filters
        if not isinstance(only, dict) or set(only) != {"header", "terms"}:
            raise _RefusedError(f"{found.path}: a filter holds `header` and `terms`")
        found.targets = dict(only["header"].get("targets") or {})
        names: set[str] = set()
        for raw in only["terms"]:
            try:
                term = _term(raw, networks, services)
            except _RefusedError as exc:
                found.problems.append(f"{found.path}: {exc}")
                continue
            if term.name in names:
                found.problems.append(f"{found.path}: term {term.name} appears twice")
            names.add(term.name)
            found.terms.append(term)
    except _RefusedError as exc:
        found.problems.append(str(exc))
    return found


def rendering_problems(folder: Path) -> list[str]:
    """Each rendered configuration in `folder` that is not what aerleon renders from the
    policy on disk for its platform (edited by hand, or rendered from another policy)."""
    from generator.errors import ScadafwError  # noqa: PLC0415
    from generator.provenance import body  # noqa: PLC0415
    from generator.targets.perimeter import rendered_files  # noqa: PLC0415

    try:
        expected = rendered_files(folder)
    except (ScadafwError, ValueError, KeyError, TypeError, OSError, yaml.YAMLError) as exc:
        return [f"{folder}: the policy cannot be rendered again: {exc}"]
    problems = []
    for name, text in sorted(expected.items()):
        path = folder / name
        if not path.is_file():
            problems.append(f"{path}: missing (the policy names its platform)")
        elif body(path.read_text(encoding="utf-8")) != body(text):
            problems.append(f"{path}: not what aerleon renders from policy.yaml; it was "
                            "edited by hand, or the policy was: the judged policy is not what "
                            "the firewall would run")
    return problems
