"""Targets: each turns a module's view of a system into the files of one module, and says how
much of its cloud's quotas those files use. A new target is a module with `render` and `limits`
and one row in `TARGETS`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from generator.model import System, Target
from generator.targets.aws import aws_limits, render_aws
from generator.targets.azure import azure_limits, render_azure
from generator.targets.limits import Usage
from generator.targets.module import ModuleFiles
from generator.targets.perimeter import perimeter_limits, render_perimeter
from generator.targets.placement import placements
from generator.targets.windows import render_windows, windows_limits


@dataclass(frozen=True)
class TargetKind:
    render: Callable[[System], ModuleFiles]
    limits: Callable[[System, str], list[Usage]]


TARGETS: dict[Target, TargetKind] = {
    Target.AWS: TargetKind(render_aws, aws_limits),
    Target.AZURE: TargetKind(render_azure, azure_limits),
    Target.WINDOWS: TargetKind(render_windows, windows_limits),
    Target.PERIMETER: TargetKind(render_perimeter, perimeter_limits),
}


def render_system(system: System) -> dict[str, ModuleFiles]:
    """Every module the system's topology asks for, rendered in memory, by folder name (the
    target's name, or with `networks` the network's)."""
    return {p.folder: TARGETS[p.target].render(p.view) for p in placements(system)}


def usage(system: System) -> list[Usage]:
    """Every quota every module of the system uses, counted on what the module renders."""
    return [u for p in placements(system) for u in TARGETS[p.target].limits(p.view, p.folder)]
