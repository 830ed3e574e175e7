"""The AWS modules through the real Terraform and its AWS provider, applied into moto.

Each example's own root configuration (a temporary copy, with a provider override pointing at
moto) is initialised, validated, planned, applied and planned again, beside servers that exist
first with their own launch groups. The flows read back from moto are judged against docs/geo-scada.md's
matrix as transcribed in tests/domain.py, never against the generator's policy.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import yaml

from generator.checks.report import Report
from generator.checks.terraform import judge
from generator.checks.verify import own_addresses
from generator.intent.links import expand
from generator.judge.aws import aws_sides
from generator.judge.rules import Query
from generator.model import System, Target
from generator.sources.ec2 import read_state
from generator.sources.landscape import create_links, provision_servers
from generator.sources.terraform_apply import (
    Applied,
    apply_root,
    replan_changes,
    state_labels,
)
from generator.targets.placement import placements
from generator.topology import load_topology
from tests.conftest import EXAMPLES, ROOT, need_terraform, parse_hcl, run_cli
from tests.domain import domain_allows
from tests.judged import decide_pair, differences, reaches
from tests.terraform_variants import DMZ_EXAMPLE, SINGLE

TWO_VPC = ROOT / "examples" / "two-vpc.yaml"


def judged(example: Path, applied: Applied, ec2: Any) -> tuple[System, Report]:
    system = load_topology(example)
    return system, judge(system, applied, ec2, "test")


def against_domain(system: System, reports: list[Report]) -> list[tuple[str, str, str]]:
    """(source, destination, service) of every server pair whose reachability docs/geo-scada.md
    disagrees with, on the server port and ICMP echo."""
    roles = {s.name: s.role.value for s in system.servers}
    return sorted((a, b, label) for a in roles for b in roles if a != b
                  for protocol, port, label in (("tcp", system.port, f"TCP {system.port}"),
                                                ("icmp", 8, "ICMP echo request"))
                  if reaches(reports, a, b, protocol, port)
                  != domain_allows(roles[a], roles[b]))


@pytest.mark.parametrize("example", SINGLE, ids=lambda p: p.stem)
def test_example_applied_by_terraform_allows_exactly_the_domain_matrix(
        example: Path, apply_example: Callable[..., Applied], moto_server: Any) -> None:
    applied = apply_example(example)
    system, report = judged(example, applied, moto_server[1])
    assert report.ok, [str(f) for f in report.failures]
    assert against_domain(system, [report]) == []
    # every side by sets; outbound, only that nothing named is missing (moto shows the
    # instances' launch groups on the link interfaces too, whose own egress is the site's)
    assert differences([report], yaml.safe_load(example.read_text()), lambda _: False) == []


@pytest.mark.parametrize("example", SINGLE, ids=lambda p: p.stem)
def test_replan_after_apply_is_quiet_but_for_motos_known_gap(
        example: Path, apply_example: Callable[..., Applied]) -> None:
    applied = apply_example(example)
    assert applied.drift == []
    # moto drops the description of a rule that references a group, so the provider plans to
    # set it again: exactly those rules, and only their description (replan_changes checks it).
    referencing = {r["address"] for r in _planned(applied.plan)
                   if r["type"].startswith("aws_vpc_security_group_")
                   and (r["values"].get("referenced_security_group_id") is not None
                        or "referenced_security_group_id" in _after_unknown(applied.plan,
                                                                            r["address"]))}
    # moto also shows each link interface with its instance's launch group (AWS keeps groups
    # per interface): exactly the link interfaces, and only groups of the instances
    links = {r["address"] for r in _planned(applied.plan) if r["type"] == "aws_network_interface"}
    assert set(applied.moto_gaps) == referencing | links


def _planned(plan: dict[str, Any]) -> list[dict[str, Any]]:
    from generator.sources.terraform_apply import state_resources  # noqa: PLC0415

    return list(state_resources(plan))


def _after_unknown(plan: dict[str, Any], address: str) -> dict[str, Any]:
    for change in plan["resource_changes"]:
        if change["address"] == address:
            return dict(change["change"].get("after_unknown") or {})
    return {}


@pytest.mark.parametrize("example", SINGLE, ids=lambda p: p.stem)
def test_first_plan_creates_every_module_resource_and_nothing_else(
        example: Path, apply_example: Callable[..., Applied]) -> None:
    applied = apply_example(example)
    system = load_topology(example)
    module_tf = ROOT / "modules" / system.name / "aws" / "main.tf"
    declared = {f"module.geo_scada_firewall.{rtype}.{name}"
                for block in parse_hcl(module_tf)["resource"]
                for rtype, named in block.items() for name in named}
    changes = applied.plan["resource_changes"]
    assert {c["change"]["actions"][0] for c in changes} == {"create"}
    # the root creates one link interface per IPv4 address; the module attaches nothing
    links = {c["address"] for c in changes if c["type"] == "aws_network_interface"}
    addresses = {str(a) for s in system.servers for a in s.addresses if a.version == 4}
    assert links == {f'aws_network_interface.geo_scada_link["{a}"]' for a in addresses}
    assert {c["address"].split("[")[0] for c in changes} - {
        "aws_network_interface.geo_scada_link"} == declared
    assert not any(c["type"] == "aws_network_interface_sg_attachment" for c in changes)
    assert applied.plan["format_version"].startswith("1.")


def test_instances_keep_their_launch_groups_and_links_carry_the_modules(
        apply_example: Callable[..., Applied], moto_server: Any) -> None:
    """Nothing fights: the instances' own interfaces keep exactly their launch group, and each
    link interface carries exactly its server's role group (the owner lists them)."""
    applied = apply_example(DMZ_EXAMPLE)
    system = load_topology(DMZ_EXAMPLE)
    ec2 = moto_server[1]
    intent = expand(system)
    state = read_state(ec2, applied.landscape.link_interfaces(intent.links))
    roles = {g["GroupId"]: t["Value"] for g in ec2.describe_security_groups(
        Filters=[{"Name": "vpc-id", "Values": [applied.landscape.vpc_id]}])["SecurityGroups"]
        for t in g.get("Tags", []) if t["Key"] == "scadafw:role-group"}
    launch = set(applied.landscape.launch_groups.values())
    for server, link in intent.links:
        groups = state.groups_of(link)
        assert [roles[g] for g in groups if g in roles] == [server.group.value]
        # and, in moto only, the instance's launch group (moto's known gap, see replan_changes)
        assert {g for g in groups if g not in roles} <= launch
        instance = ec2.describe_instances(InstanceIds=[applied.landscape.instances[
            server.name]])["Reservations"][0]["Instances"][0]
        primary = next(n for n in instance["NetworkInterfaces"]
                       if n["Attachment"]["DeviceIndex"] == 0)
        assert [g["GroupId"] for g in primary["Groups"]] == [
            applied.landscape.launch_groups[server.name]]


