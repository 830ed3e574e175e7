"""Windows Defender Firewall: a PowerShell script per server (`<server>.ps1`), a README, and the
ports-and-services baseline, in `<system>/windows/` (docs/design.md, "The host firewall")."""

from __future__ import annotations

from generator.intent.hosts import port_rows
from generator.model import System
from generator.provenance import header, seal
from generator.targets.limits import Usage
from generator.targets.module import ModuleFiles, markdown_environment
from generator.targets.windows.rules import host_rules
from generator.targets.windows.script import group_of, rule_name, script


def render_windows(view: System) -> ModuleFiles:
    files: ModuleFiles = {}
    scripts = []
    for server in sorted(view.servers, key=lambda s: s.name):
        rules = host_rules(view, server)
        files[f"{server.name}.ps1"] = seal(script(view, server, rules))
        scripts.append((server, group_of(view, server),
                        [(rule_name(view, server, r), r) for r in rules]))
    env = markdown_environment()
    context = {"header": header(view.source), "system": view, "scripts": scripts,
               "rows": port_rows(view)}
    for name in ("README.md", "ports-and-services.md"):
        text = env.get_template(f"windows/templates/{name}.j2").render(context)
        files[name] = seal(text.rstrip("\n") + "\n")
    return files


def windows_limits(view: System, folder: str) -> list[Usage]:
    """Windows Defender Firewall has no rule quota worth counting."""
    del view, folder
    return []
