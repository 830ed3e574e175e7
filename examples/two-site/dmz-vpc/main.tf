# Root configuration for the "two-site" example, network dmz-vpc: plans the committed module modules/lake-shore/dmz-vpc.
# Run: terraform init && terraform plan -var-file=example.tfvars (with AWS credentials for the
# region; example.tfvars holds placeholders for the VPC, the instances and the link subnets).
#
# The one way scadafw's groups reach an interface: the resource that owns the interface lists
# them. Here that is this configuration's aws_network_interface per Geo SCADA link, attached to
# instances that keep their own launch groups on their primary interfaces. The module attaches
# nothing, so no two resources fight over one interface's groups. For instances managed in
# Terraform, list the groups in vpc_security_group_ids beside the instance's own instead:
#   vpc_security_group_ids = concat([aws_security_group.launch.id],
#     module.geo_scada_firewall.security_group_ids_by_server["<server>"])
terraform {
  required_version = ">= 1.5.0"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 4.56"
    }
  }
}

provider "aws" {
  region = var.region
}

variable "region" {
  description = "AWS region of the VPC that holds the servers."
  type        = string
  default     = "eu-west-1"
}

variable "vpc_id" {
  description = "ID of the VPC that holds the Geo SCADA servers."
  type        = string
}

variable "servers" {
  description = "Server name -> its instance, and per redundancy link (keyed by the link's private IPv4 address) the subnet and device index of that link's interface."
  type = map(object({
    instance_id = string
    links = map(object({
      subnet_id    = string
      device_index = number
    }))
  }))
}

module "geo_scada_firewall" {
  source = "../../../modules/lake-shore/dmz-vpc"

  vpc_id = var.vpc_id
  tags   = { environment = "example" }
}

locals {
  # one entry per link interface, keyed by its address: renaming a server or reordering its
  # links replaces nothing
  links = merge([for server, s in var.servers : {
    for address, link in s.links : address => merge(link, { server = server, instance_id = s.instance_id })
  }]...)
}

# The Geo SCADA link interfaces. This configuration owns them, so it alone lists their security
# groups: the module's, for the server the link belongs to.
resource "aws_network_interface" "geo_scada_link" {
  for_each = local.links

  subnet_id       = each.value.subnet_id
  private_ips     = [each.key]
  security_groups = module.geo_scada_firewall.security_group_ids_by_server[each.value.server]
  description     = "Geo SCADA link ${each.key} of ${each.value.server}"

  attachment {
    instance     = each.value.instance_id
    device_index = each.value.device_index
  }
}

output "security_group_ids" {
  value = module.geo_scada_firewall.security_group_ids
}
