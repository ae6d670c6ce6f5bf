"""`kpidsl test`: run the examples written inside schemes, and measure boundary coverage.

Every failure is printed with what was expected and what came out, the .kpi line of the
expectation (with a caret), and the whole calculation, so it can be checked by hand. The
run ends with a line `N passed, M failed` alone on its line.
"""

from __future__ import annotations

import sys
from decimal import Decimal

import click

from .common import FINDINGS, OK, expand_paths, handle_errors, lang_option


@click.command("test")
@click.argument("paths", nargs=-1, type=click.Path())
@click.option("--coverage", "show_coverage", is_flag=True,
              help="Print, for every curve threshold, whether an example sits at, just below "
                   "and just above it.")
@click.option("--min-coverage", type=click.FloatRange(0, 100), default=None, metavar="PCT",
              help="Fail (exit 1) when a scheme's boundary coverage is below PCT percent.")
@click.option("--verbose", "-v", is_flag=True, help="Name every example, passed or not.")
@lang_option
@handle_errors
def test_command(paths: tuple[str, ...], show_coverage: bool, min_coverage: float | None,
                 verbose: bool, lang: str) -> None:
    """Run the examples inside schemes as tests.

    PATHS are .kpi files or directories (default: the current directory, recursively).
    Exit 0 when every example passes, 1 when one fails, a scheme does not compile or the
    coverage is below --min-coverage.

    \b
    Example:
      kpidsl test rulesets/
      kpidsl test --coverage --min-coverage 80 rulesets/b2b_manager.kpi
    """
    from ..api import load
    from ..diagnostics import KpiError
    from ..i18n import section
    from ..testing import boundary_coverage, coverage_percent, run_examples
    from .render import diagnostics_text

    words = section("TEST", lang)
    passed = failed = 0
    below: list[str] = []
    reports: list[str] = []
    for path in expand_paths(paths or (".",)):
        try:
            ruleset = load(path)
        except KpiError as exc:
            failed += 1
            click.echo(words["does_not_compile"].format(path=path))
            reports.append(words["has_errors"].format(path=path) + "\n"
                           + diagnostics_text([d for d in exc.diagnostics if d.is_error]))
            continue
        outcomes = run_examples(ruleset)
        ok = sum(o.passed for o in outcomes)
        bad = len(outcomes) - ok
        passed, failed = passed + ok, failed + bad
        counts = _counts(ok, bad, lang, always=False)
        click.echo(f"{path}: {counts if outcomes else words['no_examples']}")
        for outcome in outcomes:
            if verbose:
                mark = words["ok_mark"] if outcome.passed else words["failed_mark"]
                click.echo(f"  {mark} {outcome.example.name}")
            if not outcome.passed:
                reports.append(failure_text(ruleset, outcome, str(path), lang))
        if show_coverage or min_coverage is not None:
            boundaries = boundary_coverage(ruleset, outcomes)
            percent = coverage_percent(boundaries)
            if show_coverage:
                reports.append(coverage_text(str(path), boundaries, percent, lang))
            if min_coverage is not None and percent < Decimal(str(min_coverage)):
                below.append(words["below_minimum"].format(
                    path=path, percent=percent, minimum=_plain(Decimal(str(min_coverage)))))
    for report in reports:
        click.echo("\n" + report)
    if below:
        click.echo("")
        for line in below:
            click.echo(line)
    click.echo(f"\n{_counts(passed, failed, lang, always=True)}")
    sys.exit(FINDINGS if failed or below else OK)


def _counts(passed: int, failed: int, lang: str, *, always: bool) -> str:
    """'7 passed, 0 failed' / 'пройдено: 7, не пройдено: 0' (CI greps the English one)."""
    from ..i18n import section

    words = section("TEST", lang)
    return words["passed"].format(n=passed) + (
        ", " + words["failed"].format(n=failed) if failed or always else "")


def _plain(value: Decimal) -> str:
    return format(value.normalize(), "f")


