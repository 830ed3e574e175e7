"""The plant's perimeter: an aerleon policy for each on-premises network, and what aerleon
renders from it for the platforms the network names (`firewalls`), in `<system>/<network>/`
(docs/design.md, "The plant's perimeter")."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from generator.model import System
from generator.provenance import header, seal
from generator.targets.limits import Usage
from generator.targets.module import ModuleFiles, markdown_environment
from generator.targets.perimeter.policy import Policy, build_policy
from generator.targets.perimeter.render import PLATFORMS, headers, render

POLICY = "policy.yaml"
NETWORKS = "definitions/networks.yaml"
SERVICES = "definitions/services.yaml"


class _NoAliases(yaml.SafeDumper):
    def ignore_aliases(self, data: Any) -> bool:
        return True


def _yaml(source: str, doc: dict[str, Any]) -> str:
    body = yaml.dump(doc, Dumper=_NoAliases, sort_keys=False, width=96, allow_unicode=True)
    return seal(f"# {header(source)}\n{body}")


def _sealed(source: str, platform: str, text: str) -> str:
    """A rendered configuration with scadafw's header as its first line, in the platform's
    comment syntax (an XML declaration, optional, makes way for it)."""
    style = PLATFORMS[platform]
    lines = text.splitlines()
    if lines and lines[0].startswith("<?xml"):
        lines = lines[1:]
    first = f"{style.comment}{header(source)}{style.end}"
    return seal("\n".join([first, *lines]).rstrip("\n") + "\n")


def rendered_files(folder: Path) -> dict[str, str]:
    """What aerleon renders from the policy and definitions in `folder`, for the platforms its
    header names, as `generate` writes them (header lines aside)."""
    doc = yaml.safe_load((folder / POLICY).read_text(encoding="utf-8"))
    (only,) = doc["filters"]
    networks = yaml.safe_load((folder / NETWORKS).read_text(encoding="utf-8"))["networks"]
    services = yaml.safe_load((folder / SERVICES).read_text(encoding="utf-8"))["services"]
    name = f"{folder.parent.name}-{folder.name}"
    policy = Policy(name, only["header"], only["terms"], networks, services)
    platforms = tuple(only["header"].get("targets") or {})
    rendered = render(policy) if platforms else {}
    return {file: _sealed("", _platform_of(file, name), text)
            for file, text in rendered.items() if _platform_of(file, name)}


def firewalls_of(view: System) -> tuple[str, ...]:
    network = next((n for n in view.networks if n.name == view.network), None)
    return network.firewalls if network else ()


def render_perimeter(view: System) -> ModuleFiles:
    name = f"{view.name}-{view.network}"
    platforms = firewalls_of(view)
    policy = build_policy(view, headers(platforms, name))
    files: ModuleFiles = {
        POLICY: _yaml(view.source, {"filters": policy.policy()["filters"]}),
        NETWORKS: _yaml(view.source, {"networks": policy.networks}),
        SERVICES: _yaml(view.source, {"services": policy.services}),
    }
    rendered = render(policy) if platforms else {}
    by_platform = {}
    for platform in platforms:
        file = next(f for f in rendered if _platform_of(f, name) == platform)
        files[file] = _sealed(view.source, platform, rendered[file])
        by_platform[platform] = file
    env = markdown_environment()
    text = env.get_template("perimeter/templates/README.md.j2").render(
        header=header(view.source), system=view, policy=policy, files=by_platform,
        platforms=PLATFORMS)
    files["README.md"] = seal(text.rstrip("\n") + "\n")
    return files


_EXTENSIONS = {"": "iptables", ".xml": "paloalto", ".asa": "ciscoasa", ".srx": "srx",
               ".fgacl": "fortigate"}


def _platform_of(file: str, name: str) -> str:
    return _EXTENSIONS.get(file.removeprefix(name), "")


def perimeter_limits(view: System, folder: str) -> list[Usage]:
    """A perimeter firewall's rule quota is the site's platform's: not counted here."""
    del view, folder
    return []
