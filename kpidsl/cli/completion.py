"""`kpidsl completion`: the shell completion script for bash, zsh or fish."""

from __future__ import annotations

import click

from .common import fail


@click.command()
@click.argument("shell", type=click.Choice(["bash", "zsh", "fish"]))
def completion(shell: str) -> None:
    """Print the completion script for SHELL; source it from your shell's startup file.

    \b
    Example:
      kpidsl completion bash > ~/.kpidsl-complete.bash
      echo '. ~/.kpidsl-complete.bash' >> ~/.bashrc
      kpidsl completion fish > ~/.config/fish/completions/kpidsl.fish
    """
    from click.shell_completion import get_completion_class

    from . import main

    cls = get_completion_class(shell)
    if cls is None:  # pragma: no cover - the Choice above admits only known shells
        fail(f"no completion for {shell}")
        return
    click.echo(cls(main, {}, "kpidsl", "_KPIDSL_COMPLETE").source())


COMMANDS = [completion]
