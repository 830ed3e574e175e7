# Root configuration for the "hot-standby" example: plans the committed module modules/pump-station/azure.
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
  source = "../../../modules/pump-station/azure"

  resource_group_name = "rg-pump-station" # placeholder: an existing resource group
  location            = "westeurope"
  tags                = { environment = "example" }

  # placeholders: each server's NICs, keyed by redundancy link
  network_interface_ids = {
    "scada-a" = { main = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-pump-station/providers/Microsoft.Network/networkInterfaces/scada-a-nic" }
    "scada-b" = { main = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-pump-station/providers/Microsoft.Network/networkInterfaces/scada-b-nic" }
  }
}

output "network_security_group_ids" {
  value = module.geo_scada_firewall.network_security_group_ids
}
