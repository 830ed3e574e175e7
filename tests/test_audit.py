"""`scadafw audit --aws` against moto running as a real endpoint on 127.0.0.1, reached the way a
user's boto3 reaches AWS (AWS_ENDPOINT_URL, credentials from the environment)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from netaddr import IPSet

from generator.sources.hcl_module import groups_by_server, read_module
from generator.sources.landscape import Landscape, create_links, provision_servers
from generator.sources.moto_module import _authorize_all, _create_groups
from generator.sources.terraform_apply import Applied
from generator.topology import load_topology
from tests.conftest import ROOT, run_cli

DMZ = ROOT / "examples" / "dmz.yaml"


@pytest.fixture
def account(moto_server: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    endpoint, ec2 = moto_server
    monkeypatch.setenv("AWS_ENDPOINT_URL", endpoint)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    return ec2


def deploy(ec2: Any, topology: Path = DMZ,
           modules: Path = ROOT / "modules") -> tuple[Landscape, dict[str, str]]:
    """The module built into the account as Terraform would (verify's builder, with the
    tags the module sets), and the servers' link interfaces created with the groups the
    module's output gives each server, as the example root configurations do."""
    system = load_topology(topology)
    land = provision_servers(ec2, system)
    module = read_module(modules / system.name / "aws")
    ids = _create_groups(ec2, land.vpc_id, module)
    for name, gid in ids.items():
        ec2.create_tags(Resources=[gid], Tags=[{"Key": "scadafw:system", "Value": system.name},
                                               {"Key": "scadafw:role-group", "Value": name}])
    _authorize_all(ec2, module, ids, {}, [])
    given = groups_by_server(module, "security_group_ids_by_server", "aws_security_group")
    create_links(ec2, land, {s: [ids[g] for g in names] for s, names in given.items()})
    return land, ids


def audit(vpc: str, *extra: str, topology: Path = DMZ) -> tuple[int, dict[str, Any], str]:
    result = run_cli("audit", topology, "--aws", "--vpc-id", vpc, "--format", "json", *extra)
    assert "Traceback" not in result.err
    report = json.loads(result.out) if result.out else {}
    return result.code, report, result.err


def wrong(report: dict[str, Any]) -> set[tuple[str, str]]:
    """(code, place) of every flow finding: forbidden and missing."""
    (found,) = report["results"]
    return {(f["code"], f["place"]) for f in found["findings"]
            if f["code"] in ("forbidden", "missing") and not f["note"]}


def finding(report: dict[str, Any], place: str) -> dict[str, Any]:
    (found,) = report["results"]
    (one,) = [f for f in found["findings"] if f["place"] == place and not f["note"]]
    return dict(one)


def problems(report: dict[str, Any]) -> list[str]:
    """Drift, interfaces not found and other problems, as their messages."""
    (found,) = report["results"]
    return [f["message"] for f in found["findings"]
            if f["code"] in ("drift", "not-found", "problem")]


def notes(report: dict[str, Any]) -> list[str]:
    (found,) = report["results"]
    return [f["message"] for f in found["findings"] if f["note"]]


def test_an_undrifted_deployment_applied_by_terraform_is_clean(
        account: Any, apply_example: Callable[..., Applied]) -> None:
    applied = apply_example(DMZ)
    code, report, err = audit(applied.landscape.vpc_id)
    assert code == 0, (err, problems(report))
    assert report["ok"] is True


