"""`kpidsl lsp`: the language server for editors, over stdio (needs the `lsp` extra)."""

from __future__ import annotations

import sys

import click

from .common import USAGE


@click.command("lsp")
@click.option("--stdio", is_flag=True, help="Speak over stdin/stdout (the default and only way).")
def lsp(stdio: bool) -> None:
    """Run the language server: diagnostics as you type, hover, go to definition, references,
    rename, completion, formatting, outline and quick fixes for .kpi files.

    Editors start it themselves (the VS Code extension in editors/vscode does); see
    docs/editors.md. It needs pygls: pip install 'kpidsl[lsp]'.

    \b
    Example:
      kpidsl lsp
    """
    try:
        import pygls  # noqa: F401
    except ImportError:
        click.echo("kpidsl lsp needs the language-server extra: pip install 'kpidsl[lsp]'",
                   err=True)
        sys.exit(USAGE)
    from ..lsp.server import run

    run()


COMMANDS = [lsp]
