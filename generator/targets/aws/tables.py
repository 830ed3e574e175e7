"""The rows of the AWS README's flows table, as text: a row depends on its flow and the rules
that carry it alone, so each distinct row is written once per run."""

from __future__ import annotations

from functools import lru_cache

from generator.intent.flows import Flow
from generator.targets.aws.rules import AwsRule
from generator.targets.tables import purposes


@lru_cache(maxsize=4096)
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
