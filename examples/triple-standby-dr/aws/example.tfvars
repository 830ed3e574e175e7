# Placeholders: the VPC of your Geo SCADA servers and each server's network interfaces
# (one per redundancy link). terraform plan -var-file=example.tfvars
vpc_id = "vpc-0123456789abcdef0"

network_interface_ids = {
  "dr-1"    = ["eni-0000000000000001"]
  "dr-2"    = ["eni-0000000000000002"]
  "dr-3"    = ["eni-0000000000000003"]
  "scada-1" = ["eni-0000000000000004"]
  "scada-2" = ["eni-0000000000000005"]
  "scada-3" = ["eni-0000000000000006"]
}
