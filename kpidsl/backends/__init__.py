"""Backends: each prints the lowered form (kpidsl/lower.py), as optimised by
kpidsl/optimise.py, in its own language. `python` is the evaluator every command runs;
kpidsl/sql/ writes SQL for a database."""
