"""`scadafw review` on the root configurations people write, planned for real: the example's
root with one pattern added each, planned by Terraform's AWS provider against moto (not
applied: a plan is what review reads). Each pattern is one a reviewer must not be told is
clean, or one that must not raise a false finding."""

from __future__ import annotations

import json
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from netaddr import IPSet

from generator.sources.landscape import REGION, Landscape, provision_servers
from generator.sources.terraform import moto_provider_override
from generator.sources.terraform_apply import INPUTS_FILE, OVERRIDE_FILE
from generator.topology import load_topology
from tests.conftest import ROOT, run_cli
from tests.terraform_variants import SG_LINE, example_root

DMZ = ROOT / "examples" / "dmz.yaml"
CONTROL_ROOM = ROOT / "examples" / "control-room.yaml"

_NACL = '''
# the redundant servers' subnets: the server port refused inbound, the ephemeral ports outbound
resource "aws_network_acl" "redundant" {
  vpc_id     = var.vpc_id
  subnet_ids = [for a, l in local.links : l.subnet_id if contains(["scada-a", "scada-b"], l.server)]

  ingress {
    rule_no    = 100
    action     = "deny"
    protocol   = "tcp"
    from_port  = 5481
    to_port    = 5481
    cidr_block = "0.0.0.0/0"
  }
  ingress {
    rule_no    = 200
    action     = "allow"
    protocol   = "-1"
    from_port  = 0
    to_port    = 0
    cidr_block = "0.0.0.0/0"
  }
  egress {
    rule_no    = 100
    action     = "deny"
    protocol   = "tcp"
    from_port  = 1024
    to_port    = 65535
    cidr_block = "0.0.0.0/0"
  }
  egress {
    rule_no    = 200
    action     = "allow"
    protocol   = "-1"
    from_port  = 0
    to_port    = 0
    cidr_block = "0.0.0.0/0"
  }
}
'''

_DMZ_INSTANCE = '''
# the DMZ standby as an instance of this configuration, and an attachment that puts the
# redundant group on its primary interface
resource "aws_instance" "scada_dmz" {
  ami                    = "ami-12c6146b"
  instance_type          = "t3.medium"
  subnet_id              = var.dmz_subnet_id
  private_ip             = "10.30.1.10"
  vpc_security_group_ids = module.geo_scada_firewall.security_group_ids_by_server["scada-dmz"]
}

resource "aws_network_interface_sg_attachment" "dmz_primary" {
  security_group_id    = module.geo_scada_firewall.security_group_ids["redundant"]
  network_interface_id = aws_instance.scada_dmz.primary_network_interface_id
}

variable "dmz_subnet_id" {
  type = string
}
'''

_LOCAL_EXTRA = '''
resource "aws_security_group" "extra" {
  name        = "extra"
  description = "allow everything from the plant"
  vpc_id      = var.vpc_id
}

resource "aws_vpc_security_group_ingress_rule" "extra" {
  security_group_id = aws_security_group.extra.id
  cidr_ipv4         = "10.10.0.0/16"
  ip_protocol       = "-1"
}

locals {
  extra = [aws_security_group.extra.id]
}
'''

_CLIENT_RULES = '''
resource "aws_vpc_security_group_ingress_rule" "corporate_to_redundant" {
  security_group_id = module.geo_scada_firewall.security_group_ids["redundant"]
  cidr_ipv4         = "172.16.0.0/16"
  ip_protocol       = "tcp"
  from_port         = 5481
  to_port           = 5481
}

resource "aws_vpc_security_group_ingress_rule" "rtus_to_redundant" {
  security_group_id = module.geo_scada_firewall.security_group_ids["redundant"]
  cidr_ipv4         = "10.44.0.0/22"
  ip_protocol       = "-1"
}

resource "aws_vpc_security_group_ingress_rule" "anyone_to_dmz_web" {
  security_group_id = module.geo_scada_firewall.security_group_ids["dmz_permanent_standby"]
  cidr_ipv4         = "0.0.0.0/0"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
}
'''


def _nacl(root: Path, inputs: dict[str, Any]) -> None:
    (root / "nacl.tf").write_text(_NACL)
    del inputs


