# Root configuration for the "hybrid-dr" example, network dr-vnet: plans the committed module modules/river-east/dr-vnet.
# Run: terraform init && terraform plan (with ARM_SUBSCRIPTION_ID set and az login done).
terraform {
  required_version = ">= 1.5.0"

  required_providers {
    azurerm = {
      source  = "hashicorp/azurerm"
      version = ">= 4.46"
    }
  }
}

provider "azurerm" {
  features {}
}

module "geo_scada_firewall" {
  source = "../../../modules/river-east/dr-vnet"

  resource_group_name = "rg-river-east" # placeholder: an existing resource group
  location            = "westeurope"
  tags                = { environment = "example" }

  # placeholder: the NSG the DR standby's NIC already has; scadafw adds its rules to it
  network_security_group_names = {
    permanent_standby = "nsg-scada-dr"
  }

  # placeholders: each server's NICs, keyed by redundancy link
  network_interface_ids = {
    "scada-dr" = { main = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-river-east/providers/Microsoft.Network/networkInterfaces/scada-dr-nic" }
  }
}

output "free_priority_ranges" {
  value = module.geo_scada_firewall.free_priority_ranges
}