def _value(value: Decimal | None, percent: bool, lang: str = "en") -> str:
    from ..i18n import section
    from .render import amount_text, percent_text

    if value is None:
        return section("TEST", lang)["not_computed"]
    if percent:
        return percent_text(value, lang)
    return amount_text(value.quantize(Decimal(1)) if value == value.to_integral_value() else value,
                       lang)


def _what(expectation, words: dict[str, str]) -> str:  # type: ignore[no-untyped-def]
    """What an example expected, in words: 'total', 'bonus for revenue', 'plan of calls'."""
    if expectation.target == "total":
        return words["what_total"]
    if expectation.target in ("attainment", "plan"):
        return words[f"what_{expectation.target}"].format(name=expectation.name)
    if expectation.target == "name":
        return str(expectation.name)
    return words["what_line"].format(pay=expectation.name, kpi=expectation.item)


def failure_text(ruleset, outcome, path: str, lang: str) -> str:  # type: ignore[no-untyped-def]
    """One failed example: each mismatch at its .kpi line, then the whole calculation."""
    from ..explain import explain
    from ..i18n import section
    from .render import diagnostics_text

    words = section("TEST", lang)
    example = outcome.example
    label = f' "{example.label}"' if example.label else ""
    lines = [words["failed_example"].format(path=path, line=example.span.line,
                                            name=example.name, label=label)]
    source = ruleset.checked.source
    for m in outcome.mismatches:
        span = m.expectation.span
        percent = m.expectation.target == "attainment"
        what = m.what if lang == "en" else _what(m.expectation, words)
        head = f"{path}:{span.line}:{span.column}: " + words["mismatch"].format(
            what=what, expected=_value(m.expected, percent, lang),
            actual=_value(m.actual, percent, lang))
        if m.actual is not None and not percent:
            difference = m.actual - m.expected
            head += f" ({'+' if difference > 0 else ''}{_value(difference, False, lang)})"
        lines.append(head)
        text = source.line_text(span.line)
        if text:
            gutter = str(span.line)
            end = span.end_column if span.end_line == span.line else len(text) + 1
            width = max(1, end - span.column)
            lines.append(f" {gutter} | {text}")
            lines.append(f" {' ' * len(gutter)} | {' ' * (span.column - 1)}{'^' * width}")
    if outcome.errors:
        lines.append(diagnostics_text(outcome.errors))
    if outcome.result is not None:
        lines.append("  " + words["calculation"])
        lines += ["    " + line for line in explain(ruleset, outcome.result, lang)]
    return "\n".join(lines)


def coverage_text(path: str, boundaries, percent: Decimal,  # type: ignore[no-untyped-def]
                  lang: str = "en") -> str:
    """The boundary table: one row per curve threshold, with what is still missing."""
    from ..i18n import section
    from .render import grid, percent_text

    words = section("TEST", lang)
    covered = sum(b.covered for b in boundaries)
    head = words["coverage_head"].format(path=path, covered=covered, total=3 * len(boundaries),
                                         percent=percent if lang == "en"
                                         else str(percent).replace(".", ","))
    if not boundaries:
        return head + "\n  " + words["no_thresholds"]
    cells = [words["columns"].split("|")]
    missing = []
    for b in boundaries:
        amounts = abs(b.threshold) > 10
        shown = _plain(b.threshold) if amounts else percent_text(b.threshold, lang)
        cells.append([b.curve, shown, str(b.line), *(words["yes"] if flag else "-"
                                                      for flag in (b.below, b.at, b.above))])
        near = words["near_amount" if amounts else "near_percent"]
        for flag, where in ((b.below, "where_below"), (b.at, "where_at"),
                            (b.above, "where_above")):
            if not flag:
                missing.append("  " + words["add_example"].format(
                    where=words[where], threshold=shown, curve=b.curve, line=b.line, near=near))
    table = grid(cells, [False, True, True, False, False, False])
    body = "\n".join("  " + line for line in table.splitlines())
    return "\n".join([head, body, *missing])


COMMANDS = [test_command]