def test_a_permissive_group_on_every_link_opens_what_the_matrix_forbids_and_is_named(
        apply_example: Callable[..., Applied], moto_server: Any) -> None:
    applied = apply_example(DMZ_EXAMPLE, tag="-maintenance")
    system, report = judged(DMZ_EXAMPLE, applied, moto_server[1])
    roles = {s.name: s.role.value for s in system.servers}
    forbidden = sorted((a, b, "TCP 5481") for a in roles for b in roles
                       if a != b and not domain_allows(roles[a], roles[b]))
    assert ("scada-dmz", "scada-a", "TCP 5481") in forbidden
    assert against_domain(system, [report]) == forbidden  # every one, on TCP 5481 only
    assert report.failures
    assert all("aws_security_group.maintenance" in f.message for f in report.failures)
    assert {f.code for f in report.failures} == {"forbidden"}


def test_a_root_rule_from_the_dmz_group_to_the_redundant_group_is_caught_and_named(
        apply_example: Callable[..., Applied], moto_server: Any) -> None:
    applied = apply_example(DMZ_EXAMPLE, tag="-dmzrule")
    system, report = judged(DMZ_EXAMPLE, applied, moto_server[1])
    assert against_domain(system, [report]) == [("scada-dmz", "scada-a", "TCP 5481"),
                                                ("scada-dmz", "scada-b", "TCP 5481")]
    inbound = [f for f in report.failures if "inbound" in f.place]
    assert {f.place for f in inbound} == {"scada-a:10.10.1.10 inbound TCP 5481",
                                          "scada-b:10.10.2.10 inbound TCP 5481"}
    assert all(f.message.startswith("scada-dmz 10.30.1.10/32 reaches") and
               "aws_vpc_security_group_ingress_rule.redundant_from_dmz in "
               "module.geo_scada_firewall.aws_security_group.redundant" in f.message
               for f in inbound)


