"""`kpidsl fmt`: rewrite schemes in the one canonical layout (or check / show the diff)."""

from __future__ import annotations

import difflib
import sys

import click

from .common import FINDINGS, OK, USAGE, expand_paths, handle_errors


@click.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@click.option("--check", "check_only", is_flag=True,
              help="Change nothing; exit 1 if some file is not formatted.")
@click.option("--diff", "show_diff", is_flag=True,
              help="Change nothing; print a unified diff of what would change.")
@handle_errors
def fmt(paths: tuple[str, ...], check_only: bool, show_diff: bool) -> None:
    """Format schemes in place: one canonical layout, comments kept, meaning unchanged.

    PATHS are .kpi files or directories (searched recursively); '-' formats stdin to
    stdout. Exit 1 with --check (or --diff) when a file would change; 2 when a file does
    not parse (its syntax errors are printed).

    \b
    Example:
      kpidsl fmt rulesets/
      kpidsl fmt --check --diff rulesets/b2b_manager.kpi
    """
    from ..api import read_text
    from ..diagnostics import KpiError
    from ..formatter import format_source
    from ..outfile import write_text
    from .render import diagnostics_text

    if paths == ("-",):
        text = sys.stdin.read()
        click.echo(format_source(text, "<stdin>"), nl=False)
        sys.exit(OK)
    changed: list[str] = []
    broken = False
    for path in expand_paths(paths):
        try:
            text = read_text(path)
            formatted = format_source(text, str(path))
        except KpiError as exc:
            click.echo(diagnostics_text(exc.diagnostics), err=True)
            broken = True
            continue
        if formatted == text:
            continue
        changed.append(path)
        if show_diff:
            click.echo("".join(difflib.unified_diff(
                text.splitlines(keepends=True), formatted.splitlines(keepends=True),
                f"{path}", f"{path} (formatted)")), nl=False)
        if check_only or show_diff:
            click.echo(f"would reformat {path}", err=True)
        else:
            write_text(path, formatted, newline="\n")  # whole, or the file as it was
            click.echo(f"reformatted {path}", err=True)
    if broken:
        sys.exit(USAGE)
    sys.exit(FINDINGS if changed and (check_only or show_diff) else OK)


COMMANDS = [fmt]
