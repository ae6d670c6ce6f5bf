"""The command line (placeholder until the full CLI lands): check and eval."""

from __future__ import annotations

import sys

import click

from .. import __version__


@click.group()
@click.version_option(__version__, prog_name="kpidsl")
def main() -> None:
    """kpidsl: KPI and bonus schemes for sales teams."""


@main.command()
@click.argument("paths", nargs=-1, required=True)
def check(paths: tuple[str, ...]) -> None:
    """Check schemes and print every diagnostic."""
    from ..api import check_source, read_text
    from ..diagnostics import KpiError, render_all
    from ..source import SourceFile

    failed = False
    for path in paths:
        try:
            _checked, diagnostics = check_source(SourceFile(path, read_text(path)))
        except KpiError as exc:
            diagnostics = exc.diagnostics
        if diagnostics:
            click.echo(render_all(diagnostics), err=False)
        failed |= any(d.is_error for d in diagnostics)
    sys.exit(1 if failed else 0)
