# Root configuration for the "triple-standby-dr" example: plans the committed module modules/grid-control/aws.
# Run: terraform init && terraform plan (with AWS credentials for the chosen region).
terraform {
  required_version = ">= 1.5.0"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 6.25"
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

module "geo_scada_firewall" {
  source = "../../../modules/grid-control/aws"

  vpc_id = "vpc-0123456789abcdef0" # placeholder: the VPC of the servers
  tags   = { environment = "example" }

  # placeholders: each server's ENIs, one per redundancy link
  network_interface_ids = {
    "dr-1"    = ["eni-0000000000000001"]
    "dr-2"    = ["eni-0000000000000002"]
    "dr-3"    = ["eni-0000000000000003"]
    "scada-1" = ["eni-0000000000000004"]
    "scada-2" = ["eni-0000000000000005"]
    "scada-3" = ["eni-0000000000000006"]
  }
}

output "security_group_ids" {
  value = module.geo_scada_firewall.security_group_ids
}
