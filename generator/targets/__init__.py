"""Cloud targets: each turns a System and its flows into the files of one Terraform module."""

from __future__ import annotations

from collections.abc import Callable

from generator.model import System, Target
from generator.placement import placements
from generator.targets.aws import render_aws
from generator.targets.azure import render_azure
from generator.targets.module import ModuleFiles

RENDERERS: dict[Target, Callable[[System], ModuleFiles]] = {
    Target.AWS: render_aws,
    Target.AZURE: render_azure,
}


def render_system(system: System) -> dict[str, ModuleFiles]:
    """Every module the system's topology asks for, rendered in memory, by folder name (the
    target's name, or with `networks` the network's)."""
    return {p.folder: RENDERERS[p.target](p.view) for p in placements(system)}