def test_labels_name_terraform_addresses_for_every_rule(
        apply_example: Callable[..., Applied], terraform: Any) -> None:
    applied = apply_example(DMZ_EXAMPLE)
    labels = state_labels(applied.state)  # read from the state file
    assert labels == state_labels(terraform.show(applied.root))  # as `show -json` has it
    rules = [a for a in labels.values() if "_rule." in a]
    groups = [a for a in labels.values() if ".aws_security_group." in a]
    assert len(rules) == 16
    assert len(groups) == 3


def test_every_aws_module_validates_with_the_real_provider(terraform: Any,
                                                           tmp_path: Path) -> None:
    folders = sorted(ROOT / "modules" / load_topology(e).name / p.folder for e in EXAMPLES
                     for p in placements(load_topology(e)) if p.target is Target.AWS)
    assert len(folders) == len(SINGLE) + 4  # two-vpc has two, hybrid-dr and two-site one
    copies = [tmp_path / f"{f.parent.name}-{f.name}" for f in folders]
    for folder, copy in zip(folders, copies, strict=True):
        shutil.copytree(folder, copy)

    for copy in copies:  # one at a time: inits share the plugin cache
        terraform.init(copy)

    def validate(copy: Path) -> dict[str, Any]:
        return dict(terraform.validate(copy))

    with ThreadPoolExecutor(max_workers=2) as pool:  # two cores: two providers at a time
        results = dict(zip(copies, pool.map(validate, copies), strict=True))
    assert {c.name: r["valid"] for c, r in results.items()} == {c.name: True for c in copies}
    assert all(r["warning_count"] == 0 for r in results.values()), results


def test_validate_catches_an_attribute_the_provider_does_not_have(terraform: Any,
                                                                  tmp_path: Path) -> None:
    """The mutation for the test above: validation is not a formality."""
    copy = tmp_path / "module"
    shutil.copytree(ROOT / "modules" / "pump-station" / "aws", copy)
    tf = copy / "main.tf"
    tf.write_text(tf.read_text().replace("ip_protocol ", "ip_protocols", 1))
    terraform.init(copy)
    result = terraform.validate(copy)
    assert result["valid"] is False
    assert any("ip_protocols" in d.get("summary", "") + d.get("detail", "")
               for d in result["diagnostics"])


# `scadafw verify --terraform`, as a user runs it


def test_verify_terraform_passes_on_an_example_with_two_aws_networks() -> None:
    need_terraform()
    result = run_cli("verify", TWO_VPC, "--terraform")
    assert result.code == 0, result.out + result.err
    assert "harbour / control-vpc" in result.out
    assert "harbour / dmz-vpc" in result.out
    assert "moto's known gap" in result.out


def test_verify_terraform_fails_on_a_module_that_lets_the_dmz_standby_in(
        tmp_path: Path) -> None:
    need_terraform()
    modules = tmp_path / "modules"
    shutil.copytree(ROOT / "modules" / "plant-north", modules / "plant-north")
    tf = modules / "plant-north" / "aws" / "main.tf"
    tf.write_text(tf.read_text() + '''
resource "aws_vpc_security_group_ingress_rule" "redundant_from_dmz_tcp" {
  security_group_id            = aws_security_group.redundant.id
  referenced_security_group_id = aws_security_group.dmz_permanent_standby.id
  ip_protocol                  = "tcp"
  from_port                    = 5481
  to_port                      = 5481
}

resource "aws_vpc_security_group_egress_rule" "dmz_permanent_standby_to_redundant_tcp" {
  security_group_id            = aws_security_group.dmz_permanent_standby.id
  referenced_security_group_id = aws_security_group.redundant.id
  ip_protocol                  = "tcp"
  from_port                    = 5481
  to_port                      = 5481
}
''')
    result = run_cli("verify", DMZ_EXAMPLE, "--modules", modules, "--terraform", "--format",
                     "json")
    assert result.code == 1, result.err
    import json  # noqa: PLC0415

    report = json.loads(result.out)
    aws = next(r for r in report["results"] if r["target"] == "aws")
    wrong = [f for f in aws["findings"] if not f["note"]]
    assert {(f["code"], f["place"]) for f in wrong} == {
        ("forbidden", "scada-a:10.10.1.10 inbound TCP 5481"),
        ("forbidden", "scada-b:10.10.2.10 inbound TCP 5481"),
        ("forbidden", "scada-dmz:10.30.1.10 outbound TCP 5481")}
    assert all("module.scadafw.aws_vpc_security_group_ingress_rule.redundant_from_dmz_tcp"
               in f["message"] for f in wrong if "inbound" in f["place"])
    azure = next(r for r in report["results"] if r["target"] == "azure")
    assert azure["ok"] is True


