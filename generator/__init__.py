"""scadafw: firewall rules for redundant Geo SCADA Expert servers, as Terraform modules."""

__version__ = "0.1.0"
