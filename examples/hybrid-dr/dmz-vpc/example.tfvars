# Placeholders: the VPC of your Geo SCADA servers and each server's network interfaces
# (one per redundancy link). terraform plan -var-file=example.tfvars
vpc_id = "vpc-0123456789abcdef0"

network_interface_ids = {
  "scada-dmz" = ["eni-0000000000000001"]
}