def _dmz_instance(root: Path, inputs: dict[str, Any]) -> None:
    """The DMZ standby's link leaves the interfaces of `servers`: its instance holds it."""
    (root / "dmz_instance.tf").write_text(_DMZ_INSTANCE)
    dmz = inputs["servers"].pop("scada-dmz")
    inputs["dmz_subnet_id"] = dmz["links"]["10.30.1.10"]["subnet_id"]


def _local_extra(root: Path, inputs: dict[str, Any]) -> None:
    (root / "extra.tf").write_text(_LOCAL_EXTRA)
    main = root / "main.tf"
    main.write_text(main.read_text().replace(SG_LINE, (
        "  security_groups = concat(module.geo_scada_firewall.security_group_ids_by_server"
        "[each.value.server], local.extra)\n")))
    del inputs


def _for_each_module(root: Path, inputs: dict[str, Any]) -> None:
    """The module called with for_each (one environment), its outputs read with the key."""
    main = root / "main.tf"
    text = main.read_text()
    text = text.replace('module "geo_scada_firewall" {\n',
                        'module "geo_scada_firewall" {\n  for_each = toset(["prod"])\n\n')
    text = text.replace("module.geo_scada_firewall.security_group_ids_by_server",
                        'module.geo_scada_firewall["prod"].security_group_ids_by_server')
    text = text.replace("value = module.geo_scada_firewall.security_group_ids",
                        'value = module.geo_scada_firewall["prod"].security_group_ids')
    main.write_text(text)
    del inputs


def _client_rules(root: Path, inputs: dict[str, Any]) -> None:
    (root / "client_rules.tf").write_text(_CLIENT_RULES)
    del inputs


VARIANTS: dict[str, tuple[Path, Callable[[Path, dict[str, Any]], None]]] = {
    "nacl": (DMZ, _nacl), "dmz-instance": (DMZ, _dmz_instance),
    "local-extra": (DMZ, _local_extra), "for-each": (DMZ, _for_each_module),
    "client-rules": (CONTROL_ROOM, _client_rules),
}


