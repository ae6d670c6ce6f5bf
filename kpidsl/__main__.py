"""`python -m kpidsl` runs the command line."""

from .cli import main

main()
