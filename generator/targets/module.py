"""What every emitted module shares: the jinja2 environment, the header, the file set.

Every value a template prints must be an int or `HclText` (made by the `hcl_string`,
`hcl_identifier` or `hcl_comment` filters); a bare string raises, so no input string can reach
the HCL without passing through the one escaping filter.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any

import jinja2

from generator.hcl import HclText, hcl_comment, hcl_identifier, hcl_label, hcl_string
from generator.intent.flows import peer_flows
from generator.intent.listing import mermaid_groups
from generator.model import RoleGroup, Server, System
from generator.provenance import header, seal
from generator.targets.tables import markdown_cell, peer_flows_table, servers_table

ModuleFiles = dict[str, str]  # file name -> text


def _only_escaped(value: object) -> object:
    # HclText comes from a filter (q, ident, label, comment, key) or is a macro's output (block)
    if type(value) is HclText or (type(value) is int):
        return value
    raise TypeError(f"template printed an unescaped {type(value).__name__}: {value!r}")


@cache
def hcl_environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("generator", "targets"),
        undefined=jinja2.StrictUndefined,
        auto_reload=False,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        autoescape=False,
        finalize=_only_escaped,
    )
    env.filters.update(q=hcl_string, ident=hcl_identifier, label=hcl_label, comment=hcl_comment,
                       block=_block, prefixed=_prefixed, address=_address)
    env.globals.update(replace_first=REPLACE_FIRST, for_each_interface=for_each_interface)
    return env


# The blocks every resource repeats, computed before rendering rather than called from the
# templates: a call costs Jinja an inspection of the callee, and these come once or twice per
# resource.

def tags_block(system: System, group: RoleGroup, named: bool = True) -> HclText:
    """A resource's tags: scadafw's own (the system and role group, and for groups, NSGs and
    ASGs their Name; the provider has no Name for rules) win over the caller's `var.tags`."""
    name = f"    Name                 = {_prefixed(group.slug)}\n" if named else ""
    return HclText(f"tags = merge(var.tags, {{\n{name}"
                   f'    "scadafw:system"     = {hcl_string(system.name)}\n'
                   f'    "scadafw:role-group" = {hcl_string(group.value)}\n  }})')


# Replacing a group (a real change: a new name prefix) creates the new one, and its rules,
# before the old goes: the servers' links never stand in a group without rules.
REPLACE_FIRST = HclText("lifecycle {\n    create_before_destroy = true\n  }")


def for_each_interface(server: Server) -> HclText:
    """Keyed by link name: reordering or adding a server's links replaces nothing."""
    return HclText(f"for_each = lookup(var.network_interface_ids, {hcl_string(server.name)}, {{}})")


_SUFFIX = re.compile(r"[a-z0-9-]*")
_ADDRESS = re.compile(r"[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*")


def _address(value: object) -> HclText:
    """A resource address (`type.name`) in a `moved` block."""
    text = str(value)
    if not _ADDRESS.fullmatch(text):
        raise ValueError(f"not a resource address: {text!r}")
    return HclText(text)


def _prefixed(suffix: object) -> HclText:
    """`"${var.name_prefix}<suffix>"`: a name this module gives, after the caller's prefix."""
    text = str(suffix)
    if not _SUFFIX.fullmatch(text):
        raise ValueError(f"not a name suffix: {text!r}")
    return HclText(f'"${{var.name_prefix}}{text}"')


@cache
def markdown_environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("generator", "targets"),
        undefined=jinja2.StrictUndefined,
        auto_reload=False,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        autoescape=False,
    )
    env.filters.update(cell=markdown_cell, q=hcl_string)
    env.globals.update(servers_table=servers_table, peer_flows_table=peer_flows_table)
    return env


def single_blank_lines(text: str) -> str:
    """No two blank lines in a row (what the README templates' optional sections leave).
    str.replace in a loop: a quarter of the time `re.sub(r"\n{3,}", ...)` took on a README."""
    while "\n\n\n" in text:
        text = text.replace("\n\n\n", "\n\n")
    return text


def _block(macro_output: object) -> HclText:
    """A macro's output, trimmed. Macros render through the same checked environment, so what
    they return is made of escaped values only; this is the one filter that trusts text, and
    the templates apply it to macro calls alone."""
    return HclText(str(macro_output).strip())


def map_entries(entries: list[tuple[HclText, HclText]], indent: int = 4) -> HclText:
    """The lines of an HCL map, keys padded so the `=` align as `terraform fmt` aligns them."""
    width = max(len(key) for key, _ in entries)
    pad = " " * indent
    return HclText(f"\n{pad}".join(f"{key.ljust(width)} = {value}" for key, value in entries))


def map_helpers(system: System) -> dict[str, Any]:
    """`by_group(type)` / `by_server(type)`: the entries of an output map whose values are
    `<type>.<role group>.id`, keyed by role group or by server name."""

    def reference(resource_type: str, group: RoleGroup, attribute: str = "id") -> HclText:
        return HclText(f"{resource_type}.{hcl_identifier(group.value)}.{attribute}")

    def by_group(resource_type: str, attribute: str = "id") -> HclText:
        return map_entries([(hcl_identifier(g.value), reference(resource_type, g, attribute))
                            for g in system.groups])

    def by_server(resource_type: str, listed: bool = False) -> HclText:
        return map_entries([(hcl_string(s.name), HclText(f"[{reference(resource_type, s.group)}]")
                             if listed else reference(resource_type, s.group))
                            for s in system.servers])

    return {"by_group": by_group, "by_server": by_server}


TERRAFORM_MIN = "1.5.0"


def render_module(target: str, system: System, context: dict[str, Any]) -> ModuleFiles:
    """Render a target's four .tf files and its README: `context` adds the target's own values
    to what every module template uses.

    The templates are written in `terraform fmt`'s layout, so the text is used as rendered;
    the tests hold it to tests/hcl_layout.py and to a real `terraform fmt -check`.
    """
    context = {
        "header": header(system.source),
        "diagram": mermaid_groups(system),
        **map_helpers(system),
        "system": system,
        "groups": system.groups,
        "servers_by_group": {g: system.members(g) for g in system.groups},
        "tags": {g: tags_block(system, g) for g in system.groups},  # groups, NSGs and ASGs
        "terraform_min": TERRAFORM_MIN,
        "peer_flows": peer_flows(system),
        **context,
    }
    files: ModuleFiles = {}
    hcl = hcl_environment()
    names = ["versions.tf", "variables.tf", "main.tf", "outputs.tf"]
    for name in names:
        files[name] = seal(hcl.get_template(f"{target}/templates/{name}.j2").render(context))
    if context.get("moves"):  # generator/targets/moves.py
        files["renames.tf"] = seal(hcl.get_template("common/renames.tf.j2").render(context))
    readme = markdown_environment().get_template(f"{target}/templates/README.md.j2").render(context)
    files["README.md"] = seal(single_blank_lines(readme).rstrip("\n") + "\n")
    return files