def test_a_permissive_group_on_the_mains_interface_is_named(account: Any) -> None:
    land, _ = deploy(account)
    vendor = account.create_security_group(GroupName="vendor", Description="vendor access",
                                           VpcId=land.vpc_id)["GroupId"]
    account.authorize_security_group_ingress(GroupId=vendor, IpPermissions=[{
        "IpProtocol": "tcp", "FromPort": 5481, "ToPort": 5481,
        "IpRanges": [{"CidrIp": "10.30.0.0/16"}]}])
    eni = land.interfaces["scada-a"][0]
    groups = [g["GroupId"] for g in account.describe_network_interfaces(
        NetworkInterfaceIds=[eni])["NetworkInterfaces"][0]["Groups"]]
    account.modify_network_interface_attribute(NetworkInterfaceId=eni, Groups=[*groups, vendor])
    code, report, _ = audit(land.vpc_id)
    assert code == 1
    # the Main's own side admits the DMZ standby and the rest of its /16: that is the finding,
    # whatever the DMZ standby's egress does today
    assert wrong(report) == {("forbidden", "scada-a:10.10.1.10 inbound TCP 5481")}
    opened = finding(report, "scada-a:10.10.1.10 inbound TCP 5481")
    assert opened["peers"] == ["10.30.0.0/16"]
    assert opened["message"].startswith("scada-dmz 10.30.1.10/32; anyone else: ")
    assert f"group vendor ({vendor})" in opened["message"]
    # once the DMZ standby's side lets it out too, its egress is a latent note (the Main's
    # side is already the finding); --strict makes it one
    dmz = land.interfaces["scada-dmz"][0]
    dmz_groups = [g["GroupId"] for g in account.describe_network_interfaces(
        NetworkInterfaceIds=[dmz])["NetworkInterfaces"][0]["Groups"]]
    account.authorize_security_group_egress(GroupId=vendor, IpPermissions=[{
        "IpProtocol": "tcp", "FromPort": 5481, "ToPort": 5481,
        "IpRanges": [{"CidrIp": "10.10.0.0/16"}]}])
    account.modify_network_interface_attribute(NetworkInterfaceId=dmz,
                                               Groups=[*dmz_groups, vendor])
    code, report, _ = audit(land.vpc_id)
    assert code == 1
    # (the vendor group also admits the rest of 10.30.0.0/16 into the DMZ standby now)
    assert wrong(report) == {("forbidden", "scada-a:10.10.1.10 inbound TCP 5481"),
                             ("forbidden", "scada-dmz:10.30.1.10 inbound TCP 5481")}
    # (a new group keeps AWS's default allow-all egress: scada-dr is reached too)
    assert any(n.startswith("scada-dmz:10.30.1.10 reaches scada-a 10.10.1.10/32; scada-b "
                            "10.10.2.10/32; scada-dr 10.20.1.10/32 on TCP 5481 through rule ")
               and f"of group vendor ({vendor})" in n for n in notes(report))
    code, report, _ = audit(land.vpc_id, "--strict")
    assert ("forbidden", "scada-dmz:10.30.1.10 outbound TCP 5481") in wrong(report)


def test_a_deleted_egress_rule_is_reported_as_drift(account: Any) -> None:
    land, ids = deploy(account)
    rules = account.describe_security_group_rules(Filters=[
        {"Name": "group-id", "Values": [ids["redundant"]]}])["SecurityGroupRules"]
    (egress,) = [r for r in rules if r["IsEgress"] and r.get("ReferencedGroupInfo", {}).get(
        "GroupId") == ids["dmz_permanent_standby"] and r["IpProtocol"] == "tcp"]
    account.revoke_security_group_egress(GroupId=ids["redundant"],
                                         SecurityGroupRuleIds=[egress["SecurityGroupRuleId"]])
    code, report, _ = audit(land.vpc_id)
    assert code == 1
    # the link interfaces carry only the module's groups: the flow breaks, on both senders
    assert wrong(report) == {("missing", "scada-a:10.10.1.10 outbound TCP 5481"),
                             ("missing", "scada-b:10.10.2.10 outbound TCP 5481")}
    assert finding(report, "scada-a:10.10.1.10 outbound TCP 5481")["peers"] == ["10.30.1.10/32"]
    assert problems(report) == [
        "generated but missing: redundant egress tcp 5481-5481 group:dmz_permanent_standby"]


def test_a_changed_port_loses_the_flows_and_is_reported(account: Any) -> None:
    land, ids = deploy(account)
    rules = account.describe_security_group_rules(Filters=[
        {"Name": "group-id", "Values": [ids["redundant"]]}])["SecurityGroupRules"]
    (ingress,) = [r for r in rules if not r["IsEgress"] and r["IpProtocol"] == "tcp"
                  and r.get("ReferencedGroupInfo", {}).get("GroupId") == ids["redundant"]]
    account.revoke_security_group_ingress(GroupId=ids["redundant"],
                                          SecurityGroupRuleIds=[ingress["SecurityGroupRuleId"]])
    account.authorize_security_group_ingress(GroupId=ids["redundant"], IpPermissions=[{
        "IpProtocol": "tcp", "FromPort": 5482, "ToPort": 5482,
        "UserIdGroupPairs": [{"GroupId": ids["redundant"]}]}])
    code, report, _ = audit(land.vpc_id)
    assert code == 1
    assert wrong(report) == {("missing", "scada-a:10.10.1.10 inbound TCP 5481"),
                             ("missing", "scada-b:10.10.2.10 inbound TCP 5481")}
    found = problems(report)
    assert "generated but missing: redundant ingress tcp 5481-5481 group:redundant" in found
    assert any(p.startswith("not generated by scadafw: rule ") and "5482-5482" in p
               for p in found)


