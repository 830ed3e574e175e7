"""An AWS account as it stands before the module arrives, in moto running as a real endpoint.

The servers exist already: one VPC holding every server address of the topology (one subnet per
/24 of them), and one instance per server, launched into an administration subnet with a group
of its own, as instances are: RDP in from an administration network, HTTPS out to it (updates
through a proxy). The VPC's default group is
there too, as in every VPC. The root configuration then creates each server's Geo SCADA link
interfaces at the topology's addresses, lists the module's groups on them (the one attachment
pattern: the resource that owns an interface lists its groups) and attaches them to the
instances, whose own groups it never touches. The proof reads back every group on every link
interface: what AWS would apply.
"""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from generator.model import Server, System

REGION = "eu-west-1"
ADMIN_NETWORK = "192.0.2.0/24"  # the jump hosts RDP comes from (a documentation range)
RDP_PORT = 3389
HTTPS_PORT = 443
_MAX_VPC_CIDRS = 5  # AWS: a primary and up to four secondary IPv4 blocks by default
_IMAGE = "ami-12c6146b"  # moto starts any image id; no real image is involved


@contextmanager
def moto_endpoint() -> Iterator[str]:
    """moto's server on an ephemeral port of 127.0.0.1, for as long as the block runs."""
    # imported here: moto's server pulls in flask and every service's models
    from moto.server import ThreadedMotoServer  # noqa: PLC0415

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no line per request on stderr
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


def ec2_client(endpoint: str) -> Any:
    import boto3  # noqa: PLC0415

    return boto3.client("ec2", endpoint_url=endpoint, region_name=REGION,
                        aws_access_key_id="testing", aws_secret_access_key="testing")


@dataclass
class Landscape:
    """What existed before Terraform ran, and the inputs a root configuration is given."""

    vpc_id: str
    cidrs: list[str]
    instances: dict[str, str] = field(default_factory=dict)  # server -> instance id
    links: dict[str, dict[str, Any]] = field(default_factory=dict)  # server -> address -> link
    launch_groups: dict[str, str] = field(default_factory=dict)  # server -> group id
    default_group: str = ""
    # server -> the ENI ids of its links, once they exist (Terraform's, or `create_links`)
    interfaces: dict[str, list[str]] = field(default_factory=dict)
    by_address: dict[str, str] = field(default_factory=dict)  # link address -> its ENI id

    def link_interfaces(self, links: list[tuple[Any, Any]]) -> dict[Any, str]:
        """Each link (server, address) of `links` -> the interface that holds its address."""
        return {link: self.by_address[str(link.address)] for _, link in links
                if str(link.address) in self.by_address}

    def inputs(self) -> dict[str, Any]:
        """The root configuration's inputs, as a terraform.tfvars.json holds them."""
        return {"vpc_id": self.vpc_id, "servers": {
            name: {"instance_id": self.instances[name], "links": self.links.get(name, {})}
            for name in sorted(self.instances)}}

    def server_of(self, address: str) -> str | None:
        return next((name for name, links in self.links.items() if address in links), None)


def _ipv4(server: Server) -> list[ipaddress.IPv4Address]:
    return [a for a in server.addresses if isinstance(a, ipaddress.IPv4Address)]


def _vpc_blocks(system: System) -> list[ipaddress.IPv4Network]:
    blocks: list[ipaddress.IPv4Network] = []
    for server in system.servers:
        for address in _ipv4(server):
            block = ipaddress.IPv4Network(f"{address}/16", strict=False)
            if block not in blocks and len(blocks) < _MAX_VPC_CIDRS:
                blocks.append(block)
    return blocks or [ipaddress.IPv4Network("10.0.0.0/16")]


def provision_servers(ec2: Any, system: System) -> Landscape:
    """Create the VPC, the subnets of the servers' links, and one instance per server, launched
    into an administration subnet with a launch group of its own. The Geo SCADA link
    interfaces (at the topology's addresses) are the root configuration's to create."""
    blocks = _vpc_blocks(system)
    vpc = ec2.create_vpc(CidrBlock=str(blocks[0]))["Vpc"]["VpcId"]
    for block in blocks[1:]:
        ec2.associate_vpc_cidr_block(VpcId=vpc, CidrBlock=str(block))
    landscape = Landscape(vpc, [str(b) for b in blocks])
    landscape.default_group = ec2.describe_security_groups(Filters=[
        {"Name": "vpc-id", "Values": [vpc]},
        {"Name": "group-name", "Values": ["default"]}])["SecurityGroups"][0]["GroupId"]
    subnets: dict[ipaddress.IPv4Network, str] = {}

    def subnet_for(network: ipaddress.IPv4Network) -> str:
        if network not in subnets:
            subnets[network] = ec2.create_subnet(VpcId=vpc, CidrBlock=str(network))[
                "Subnet"]["SubnetId"]
        return subnets[network]

    links = {s.name: [a for a in _ipv4(s) if any(a in b for b in blocks)]
             for s in system.servers}
    used = {ipaddress.IPv4Network(f"{a}/24", strict=False) for v in links.values() for a in v}
    admin = next(n for n in reversed(list(blocks[0].subnets(new_prefix=24))) if n not in used)
    for server in system.servers:
        launch = ec2.create_security_group(
            GroupName=f"{server.name}-launch", VpcId=vpc,
            Description=f"launch group of {server.name}: RDP from the admin network")["GroupId"]
        ec2.authorize_security_group_ingress(GroupId=launch, IpPermissions=[{
            "IpProtocol": "tcp", "FromPort": RDP_PORT, "ToPort": RDP_PORT,
            "IpRanges": [{"CidrIp": ADMIN_NETWORK, "Description": "RDP from jump hosts"}]}])
        ec2.authorize_security_group_egress(GroupId=launch, IpPermissions=[{
            "IpProtocol": "tcp", "FromPort": HTTPS_PORT, "ToPort": HTTPS_PORT,
            "IpRanges": [{"CidrIp": ADMIN_NETWORK, "Description": "updates via the proxy"}]}])
        ec2.revoke_security_group_egress(GroupId=launch, IpPermissions=[
            {"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])
        landscape.launch_groups[server.name] = launch
        instance = ec2.run_instances(
            ImageId=_IMAGE, MinCount=1, MaxCount=1, InstanceType="t3.medium",
            SubnetId=subnet_for(admin), SecurityGroupIds=[launch],
            TagSpecifications=[{"ResourceType": "instance",
                                "Tags": [{"Key": "Name", "Value": server.name}]}])
        landscape.instances[server.name] = instance["Instances"][0]["InstanceId"]
        landscape.links[server.name] = {
            str(address): {"subnet_id": subnet_for(ipaddress.IPv4Network(f"{address}/24",
                                                                          strict=False)),
                           "device_index": index}
            for index, address in enumerate(links[server.name], start=1)}
    return landscape


def create_links(ec2: Any, landscape: Landscape, groups: dict[str, list[str]]) -> None:
    """The link interfaces as the root configuration makes them, through boto3: one per
    address, with the groups `groups` gives its server (what the module's output gives),
    attached to the server's instance."""
    for server, links in sorted(landscape.links.items()):
        for address, link in sorted(links.items()):
            eni = ec2.create_network_interface(
                SubnetId=link["subnet_id"], PrivateIpAddress=address,
                Groups=groups.get(server) or [landscape.default_group])[
                "NetworkInterface"]["NetworkInterfaceId"]
            ec2.attach_network_interface(NetworkInterfaceId=eni, InstanceId=landscape.instances[
                server], DeviceIndex=link["device_index"])
            landscape.interfaces.setdefault(server, []).append(eni)
            landscape.by_address[address] = eni
