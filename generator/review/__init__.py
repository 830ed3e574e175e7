"""`scadafw review`: a Terraform plan judged in Geo SCADA terms."""
