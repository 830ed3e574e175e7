# Root configuration for the "triple-standby-dr" example: plans the committed module modules/grid-control/azure.
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
  source = "../../../modules/grid-control/azure"

  resource_group_name = "rg-grid-control" # placeholder: an existing resource group
  location            = "westeurope"
  tags                = { environment = "example" }

  # placeholders: each server's NICs, keyed by redundancy link
  network_interface_ids = {
    "dr-1"    = { main = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-grid-control/providers/Microsoft.Network/networkInterfaces/dr-1-nic" }
    "dr-2"    = { main = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-grid-control/providers/Microsoft.Network/networkInterfaces/dr-2-nic" }
    "dr-3"    = { main = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-grid-control/providers/Microsoft.Network/networkInterfaces/dr-3-nic" }
    "scada-1" = { main = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-grid-control/providers/Microsoft.Network/networkInterfaces/scada-1-nic" }
    "scada-2" = { main = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-grid-control/providers/Microsoft.Network/networkInterfaces/scada-2-nic" }
    "scada-3" = { main = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-grid-control/providers/Microsoft.Network/networkInterfaces/scada-3-nic" }
  }
}

output "network_security_group_ids" {
  value = module.geo_scada_firewall.network_security_group_ids
}
