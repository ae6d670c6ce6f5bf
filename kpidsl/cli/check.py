"""`kpidsl check`: every diagnostic of every scheme, as text, JSON or GitHub annotations."""

from __future__ import annotations

import gc
import sys
from typing import TYPE_CHECKING

import click

from . import is_program
from .common import FINDINGS, OK, expand_paths, handle_errors, lang_option
from .render import DiagnosticsFormat

if TYPE_CHECKING:
    from ..diagnostics import Diagnostic


@click.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@click.option("--format", "output", type=click.Choice([f.value for f in DiagnosticsFormat]),
              default="text", show_default=True,
              help="text for people, json for tools, github for workflow annotations.")
@click.option("--strict", is_flag=True, help="Warnings fail the check too (exit 1).")
@click.option("--grades", "show_grades", is_flag=True,
              help="Also list what each grade changes from the scheme it is based on.")
@lang_option
@handle_errors
def check(paths: tuple[str, ...], output: str, strict: bool, show_grades: bool = False,
          lang: str = "en") -> None:
    """Check schemes and print every diagnostic.

    PATHS are .kpi files or directories (searched recursively for *.kpi). Exit 0 when
    there are no errors (and, with --strict, no warnings), 1 otherwise, 2 when a path
    cannot be read.

    \b
    Example:
      kpidsl check rulesets/
      kpidsl check --strict --format github rulesets/b2b_manager.kpi
      kpidsl check --grades rulesets/hunter.kpi
    """
    from .render import check_summary, diagnostics_github, diagnostics_json, diagnostics_text

    files = expand_paths(paths)
    # The cyclic collector is paused while the checker's modules load and the schemes are
    # parsed and checked: what they make stays alive until the end (modules, trees) or is
    # freed by reference counting, so every collection on the way traverses it in vain
    # (12 M instructions, 0.04× of `import lark, click`, for rulesets/b2b_manager.kpi).
    # In the `kpidsl` program it stays paused: the process ends here, and the first
    # collection after the pause would traverse all of it once more (8 M instructions).
    collecting = gc.isenabled()
    gc.disable()
    try:
        found, grades = _check_files(files, show_grades)
    finally:
        if collecting and not is_program():
            gc.enable()
    if output == DiagnosticsFormat.JSON:
        click.echo(diagnostics_json(found))
    elif output == DiagnosticsFormat.GITHUB:
        if found:
            click.echo(diagnostics_github(found))
    else:
        if found:
            click.echo(diagnostics_text(found) + "\n")
        for text in grades:
            click.echo(text)
        click.echo(check_summary(len(files), found, lang))
    failed = any(d.is_error or strict for d in found)
    sys.exit(FINDINGS if failed else OK)


def _check_files(files: list[str], show_grades: bool) -> tuple[list[Diagnostic], list[str]]:
    """Every diagnostic of `files`, and what each grade changes when `show_grades`."""
    from ..api import check_source, read_text
    from ..diagnostics import KpiError
    from ..source import SourceFile

    found: list[Diagnostic] = []
    grades: list[str] = []
    for path in files:
        try:
            checked, diagnostics = check_source(SourceFile(path, read_text(path)))
        except KpiError as exc:  # unreadable or not UTF-8: a finding about that file
            checked, diagnostics = None, exc.diagnostics
        found.extend(diagnostics)
        if show_grades and checked is not None and checked.grades:
            from ..checks.provenance import provenance_text

            grades.append(f"{path}:\n{provenance_text(checked.variants)}")
    return found, grades


COMMANDS = [check]
