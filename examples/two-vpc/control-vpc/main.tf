# Root configuration for the "two-vpc" example, network control-vpc: plans the committed module modules/harbour/control-vpc.
# Run: terraform init && terraform plan -var-file=example.tfvars (with AWS credentials for the
# region; example.tfvars holds placeholders for the VPC and the servers' network interfaces).
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

variable "network_interface_ids" {
  description = "Server name -> IDs of that server's network interfaces, one per redundancy link."
  type        = map(list(string))
}

module "geo_scada_firewall" {
  source = "../../../modules/harbour/control-vpc"

  vpc_id                = var.vpc_id
  tags                  = { environment = "example" }
  network_interface_ids = var.network_interface_ids
}

output "security_group_ids" {
  value = module.geo_scada_firewall.security_group_ids
}
