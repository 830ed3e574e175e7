"""The judge: for every server address (link), each side, and every packet class in scope, the
exact set of far ends that pass every layer, compared with what the topology names. Semantics
only: no I/O. `addresses` and `intervals` are the sets; `rules` and `gates` the layer kinds;
`aws`, `aws_acl` and `azure` turn a cloud's state into gates; `sides` judges; `naming` tells
sets in the topology's words."""
