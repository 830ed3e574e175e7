"""The questions asked of the judge, and their answers: `verify` (the emitted modules, and
`terraform` through the real provider), `review` (a plan), `audit` (a live account, with
`drift`), `diff` (two topologies); one finding type and one printer (`report`, `judgement`)."""