@pytest.fixture(scope="module")
def plans(terraform: Any, moto_server: Any,
          tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Every variant planned once (two at a time), as `terraform show -json` files."""
    endpoint, ec2 = moto_server
    roots = {}
    for name, (example, change) in VARIANTS.items():
        root = example_root(example, tmp_path_factory.mktemp(f"root-{name}"))
        landscape: Landscape = provision_servers(ec2, load_topology(example))
        inputs = landscape.inputs()
        change(root, inputs)
        (root / INPUTS_FILE).write_text(json.dumps(inputs, indent=2))
        (root / OVERRIDE_FILE).write_text(moto_provider_override(endpoint, REGION))
        terraform.init(root)  # one at a time: inits share the plugin cache
        roots[name] = root

    def plan(item: tuple[str, Path]) -> tuple[str, Path]:
        name, root = item
        terraform.plan(root, "plan.out")
        path = root / "plan.json"
        path.write_text(json.dumps(terraform.show(root, "plan.out")))
        return name, path

    with ThreadPoolExecutor(max_workers=2) as pool:
        return dict(pool.map(plan, roots.items()))


def review(plan: Path, topology: Path = DMZ, *extra: str) -> tuple[int, dict[str, Any]]:
    result = run_cli("review", plan, topology, "--format", "json", *extra)
    assert "Traceback" not in result.err
    assert result.code in (0, 1), result.err
    (system,) = json.loads(result.out)["systems"]
    return result.code, dict(system)


def flows(found: list[dict[str, Any]]) -> dict[str, IPSet]:
    """Destination (link and service, one port each) -> the exact prefixes found there."""
    by: dict[str, IPSet] = {}
    for f in found:
        link, _, service = f["flow"].split(" -> ")[-1].partition(" ")
        protocol, _, ports = service.partition(" ")
        for port in ports.split(", ") if protocol in ("TCP", "UDP") else [ports]:
            low, _, high = port.partition("-")
            for one in ([port] if not low.isdigit() else
                        [str(p) for p in range(int(low), int(high or low) + 1)]):
                where = f"{link} {protocol} {one}"
                by[where] = by.get(where, IPSet()) | IPSet(f["peers"])
    return by


def test_a_network_acl_that_breaks_synchronisation_is_named(plans: dict[str, Path]) -> None:
    code, found = review(plans["nacl"])
    assert code == 1
    assert found["forbidden"] == []
    missing = {f["flow"].split(" -> ")[-1] for f in found["missing"]}
    assert "scada-a:10.10.1.10 TCP 5481" in missing
    assert "scada-b:10.10.2.10 TCP 5481" in missing
    assert all("aws_network_acl.redundant" in f["because"] for f in found["missing"])
    # the redundant servers' own connections out are refused by the ephemeral-port rule
    assert "scada-a:10.10.1.10 -> scada-dmz 10.30.1.10/32 TCP 5481" in {
        f["flow"] for f in found["missing"] if "egress rule 100 (deny)" in f["because"]}
    assert any("1 aws_network_acl" in n for n in found["notes"])
    assert not [n for n in found["notes"] if "stopped only by" in n]  # allow-all is no note


def test_a_redundant_group_on_the_dmz_instances_primary_interface_is_named(
        plans: dict[str, Path]) -> None:
    code, found = review(plans["dmz-instance"])
    assert code == 1
    opened = flows(found["forbidden"])
    dmz, dr = IPSet(["10.30.1.10/32"]), IPSet(["10.20.1.10/32"])
    # carrying the redundant group, the DMZ standby is a redundant server to every rule that
    # names the group: it reaches the pair and the permanent standby, which reaches it back
    assert opened == {
        **{f"{main} {service}": dmz for main in ("scada-a:10.10.1.10", "scada-b:10.10.2.10",
                                                   "scada-dr:10.20.1.10")
           for service in ("TCP 5481", "ICMP echo request")},
        "scada-dmz:10.30.1.10 TCP 5481": dr, "scada-dmz:10.30.1.10 ICMP echo request": dr}
    assert all("from_redundant" in f["opened_by"] or "redundant_from_permanent_standby"
               in f["opened_by"] for f in found["forbidden"])
    assert found["missing"] == []


def test_groups_through_a_local_are_undecided_never_missing(plans: dict[str, Path]) -> None:
    code, found = review(plans["local-extra"])
    assert code == 1
    assert found["missing"] == []
    assert len(found["undecided"]) == 4  # one per link interface
    assert all("local.extra" in u and "aws_network_interface.geo_scada_link" in u
               for u in found["undecided"])
    code, found = review(plans["local-extra"], DMZ, "--allow-undecided")
    assert code == 0  # nothing else is wrong; the undecided interfaces are notes now
    assert len(found["undecided"]) == 4


def test_a_module_called_with_for_each_keeps_its_key(plans: dict[str, Path]) -> None:
    code, found = review(plans["for-each"])
    assert code == 0, found
    assert (found["forbidden"], found["missing"], found["undecided"]) == ([], [], [])


def test_root_rules_for_clients_outstations_and_the_internet_are_judged(
        plans: dict[str, Path]) -> None:
    code, found = review(plans["client-rules"], CONTROL_ROOM)
    assert code == 1
    opened = flows(found["forbidden"])
    corporate, rtus = IPSet(["172.16.0.0/16"]), IPSet(["10.44.0.0/22"])
    for main in ("scada-a:10.40.1.10", "scada-b:10.40.2.10"):
        assert opened[f"{main} TCP 5481"] == corporate | rtus  # ViewX only on the DMZ for them
        assert opened[f"{main} TCP 443"] == rtus  # every protocol from the RTU network
        assert opened[f"{main} ICMP echo request"] == rtus
        assert f"{main} TCP 20000" not in opened  # its listen port: named, not forbidden
    assert opened["scada-dmz:10.40.8.10 TCP 443"] == IPSet(["0.0.0.0/0"]) - corporate - IPSet(
        ["10.40.8.10/32"])
    assert "scada-a:10.40.1.10 TCP 5500" in opened  # the advise range, from the RTU network


def test_an_opentofu_plan_is_judged_like_terraforms(plans: dict[str, Path],
                                                    tmp_path: Path) -> None:
    """OpenTofu writes the same JSON plan format, with its own registry in provider names."""
    plan = json.loads(plans["dmz-instance"].read_text())
    text = json.dumps(plan).replace("registry.terraform.io/", "registry.opentofu.org/")
    tofu = json.loads(text)
    tofu["terraform_version"] = "1.9.0"
    assert "registry.opentofu.org/hashicorp/aws" in text
    path = tmp_path / "tofu.json"
    path.write_text(json.dumps(tofu))
    assert review(path) == review(plans["dmz-instance"])
