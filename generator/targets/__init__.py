"""Cloud targets: each turns a System and its flows into the files of one Terraform module."""

from __future__ import annotations

from collections.abc import Callable

from generator.model import System, Target
from generator.targets.aws import render_aws
from generator.targets.azure import render_azure
from generator.targets.module import ModuleFiles

RENDERERS: dict[Target, Callable[[System], ModuleFiles]] = {
    Target.AWS: render_aws,
    Target.AZURE: render_azure,
}


def render_system(system: System) -> dict[Target, ModuleFiles]:
    """Every module the system's topology asks for, rendered in memory."""
    return {target: RENDERERS[target](system) for target in system.targets}