def test_verify_terraform_without_terraform_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")
    result = run_cli("verify", DMZ_EXAMPLE, "--terraform")
    assert result.code == 2
    assert "--terraform needs `terraform` on PATH" in result.err
    assert "Traceback" not in result.err


def test_effective_policy_sees_groups_scadafw_did_not_write(moto_server: Any) -> None:
    """The shared evaluator on its own: a group added to an interface by hand counts."""
    ec2 = moto_server[1]
    system = load_topology(DMZ_EXAMPLE)
    landscape = provision_servers(ec2, system)
    create_links(ec2, landscape, {n: [g] for n, g in landscape.launch_groups.items()})
    intent = expand(system)
    links = landscape.link_interfaces(intent.links)
    dmz, main = (next(k for k in links if k.server == n) for n in ("scada-dmz", "scada-a"))
    tcp = Query("tcp", (5481, 5481), (49152, 65535))

    def decide() -> tuple[bool, str]:
        state = read_state(ec2, links)
        return decide_pair(aws_sides(state, own_addresses(intent)), dmz, main, tcp)

    assert not decide()[0]
    extra = ec2.create_security_group(GroupName="by-hand", Description="x",
                                      VpcId=landscape.vpc_id)["GroupId"]
    ec2.authorize_security_group_ingress(GroupId=extra, IpPermissions=[{
        "IpProtocol": "tcp", "FromPort": 5481, "ToPort": 5481,
        "IpRanges": [{"CidrIp": "10.30.0.0/16"}]}])  # in from the DMZ standby's network
    # (a new group allows all egress until told otherwise, as in AWS)
    for server in ("scada-a", "scada-dmz"):
        ec2.modify_network_interface_attribute(
            NetworkInterfaceId=landscape.interfaces[server][0],
            Groups=[landscape.launch_groups[server], extra])
    allowed, because = decide()
    assert allowed
    assert "group by-hand" in because


# The pieces on their own, without Terraform


def _change(address: str, before: dict[str, Any], after: dict[str, Any],
            actions: tuple[str, ...] = ("update",),
            rtype: str = "aws_vpc_security_group_ingress_rule") -> dict[str, Any]:
    return {"address": address, "type": rtype,
            "change": {"actions": list(actions), "before": before, "after": after}}


def test_replan_changes_tells_motos_description_gap_from_real_drift() -> None:

    ref = {"referenced_security_group_id": "sg-1", "from_port": 5481}
    plan = {"resource_changes": [
        _change("gap", {**ref, "description": None}, {**ref, "description": "Geo SCADA"}),
        _change("quiet", ref, ref, actions=("no-op",)),
        _change("port", {**ref, "description": "d"}, {**ref, "description": "d",
                                                      "from_port": 5482}),
        _change("cidr", {"cidr_ipv4": "10.0.0.0/8", "description": None},
                {"cidr_ipv4": "10.0.0.0/8", "description": "x"}),
        _change("replaced", {**ref, "description": None}, {**ref, "description": "x"},
                actions=("delete", "create")),
        _change("group", {"description": None}, {"description": "x"},
                rtype="aws_security_group"),
        _change("link", {"security_groups": ["sg-m", "sg-launch"]},
                {"security_groups": ["sg-m"]}, rtype="aws_network_interface"),
        _change("link-other", {"security_groups": ["sg-m", "sg-vendor"]},
                {"security_groups": ["sg-m"]}, rtype="aws_network_interface"),
    ]}
    gaps, drift = replan_changes(plan, frozenset({"sg-launch"}))
    assert gaps == ["gap", "link"]
    assert [d.split(":")[0] for d in drift] == ["port", "cidr", "replaced", "group",
                                                "link-other"]
    assert "port: update (from_port)" in drift