def test_a_server_whose_address_matches_no_interface_is_not_found(account: Any,
                                                                  tmp_path: Path) -> None:
    land, _ = deploy(account)
    moved = tmp_path / "dmz.yaml"
    moved.write_text(DMZ.read_text().replace("10.20.1.10", "10.20.1.99"))
    code, report, _ = audit(land.vpc_id, topology=moved)
    assert code == 1
    assert "scada-dr: no network interface has its address 10.20.1.99" in problems(report)
    (found,) = report["results"]
    assert {j["link"].split(":")[0] for j in found["judged"]} == {"scada-a", "scada-b",
                                                                  "scada-dmz"}


def test_hand_added_rules_for_whole_ranges_are_caught_exactly(account: Any,
                                                              tmp_path: Path) -> None:
    """Rules for 172.16.0.0/12 on the server port and 192.168.0.0/16 on a UDP listen port fall
    between any sampled addresses; by sets they are found whole."""
    topology = tmp_path / "plant.yaml"
    topology.write_text("""version: 2
system: plant-udp
targets: [aws]
servers:
  - {name: scada-a, role: main, addresses: [10.70.1.10]}
  - {name: scada-b, role: standby, addresses: [10.70.2.10]}
clients:
  - {name: corporate, sources: [172.16.5.0/24], services: [viewx]}
outstations:
  - {name: rtus, addresses: [192.168.40.0/24], protocol: udp, ports: [20001], listen_ports: [20001]}
""")
    modules = tmp_path / "modules"
    assert run_cli("generate", topology, "--out", modules).code == 0
    land, ids = deploy(account, topology, modules)
    account.authorize_security_group_ingress(GroupId=ids["redundant"], IpPermissions=[
        {"IpProtocol": "tcp", "FromPort": 5481, "ToPort": 5481,
         "IpRanges": [{"CidrIp": "172.16.0.0/12"}]},
        {"IpProtocol": "udp", "FromPort": 20001, "ToPort": 20001,
         "IpRanges": [{"CidrIp": "192.168.0.0/16"}]}])
    code, report, _ = audit(land.vpc_id, topology=topology)
    assert code == 1
    for server, address in (("scada-a", "10.70.1.10"), ("scada-b", "10.70.2.10")):
        tcp = finding(report, f"{server}:{address} inbound TCP 5481")
        assert IPSet(tcp["peers"]) == IPSet(["172.16.0.0/12"]) - IPSet(["172.16.5.0/24"])
        udp = finding(report, f"{server}:{address} inbound UDP 20001")
        assert IPSet(udp["peers"]) == IPSet(["192.168.0.0/16"]) - IPSet(["192.168.40.0/24"])
    assert any("not generated by scadafw" in p and "172.16.0.0/12" in p
               for p in problems(report))


def test_without_credentials_it_says_so_in_one_line(monkeypatch: pytest.MonkeyPatch,
                                                    tmp_path: Path) -> None:
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    result = run_cli("audit", DMZ, "--aws", "--region", "eu-west-1")
    assert result.code == 2
    assert result.err.strip().splitlines() == [
        "scadafw: AWS: no credentials found (environment, shared config, SSO or instance "
        "role); set AWS_PROFILE or pass --profile"]


def test_an_unreachable_endpoint_is_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    result = run_cli("audit", DMZ, "--aws", "--region", "eu-west-1")
    assert result.code == 2
    (line,) = result.err.strip().splitlines()
    assert line.startswith("scadafw: AWS: cannot reach http://127.0.0.1:9")


def _subnet_of(ec2: Any, eni: str) -> str:
    found = ec2.describe_network_interfaces(NetworkInterfaceIds=[eni])["NetworkInterfaces"][0]
    return str(found["SubnetId"])


def _acl_on(ec2: Any, vpc: str, subnet: str, entries: list[dict[str, Any]]) -> str:
    """A network ACL with `entries` (and nothing else but AWS's final deny), on `subnet`."""
    acl = ec2.create_network_acl(VpcId=vpc)["NetworkAcl"]["NetworkAclId"]
    for entry in entries:
        ec2.create_network_acl_entry(NetworkAclId=acl, **entry)
    current = ec2.describe_network_acls(Filters=[
        {"Name": "association.subnet-id", "Values": [subnet]}])["NetworkAcls"][0]
    (association,) = [a for a in current["Associations"] if a["SubnetId"] == subnet]
    ec2.replace_network_acl_association(AssociationId=association["NetworkAclAssociationId"],
                                        NetworkAclId=acl)
    return acl


