"""`python -m kpidsl` runs the command line."""

from .cli import run

run()
