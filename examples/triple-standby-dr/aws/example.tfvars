# Placeholders: the VPC of your Geo SCADA servers, each server's instance, and per
# redundancy link (its private IPv4 address) the subnet of its interface.
# terraform plan -var-file=example.tfvars
vpc_id = "vpc-0123456789abcdef0"

servers = {
  "dr-1" = {
    instance_id = "i-00000000000000001"
    links = {
      "10.60.1.10" = { subnet_id = "subnet-00000000000000001", device_index = 1 }
    }
  }
  "dr-2" = {
    instance_id = "i-00000000000000002"
    links = {
      "10.60.2.10" = { subnet_id = "subnet-00000000000000002", device_index = 1 }
    }
  }
  "dr-3" = {
    instance_id = "i-00000000000000003"
    links = {
      "10.60.3.10" = { subnet_id = "subnet-00000000000000003", device_index = 1 }
    }
  }
  "scada-1" = {
    instance_id = "i-00000000000000004"
    links = {
      "10.50.1.10" = { subnet_id = "subnet-00000000000000004", device_index = 1 }
    }
  }
  "scada-2" = {
    instance_id = "i-00000000000000005"
    links = {
      "10.50.2.10" = { subnet_id = "subnet-00000000000000005", device_index = 1 }
    }
  }
  "scada-3" = {
    instance_id = "i-00000000000000006"
    links = {
      "10.50.3.10" = { subnet_id = "subnet-00000000000000006", device_index = 1 }
    }
  }
}
