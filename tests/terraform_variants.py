"""What the real-Terraform tests apply: each example's AWS root configuration as committed, and
two mutations of the dmz example a reviewer must catch. Shared by test_terraform.py and
test_review.py through the session fixture `apply_example` (conftest.py), so each is applied
once per run."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from generator.sources.landscape import Landscape, provision_servers
from generator.sources.terraform_apply import Applied, apply_root
from generator.topology import load_topology
from tests.conftest import EXAMPLES, ROOT

DMZ_EXAMPLE = ROOT / "examples" / "dmz.yaml"
# examples laid out per target (`aws`); those with `networks` are applied by their own test
SINGLE = [e for e in EXAMPLES if not load_topology(e).networks]


def example_root(example: Path, into: Path) -> Path:
    """A copy of the example's AWS root configuration and the module it calls, laid out as in
    the repository so the relative module source still resolves."""
    system = load_topology(example).name
    shutil.copytree(ROOT / "examples" / example.stem / "aws", into / "examples" / example.stem
                    / "aws")
    shutil.copytree(ROOT / "modules" / system / "aws", into / "modules" / system / "aws")
    return into / "examples" / example.stem / "aws"


SG_LINE = ("  security_groups = module.geo_scada_firewall.security_group_ids_by_server"
           "[each.value.server]\n")


def _maintenance_group(landscape: Landscape, root: Path) -> None:
    """A hand-made group in the root configuration: TCP 5481 in from every CIDR of the VPC and
    everything out (a vendor's "temporary" maintenance access), listed on every link
    interface beside the module's groups."""
    rules = "\n".join(f'''
resource "aws_vpc_security_group_ingress_rule" "maintenance_{i}" {{
  security_group_id = aws_security_group.maintenance.id
  cidr_ipv4         = "{cidr}"
  ip_protocol       = "tcp"
  from_port         = 5481
  to_port           = 5481
}}
''' for i, cidr in enumerate(landscape.cidrs))
    (root / "maintenance.tf").write_text(f'''
resource "aws_security_group" "maintenance" {{
  name        = "vendor-maintenance"
  description = "vendor maintenance access"
  vpc_id      = var.vpc_id
}}
{rules}
resource "aws_vpc_security_group_egress_rule" "maintenance_out" {{
  security_group_id = aws_security_group.maintenance.id
  cidr_ipv4         = "0.0.0.0/0"
  ip_protocol       = "-1"
}}
''')
    main = root / "main.tf"
    text = main.read_text()
    assert SG_LINE in text
    main.write_text(text.replace(SG_LINE, (
        "  security_groups = concat(module.geo_scada_firewall.security_group_ids_by_server"
        "[each.value.server], [aws_security_group.maintenance.id])\n")))


def _root_rule_dmz_to_redundant(_: Landscape, root: Path) -> None:
    """Rules in the root that open TCP 5481 from the DMZ standby's group to the redundant
    group: out of one, into the other (both are needed: the module's groups allow no egress
    they do not name)."""
    (root / "dmz_rule.tf").write_text('''
resource "aws_vpc_security_group_ingress_rule" "redundant_from_dmz" {
  security_group_id            = module.geo_scada_firewall.security_group_ids["redundant"]
  referenced_security_group_id = module.geo_scada_firewall.security_group_ids["dmz_permanent_standby"]
  ip_protocol                  = "tcp"
  from_port                    = 5481
  to_port                      = 5481
}

resource "aws_vpc_security_group_egress_rule" "dmz_to_redundant" {
  security_group_id            = module.geo_scada_firewall.security_group_ids["dmz_permanent_standby"]
  referenced_security_group_id = module.geo_scada_firewall.security_group_ids["redundant"]
  ip_protocol                  = "tcp"
  from_port                    = 5481
  to_port                      = 5481
}
''')


def variants() -> list[tuple[Path, Callable[[Landscape, Path], None] | None, str]]:
    """What the tests below apply: every example as committed, and two mutations of dmz."""
    return [*((e, None, "") for e in SINGLE),
            (DMZ_EXAMPLE, _maintenance_group, "-maintenance"),
            (DMZ_EXAMPLE, _root_rule_dmz_to_redundant, "-dmzrule")]



def apply_all(terraform: Any, moto_server: Any,
              tmp_root: Callable[[str], Path]) -> Callable[..., Applied]:
    """Every variant applied once, two at a time (the machine has two cores and each pipeline
    waits on moto part of the time); the tests then look results up."""
    endpoint, ec2 = moto_server
    jobs = []
    for example, extra, tag in variants():  # the account first, one call at a time
        system = load_topology(example)
        root = example_root(example, tmp_root(f"{example.stem}{tag}"))
        landscape = provision_servers(ec2, system)
        if extra:
            extra(landscape, root)
        jobs.append(((example.stem, tag), root, landscape, tag))
    for _, root, _, _ in jobs:  # inits share the plugin cache: one at a time
        terraform.init(root)

    def run(job: tuple[tuple[str, str], Path, Landscape, str]) -> Applied:
        _, root, landscape, tag = job
        if not tag:  # the example as committed validates (plan would also refuse it)
            validation = terraform.validate(root)
            assert validation["valid"], validation["diagnostics"]
        # variants (mutations) are not re-planned, to save time
        return apply_root(terraform, root, endpoint, landscape, replan=not tag)

    with ThreadPoolExecutor(max_workers=2) as pool:
        done = dict(zip([j[0] for j in jobs], pool.map(run, jobs), strict=True))

    def apply(example: Path, extra: object = None, tag: str = "") -> Applied:
        del extra  # applied above, by its tag
        return done[(example.stem, tag)]

    return apply


