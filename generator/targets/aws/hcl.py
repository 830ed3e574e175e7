"""The HCL of the AWS rule resources. A rule's text up to its tags depends on the rule alone, so
each distinct rule is written once per run however many systems share it; the system's tags
and the lifecycle block follow."""

from __future__ import annotations

from functools import lru_cache

from generator.hcl import HclText, hcl_identifier, hcl_label, hcl_string
from generator.model import RoleGroup, System
from generator.targets.aws.peers import AwsPeerRule
from generator.targets.aws.rules import AwsRule
from generator.targets.module import REPLACE_FIRST, map_entries, tags_block


def _group(group: RoleGroup) -> HclText:
    return HclText(f"aws_security_group.{hcl_identifier(group.value)}.id")


def _resource(resource_type: str, name: str, entries: list[tuple[str, HclText]]) -> HclText:
    body = map_entries([(HclText(k), v) for k, v in entries], indent=2)
    return HclText(f"resource {hcl_string(resource_type)} {hcl_label(name)} {{\n  {body}")


@lru_cache(maxsize=4096)
def rule_resource(rule: AwsRule) -> HclText:
    """A rule between role groups: the owner's group references the peer's."""
    return _resource(rule.resource_type, rule.name, [
        ("security_group_id", _group(rule.group)),
        ("referenced_security_group_id", _group(rule.peer)),
        ("ip_protocol", hcl_string(rule.protocol)),
        ("from_port", HclText(str(rule.from_port))),
        ("to_port", HclText(str(rule.to_port))),
        ("description", hcl_string(rule.description))])


@lru_cache(maxsize=4096)
def peer_rule_resource(rule: AwsPeerRule) -> HclText:
    """A rule that names a peer's network by its CIDR."""
    return _resource(rule.resource_type, rule.name, [
        ("security_group_id", _group(rule.group)),
        (hcl_identifier(rule.cidr_key), hcl_string(str(rule.network))),
        ("ip_protocol", hcl_string(rule.flow.protocol)),
        ("from_port", HclText(str(rule.from_port))),
        ("to_port", HclText(str(rule.to_port))),
        ("description", hcl_string(rule.description))])


def rule_resources(system: System, rules: tuple[AwsRule, ...],
                   peer_rules: tuple[AwsPeerRule, ...]) -> list[HclText]:
    """Every rule resource of the module, whole, in order: between groups, then with peers."""
    tags = {g: tags_block(system, g, named=False) for g in system.groups}  # no Name on rules
    heads = [(rule_resource(r), r.group) for r in rules]
    heads += [(peer_rule_resource(r), r.group) for r in peer_rules]
    return [HclText(f"{head}\n\n  {tags[group]}\n\n  {REPLACE_FIRST}\n}}")
            for head, group in heads]
