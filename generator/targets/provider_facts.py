"""What the providers do when an attribute changes: the attributes whose change replaces a
resource (ForceNew / RequiresReplace) rather than updating it in place. Data, with sources;
`diff` marks such changes `-/+`, as `terraform plan` does.

Sources: hashicorp/terraform-provider-aws internal/service/ec2/vpc_security_group.go (name,
name_prefix, description, vpc_id: ForceNew), vpc_security_group_ingress_rule.go /
vpc_security_group_egress_rule.go (security_group_id: RequiresReplace; changing which of
cidr_ipv4, cidr_ipv6, prefix_list_id, referenced_security_group_id is set: replacement in
ModifyPlan); hashicorp/terraform-provider-azurerm internal/services/network (name,
resource_group_name, location via commonschema, network_security_group_name; the association
resources' two ids: ForceNew). The project's tests/data/provider-schemas/constraints.json
holds the same facts per attribute, with the commits they were read at.
"""

from __future__ import annotations

_AWS_RULE = frozenset({"security_group_id"})
_AWS_RULE_PEERS = ("cidr_ipv4", "cidr_ipv6", "prefix_list_id", "referenced_security_group_id")

FORCE_NEW: dict[str, frozenset[str]] = {
    "aws_security_group": frozenset({"name", "name_prefix", "description", "vpc_id"}),
    "aws_vpc_security_group_ingress_rule": _AWS_RULE,
    "aws_vpc_security_group_egress_rule": _AWS_RULE,
    "aws_network_interface_sg_attachment": frozenset({"network_interface_id",
                                                      "security_group_id"}),
    "azurerm_network_security_group": frozenset({"name", "resource_group_name", "location"}),
    "azurerm_application_security_group": frozenset({"name", "resource_group_name",
                                                     "location"}),
    "azurerm_network_security_rule": frozenset({"name", "resource_group_name",
                                                "network_security_group_name"}),
    "azurerm_network_interface_security_group_association": frozenset({
        "network_interface_id", "network_security_group_id"}),
    "azurerm_network_interface_application_security_group_association": frozenset({
        "network_interface_id", "application_security_group_id"}),
    "azurerm_subnet_network_security_group_association": frozenset({
        "subnet_id", "network_security_group_id"}),
}


def replaces(resource_type: str, old: dict[str, object], new: dict[str, object]) -> list[str]:
    """The changed attributes that replace the resource (empty: an update in place)."""
    changed = {k for k in old.keys() | new.keys() if old.get(k) != new.get(k)}
    found = sorted(changed & FORCE_NEW.get(resource_type, frozenset()))
    kinds = ({k for k in _AWS_RULE_PEERS if k in old}, {k for k in _AWS_RULE_PEERS if k in new})
    if resource_type.startswith("aws_vpc_security_group_") and kinds[0] != kinds[1]:
        found.append("the kind of peer (CIDR, prefix list or group)")
    return found
