"""The rows of the AWS README's flows table, as text (generator/targets/tables.py says why)."""

from __future__ import annotations

from generator.intent.flows import Flow
from generator.targets.aws.rules import AwsRule
from generator.targets.tables import purposes


def flow_row(flow: Flow, rules: tuple[AwsRule, ...]) -> str:
    """| from | to | traffic | purpose | rules |"""
    addresses = ", ".join(f"`{r.address}`" for r in rules)
    return (f"| {flow.source.name} | {flow.destination.name} | {flow.label} | "
            f"{purposes(flow)} | {addresses} |")


def flows_table(flows: tuple[Flow, ...], rules: tuple[AwsRule, ...]) -> str:
    by_flow: dict[Flow, list[AwsRule]] = {}
    for rule in rules:
        by_flow.setdefault(rule.flow, []).append(rule)
    return "\n".join(flow_row(f, tuple(by_flow.get(f, ()))) for f in flows)
