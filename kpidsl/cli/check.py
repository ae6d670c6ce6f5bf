"""`kpidsl check`: every diagnostic of every scheme, as text, JSON or GitHub annotations."""

from __future__ import annotations

import sys

import click

from .common import FINDINGS, OK, expand_paths, handle_errors
from .render import DiagnosticsFormat


@click.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@click.option("--format", "output", type=click.Choice([f.value for f in DiagnosticsFormat]),
              default="text", show_default=True,
              help="text for people, json for tools, github for workflow annotations.")
@click.option("--strict", is_flag=True, help="Warnings fail the check too (exit 1).")
@handle_errors
def check(paths: tuple[str, ...], output: str, strict: bool) -> None:
    """Check schemes and print every diagnostic.

    PATHS are .kpi files or directories (searched recursively for *.kpi). Exit 0 when
    there are no errors (and, with --strict, no warnings), 1 otherwise, 2 when a path
    cannot be read.

    \b
    Example:
      kpidsl check rulesets/
      kpidsl check --strict --format github rulesets/b2b_manager.kpi
    """
    from ..api import check_source, read_text
    from ..diagnostics import KpiError
    from ..source import SourceFile
    from .render import check_summary, diagnostics_github, diagnostics_json, diagnostics_text

    files = expand_paths(paths)
    found = []
    for path in files:
        try:
            _checked, diagnostics = check_source(SourceFile(str(path), read_text(path)))
        except KpiError as exc:  # unreadable or not UTF-8: a finding about that file
            diagnostics = exc.diagnostics
        found.extend(diagnostics)
    if output == DiagnosticsFormat.JSON:
        click.echo(diagnostics_json(found))
    elif output == DiagnosticsFormat.GITHUB:
        if found:
            click.echo(diagnostics_github(found))
    else:
        if found:
            click.echo(diagnostics_text(found) + "\n")
        click.echo(check_summary(len(files), found))
    failed = any(d.is_error or strict for d in found)
    sys.exit(FINDINGS if failed else OK)


COMMANDS = [check]
