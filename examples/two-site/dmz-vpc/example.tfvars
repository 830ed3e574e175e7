# Placeholders: the VPC of your Geo SCADA servers, each server's instance, and per
# redundancy link (its private IPv4 address) the subnet of its interface.
# terraform plan -var-file=example.tfvars
vpc_id = "vpc-0123456789abcdef0"

servers = {
  "scada-dmz" = {
    instance_id = "i-00000000000000001"
    links = {
      "10.63.9.10" = { subnet_id = "subnet-00000000000000001", device_index = 1 }
    }
  }
}
