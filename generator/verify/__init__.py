"""Proof on the emitted files: read the .tf with python-hcl2, evaluate each cloud's semantics
(moto for AWS, an NSG evaluator for Azure), and compare every ordered server pair and service
with DOMAIN.md's flow matrix."""