ALLOW_ALL = [{"RuleNumber": 200, "Protocol": "-1", "RuleAction": "allow", "Egress": egress,
              "CidrBlock": "0.0.0.0/0"} for egress in (False, True)]


def test_a_network_acl_denying_synchronisation_is_named(account: Any) -> None:
    land, _ = deploy(account)
    main_eni = land.interfaces["scada-a"][0]
    acl = _acl_on(account, land.vpc_id, _subnet_of(account, main_eni), [
        {"RuleNumber": 100, "Protocol": "6", "RuleAction": "deny", "Egress": False,
         "CidrBlock": "0.0.0.0/0", "PortRange": {"From": 5481, "To": 5481}}, *ALLOW_ALL])
    code, report, _ = audit(land.vpc_id)
    assert code == 1
    assert wrong(report) == {("missing", "scada-a:10.10.1.10 inbound TCP 5481")}
    missing = finding(report, "scada-a:10.10.1.10 inbound TCP 5481")
    assert missing["peers"] == ["10.10.2.10/32", "10.20.1.10/32"]
    assert f"network ACL {acl} inbound rule 100 (deny)" in missing["message"]


def test_a_network_acl_refusing_the_replies_breaks_the_flows_it_lets_in(account: Any) -> None:
    """Stateless: the request comes in on 5481, its reply goes out to the client's source
    port; denying 1024-65535 outbound breaks every flow into the Main."""
    land, _ = deploy(account)
    acl = _acl_on(account, land.vpc_id, _subnet_of(account, land.interfaces["scada-a"][0]), [
        {"RuleNumber": 100, "Protocol": "6", "RuleAction": "deny", "Egress": True,
         "CidrBlock": "0.0.0.0/0", "PortRange": {"From": 1024, "To": 65535}}, *ALLOW_ALL])
    code, report, _ = audit(land.vpc_id)
    assert code == 1
    missing = finding(report, "scada-a:10.10.1.10 inbound TCP 5481")
    assert missing["code"] == "missing"
    assert f"network ACL {acl} outbound rule 100 (deny) (the reply)" in missing["message"]
    # and the Main's own connections out, whose replies come back on 1024-65535 inbound,
    # are let out: the ACL refuses only what comes back to the Main on those ports outbound
    assert not [f for f in wrong(report) if "outbound" in f[1] and f[0] == "missing"
                and "TCP" not in f[1]]


def test_a_group_removed_from_one_link_is_a_missing_flow_on_that_link(
        account: Any, tmp_path: Path) -> None:
    topology = tmp_path / "dmz.yaml"
    topology.write_text(DMZ.read_text().replace("addresses: [10.10.1.10]",
                                                "addresses: [10.10.1.10, 10.10.5.10]"))
    modules = tmp_path / "modules"
    assert run_cli("generate", topology, "--out", modules).code == 0
    land, _ = deploy(account, topology, modules)
    backup = land.by_address["10.10.5.10"]
    account.modify_network_interface_attribute(NetworkInterfaceId=backup,
                                               Groups=[land.default_group])
    code, report, _ = audit(land.vpc_id, topology=topology)
    assert code == 1
    places = {p for c, p in wrong(report) if c == "missing"}
    assert "scada-a:10.10.5.10 inbound TCP 5481" in places
    assert not [p for p in places if p.startswith("scada-a:10.10.1.10 ")]  # the main link


def test_a_clean_account_whose_launch_groups_keep_the_default_egress_exits_0(
        account: Any) -> None:
    land, _ = deploy(account)
    for group in land.launch_groups.values():
        account.authorize_security_group_egress(GroupId=group, IpPermissions=[
            {"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])
        for server, eni in ((s, e[0]) for s, e in land.interfaces.items()):
            if land.launch_groups[server] == group:  # the launch group on the link too
                groups = [g["GroupId"] for g in account.describe_network_interfaces(
                    NetworkInterfaceIds=[eni])["NetworkInterfaces"][0]["Groups"]]
                account.modify_network_interface_attribute(
                    NetworkInterfaceId=eni, Groups=sorted({*groups, group}))
    code, report, err = audit(land.vpc_id)
    assert code == 0, (err, wrong(report), problems(report))
    assert any("scada-dmz:10.30.1.10 reaches scada-a" in n for n in notes(report))  # latent
    code, _, _ = audit(land.vpc_id, "--strict")
    assert code == 1
