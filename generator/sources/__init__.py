"""What feeds the judge: the emitted HCL, the state moto holds after building it, a Terraform
plan, and the live AWS and Azure APIs. Each turns what it reads into the judge's cloud shapes
(generator/judge/aws.py, generator/judge/azure.py); none of them decides anything."""
