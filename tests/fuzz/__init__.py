"""Fuzzing kpidsl: scheme generators, the crash oracle, and the long-run scripts."""
