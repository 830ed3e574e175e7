"""An AWS account as it stands before the module arrives, in moto running as a real endpoint.

The servers exist already: one VPC holding every server address of the topology (one subnet per
/24), one instance per server with an interface per IPv4 address (its Main and Backup links),
each instance launched with a group of its own, as instances are. That launch group is what
a console launch gives: RDP from an administration network in, and AWS's default allow-all
egress out. The VPC's default group is there too, as in every VPC. Terraform then adds the
module's groups beside the launch group, and the proof reads back every group on every
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
    """What existed before Terraform ran: the inputs a root configuration is given."""

    vpc_id: str
    cidrs: list[str]
    interfaces: dict[str, list[str]] = field(default_factory=dict)  # server -> ENI ids
    launch_groups: dict[str, str] = field(default_factory=dict)  # server -> group id
    default_group: str = ""

    def inputs(self) -> dict[str, Any]:
        """The module inputs, as a terraform.tfvars.json holds them."""
        return {"vpc_id": self.vpc_id, "network_interface_ids": self.interfaces}


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
    """Create the VPC, subnets, launch groups, instances and interfaces of `system`."""
    blocks = _vpc_blocks(system)
    vpc = ec2.create_vpc(CidrBlock=str(blocks[0]))["Vpc"]["VpcId"]
    for block in blocks[1:]:
        ec2.associate_vpc_cidr_block(VpcId=vpc, CidrBlock=str(block))
    landscape = Landscape(vpc, [str(b) for b in blocks])
    landscape.default_group = ec2.describe_security_groups(Filters=[
        {"Name": "vpc-id", "Values": [vpc]},
        {"Name": "group-name", "Values": ["default"]}])["SecurityGroups"][0]["GroupId"]
    subnets: dict[ipaddress.IPv4Network, str] = {}

    def subnet_for(address: ipaddress.IPv4Address | None) -> str:
        network = (ipaddress.IPv4Network(f"{address}/24", strict=False) if address
                   else next(blocks[0].subnets(new_prefix=24)))
        if network not in subnets:
            subnets[network] = ec2.create_subnet(VpcId=vpc, CidrBlock=str(network))[
                "Subnet"]["SubnetId"]
        return subnets[network]

    for server in system.servers:
        launch = ec2.create_security_group(
            GroupName=f"{server.name}-launch", VpcId=vpc,
            Description=f"launch group of {server.name}: RDP from the admin network")["GroupId"]
        ec2.authorize_security_group_ingress(GroupId=launch, IpPermissions=[{
            "IpProtocol": "tcp", "FromPort": RDP_PORT, "ToPort": RDP_PORT,
            "IpRanges": [{"CidrIp": ADMIN_NETWORK, "Description": "RDP from jump hosts"}]}])
        landscape.launch_groups[server.name] = launch
        links: list[ipaddress.IPv4Address | None] = [
            a for a in _ipv4(server) if any(a in b for b in blocks)] or [None]
        request: dict[str, Any] = {
            "ImageId": _IMAGE, "MinCount": 1, "MaxCount": 1, "InstanceType": "t3.medium",
            "SubnetId": subnet_for(links[0]), "SecurityGroupIds": [launch],
            "TagSpecifications": [{"ResourceType": "instance",
                                   "Tags": [{"Key": "Name", "Value": server.name}]}]}
        if links[0] is not None:
            request["PrivateIpAddress"] = str(links[0])
        instance = ec2.run_instances(**request)["Instances"][0]
        enis = [instance["NetworkInterfaces"][0]["NetworkInterfaceId"]]
        for index, address in enumerate(links[1:], start=1):  # the Backup link(s)
            eni = ec2.create_network_interface(SubnetId=subnet_for(address),
                                               PrivateIpAddress=str(address), Groups=[launch])
            eni_id = eni["NetworkInterface"]["NetworkInterfaceId"]
            ec2.attach_network_interface(NetworkInterfaceId=eni_id, DeviceIndex=index,
                                         InstanceId=instance["InstanceId"])
            enis.append(eni_id)
        landscape.interfaces[server.name] = enis
    return landscape