def test_the_provider_mirror_is_found_where_the_variable_points(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from generator.sources.terraform import (  # noqa: PLC0415
        cli_configuration,
        find_provider_mirror,
    )

    monkeypatch.setenv("SCADAFW_PROVIDER_MIRROR", str(tmp_path))
    assert find_provider_mirror() is None  # an empty folder is no mirror
    binary = (tmp_path / "registry.terraform.io/hashicorp/aws/5.1.0/linux_amd64"
              / "terraform-provider-aws_v5.1.0_x5")
    binary.parent.mkdir(parents=True)
    binary.write_bytes(b"")
    assert find_provider_mirror() == tmp_path
    config = cli_configuration(tmp_path, tmp_path / "cache")
    assert f'path    = "{tmp_path}"' in config
    assert 'exclude = ["registry.terraform.io/hashicorp/aws"]' in config



@pytest.mark.parametrize(("first", "second", "seen"), [
    ("init", "init", ["start-init", "end-init", "start-init", "end-init"]),
    ("plan", "init", ["start-plan", "end-plan", "start-init", "end-init"]),
    ("init", "plan", ["start-init", "end-init", "start-plan", "end-plan"]),
    ("plan", "plan", ["start-plan", "start-plan", "end-plan", "end-plan"]),
])
def test_an_init_has_the_plugin_cache_to_itself(
        first: str, second: str, seen: list[str], tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """An init re-links the provider in the shared plugin cache, so a plan of another run that
    starts the provider meanwhile finds nothing: an init runs alone, other commands together."""
    import time  # noqa: PLC0415

    from generator.sources.terraform import Terraform  # noqa: PLC0415

    log = tmp_path / "log"
    fake = tmp_path / "terraform"  # stands in for the binary: says when each command runs
    fake.write_text(f'#!/bin/sh\necho start-$1 >> {log}\nsleep 0.6\necho end-$1 >> {log}\n')
    fake.chmod(0o755)
    monkeypatch.setenv("TF_PLUGIN_CACHE_DIR", str(tmp_path / "cache"))
    work = [tmp_path / "work-0", tmp_path / "work-1"]
    for folder in work:
        folder.mkdir()
    runs = [Terraform.prepare(folder, tmp_path, binary=fake) for folder in work]

    def command(i: int, name: str) -> None:
        time.sleep(0.25 * i)  # the second starts while the first runs
        runs[i].run(work[i], name)

    with ThreadPoolExecutor(2) as pool:
        list(pool.map(command, [0, 1], [first, second]))
    assert log.read_text().split() == seen


_TWO_INSTANCES = """
variable "vpc_id" {
  type = string
}

variable "servers" {
  type = any
}

provider "aws" {}

module "prod" {
  source      = "./module"
  vpc_id      = var.vpc_id
  name_prefix = "prod-"
}

module "test" {
  source      = "./module"
  vpc_id      = var.vpc_id
  name_prefix = "test-"
}
"""


def test_two_instances_of_a_module_apply_side_by_side_and_a_new_prefix_creates_first(
        terraform: Any, moto_server: Any, tmp_path: Path) -> None:
    endpoint, ec2 = moto_server
    landscape = provision_servers(ec2, load_topology(DMZ_EXAMPLE))
    root = tmp_path / "root"
    shutil.copytree(ROOT / "modules" / "plant-north" / "aws", root / "module")
    (root / "main.tf").write_text(_TWO_INSTANCES)
    terraform.init(root)
    apply_root(terraform, root, endpoint, landscape, replan=False, keep_plan=False)
    groups = ec2.describe_security_groups(Filters=[
        {"Name": "vpc-id", "Values": [landscape.vpc_id]},
        {"Name": "tag:scadafw:system", "Values": ["plant-north"]}])["SecurityGroups"]
    names = sorted(g["GroupName"].rsplit("-", 1)[0] for g in groups)  # without the suffix
    assert names == sorted(f"{env}-{group}" for env in ("prod", "test") for group in (
        "redundant", "permanent-standby", "dmz-permanent-standby"))
    # a real rename of one instance: its groups and rules are replaced, new before old
    (root / "main.tf").write_text(_TWO_INSTANCES.replace('"test-"', '"staging-"'))
    terraform.plan(root, "rename.out")
    plan = terraform.show(root, "rename.out")
    gaps, _ = replan_changes(plan)  # moto's description gap, on both instances' rules
    changes = [c for c in plan["resource_changes"]
               if c["change"]["actions"] != ["no-op"] and c["address"] not in gaps]
    assert all(c["address"].startswith("module.test.") for c in changes)
    assert {c["change"]["actions"][0] for c in changes} == {"create"}
    assert all(c["change"]["actions"] == ["create", "delete"] for c in changes), [
        (c["address"], c["change"]["actions"]) for c in changes]
    assert {c["type"] for c in changes} == {"aws_security_group",
                                            "aws_vpc_security_group_ingress_rule",
                                            "aws_vpc_security_group_egress_rule"}
