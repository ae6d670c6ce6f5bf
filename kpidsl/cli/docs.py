"""`kpidsl doc` and `kpidsl statement`: plan documents and employee statements.

Both render through the Jinja templates in kpidsl/docs/templates from the same compiled
evaluator as `kpidsl eval`, so a signed plan and a month's statement cannot disagree with
what is paid. The group in `__init__.py` registers the commands listed in COMMANDS.
"""

from __future__ import annotations

import hashlib
import os
import re
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any, TypeVar

import click

from .common import (
    FINDINGS,
    OK,
    USAGE,
    FactsOptions,
    check_grade,
    facts_options,
    fail,
    handle_errors,
    lang_option,
    load_ruleset,
    run_facts,
)
from .options import month_option
from .render import wrote_text

F = TypeVar("F", bound=Callable[..., Any])


def document_options(function: F) -> F:
    """--format md|html and --template DIR, shared by both commands."""
    function = click.option(
        "--template", "template_dir", default=None, metavar="DIR",
        type=click.Path(file_okay=False, exists=True),
        help="Look for templates (plan.md.j2, statement.html.j2, ...) here first; the "
             "packaged ones fill in the rest.")(function)
    return click.option("--format", "fmt", type=click.Choice(["md", "html", "pdf"]),
                        default="md", show_default=True,
                        help="Markdown, self-contained HTML, or PDF (needs -o and the "
                             "kpidsl[pdf] extra).")(function)


@contextmanager
def _output(output: str | None, inputs: list[str],
            binary: bool = False) -> Iterator[IO[Any] | None]:
    """The -o file, checked (not an input, writable) and opened before any work is done,
    renamed into place when the block succeeds; None for stdout."""
    if output is None:
        yield None
        return
    from ..outfile import output as open_output

    with open_output(output, inputs=inputs, make_parents=True, binary=binary) as stream:
        yield stream
    click.echo(wrote_text(output), err=True)


def _write(text: str | bytes, stream: IO[Any] | None) -> None:
    if stream is None:
        click.echo(text, nl=False)
    else:
        stream.write(text)


def _document(html_or_text: str, fmt: str) -> str | bytes:
    """The rendered document as written: PDF bytes for --format pdf."""
    if fmt != "pdf":
        return html_or_text
    from ..docs.pdf import PdfUnavailable, html_to_pdf

    try:
        return html_to_pdf(html_or_text)
    except PdfUnavailable as exc:
        fail(str(exc))
        raise  # unreachable: fail exits


def _source_format(fmt: str) -> str:
    return "html" if fmt == "pdf" else fmt


def _template_errors(function: F) -> F:
    """A broken custom template is the user's mistake: say where, exit 2, no traceback."""
    import functools

    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from jinja2 import TemplateError, TemplateNotFound, TemplateSyntaxError

        try:
            return function(*args, **kwargs)
        except TemplateSyntaxError as exc:
            fail(f"template {exc.filename or exc.name}:{exc.lineno}: {exc.message}")
        except TemplateNotFound as exc:
            fail(f"template not found: {exc.name}")
        except TemplateError as exc:
            fail(f"template: {exc.message or exc}")

    return wrapper  # type: ignore[return-value]


@click.command("doc")
@click.argument("ruleset", type=click.Path(dir_okay=False))
@click.option("--grade", default=None, metavar="GRADE",
              help="The grade documented (default: the base scheme).")
@lang_option
@document_options
@click.option("--examples", type=click.Choice(["none", "appendix"]), default="none",
              show_default=True,
              help="The scheme's worked examples as an appendix, or not at all (the plan an "
                   "employee signs).")
@click.option("-o", "--output", type=click.Path(dir_okay=False), default=None,
              help="Write to FILE instead of stdout.")
@handle_errors
@_template_errors
def doc(ruleset: str, grade: str | None, lang: str, fmt: str, template_dir: str | None,
        examples: str, output: str | None) -> None:
    """Render the plan document of a scheme: who, KPIs, pay, curves with charts, earnings.

    Every figure (the earnings table at 70-120 %, the worked examples, the charts) comes
    from the scheme's compiled evaluator. To refresh the bundled examples in docs/examples,
    run `python -m kpidsl.docs.regenerate`.

    \b
    Example:
      kpidsl doc rulesets/b2b_manager.kpi --lang ru --format html -o plan.html
      kpidsl doc scheme.kpi --grade junior --lang en
    """
    from ..docs import render_plan

    if fmt == "pdf" and output is None:
        fail("--format pdf writes a file: give it with -o FILE")
    with _output(output, [ruleset, *([template_dir] if template_dir else [])],
                 binary=fmt == "pdf") as stream:
        scheme = load_ruleset(ruleset)
        check_grade(scheme, grade)
        text = render_plan(scheme, grade, lang, _source_format(fmt), template_dir,
                           examples=examples)
        _write(_document(text, fmt), stream)
    sys.exit(OK)


_UNSAFE = re.compile(r"[^\w.-]+")


_RESERVED = re.compile(r"(con|prn|aux|nul|com\d|lpt\d)", re.I)  # device names on Windows
_STEM_BYTES = 120  # a file-name limit is 255 bytes; room for "-n", the suffix, a temp prefix


def _file_name(employee: str, fmt: str, taken: set[str]) -> str:
    """A safe, unique file name for any id: unsafe characters become '_'; an id too long
    for a file name is cut and keeps a short hash of the whole id, so two long ids that
    share a beginning still get two files."""
    stem = _UNSAFE.sub("_", employee).strip("._") or "employee"
    if len(stem.encode("utf-8")) > _STEM_BYTES:
        digest = hashlib.sha256(employee.encode("utf-8", "surrogatepass")).hexdigest()[:10]
        cut = stem.encode("utf-8")[:_STEM_BYTES - 11].decode("utf-8", "ignore")
        stem = f"{cut}-{digest}"
    if _RESERVED.fullmatch(stem):
        stem += "_"
    name, n = f"{stem}.{fmt}", 1
    while name.lower() in taken:
        n += 1
        name = f"{stem}-{n}.{fmt}"
    taken.add(name.lower())
    return name


def _as_period(_ctx: click.Context, _param: click.Parameter, value: str | None) -> str | None:
    if value is None:
        return None
    if not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", value.strip()):
        raise click.BadParameter(f"expected a month as YYYY-MM, got {value!r}")
    return value.strip()


@click.command("statement")
@click.argument("ruleset", type=click.Path(dir_okay=False))
@click.argument("facts_paths", metavar="FACTS...", nargs=-1, required=True,
                type=click.Path(dir_okay=False))
@click.option("--employee", "-e", default=None, metavar="ID",
              help="The employee, as written in the id column.")
@click.option("--all", "every", is_flag=True,
              help="A statement for every employee, one file each in the -o directory.")
@click.option("-o", "--output", default=None, metavar="PATH",
              help="A file (one employee) or a directory (--all); default stdout.")
@facts_options
@month_option
@click.option("--period", default=None, metavar="YYYY-MM", callback=_as_period,
              help="The month paid, shown on every statement (sets --month when not given).")
@click.option("--ledger", "ledger_path", default=None, metavar="FILE",
              type=click.Path(dir_okay=False),
              help="Show the --period as this ledger closed it: draws, year to date, "
                   "clawbacks with the lines they reverse, balances carried in and out.")
@lang_option
@document_options
@handle_errors
@_template_errors
def statement(ruleset: str, facts_paths: tuple[str, ...], employee: str | None, every: bool,
              output: str | None, facts: FactsOptions, month: int | None, period: str | None,
              ledger_path: str | None, lang: str, fmt: str, template_dir: str | None) -> None:
    """Render employee statements: facts, each KPI line, the calculation and the total.

    Exit 1 when a facts row is bad (it is reported; the other statements are still
    written), 2 on a usage error or when no row has the id. With --ledger, the period must
    be closed in the ledger with the amounts the facts give (exit 2 otherwise).

    \b
    Example:
      kpidsl statement rulesets/b2b_manager.kpi rulesets/b2b_manager.facts.csv -e ivanov
      kpidsl statement scheme.kpi march.csv --all -o statements/ --lang ru --format html
      kpidsl statement scheme.kpi aug.csv -e ivanov --period 2025-08 --ledger pay.db
    """
    import datetime as dt

    from ..docs import render_statement

    if period is not None and month is None:
        month = int(period[5:7])
    # The footer's date: when the statement was made, or SOURCE_DATE_EPOCH's day (the
    # reproducible-builds convention), so a statement can be made again byte for byte.
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "")
    today = (dt.datetime.fromtimestamp(int(epoch), dt.timezone.utc).date() if epoch.isdigit()
             else dt.date.today()).isoformat()
    if every == (employee is not None):
        fail("give either --employee ID or --all")
    if every and output is None:
        fail("--all writes one file per employee: give the directory with -o DIR")
    if fmt == "pdf" and output is None:
        fail("--format pdf writes a file: give it with -o FILE")
    if ledger_path is not None and period is None:
        fail("--ledger shows a closed period: give it with --period YYYY-MM")

    def from_ledger(result: Any) -> dict[str, Any] | None:
        if ledger_path is None or period is None:
            return None
        from ..ledger.close import paid_per
        from ..ledger.document import ledger_context

        return ledger_context(ledger_path, dict(result.components), result.employee, period,
                              scheme.currency, lang, paid_per(scheme))

    inputs = [ruleset, *facts_paths, *([ledger_path] if ledger_path else []),
              *([template_dir] if template_dir else []),
              *([facts.mapping_file] if facts.mapping_file else [])]
    if employee is not None:
        with _output(output, inputs, binary=fmt == "pdf") as stream:
            scheme = load_ruleset(ruleset)
            check_grade(scheme, facts.grade)
            run = run_facts(scheme, facts_paths, facts, month=month, only=employee,
                            period=period)
            found = list(run.items)
            if not found:
                if run.failures:
                    sys.exit(FINDINGS)
                fail(f"no employee '{employee}' in {', '.join(facts_paths)}")
            item = found[0]
            text = render_statement(scheme, item.result, lang, _source_format(fmt),
                                    template_dir, name=item.extra.get("name", ""),
                                    month=month, period=period, generated=today,
                                    ledger=from_ledger(item.result))
            _write(_document(text, fmt), stream)
        sys.exit(FINDINGS if run.failures else OK)
    scheme = load_ruleset(ruleset)
    check_grade(scheme, facts.grade)
    run = run_facts(scheme, facts_paths, facts, month=month, period=period)
    items, failures = run.items, run.failures
    directory = Path(output)  # type: ignore[arg-type]
    if directory.exists() and not directory.is_dir():
        fail(f"{directory}: not a directory")
    directory.mkdir(parents=True, exist_ok=True)
    from ..outfile import write_bytes, write_text

    taken: set[str] = set()
    written = unwritten = 0
    for item in items:
        text = render_statement(scheme, item.result, lang, _source_format(fmt), template_dir,
                                name=item.extra.get("name", ""), month=month, period=period,
                                generated=today, ledger=from_ledger(item.result))
        path = directory / _file_name(item.result.employee, fmt, taken)
        try:
            document = _document(text, fmt)
            if isinstance(document, bytes):
                write_bytes(path, document, inputs=inputs)
            else:
                write_text(path, document, inputs=inputs)
        except OSError as exc:  # one file that cannot be written does not stop the others
            click.echo(f"error: {path}: {exc.strerror or exc}", err=True)
            unwritten += 1
            continue
        written += 1
    from ..i18n import section

    words = section("RUN", lang)
    rows = words["rows_one" if len(failures) == 1 else "rows_many"].format(n=len(failures))
    click.echo(words["wrote_statements"].format(
        count=words["statements_one" if written == 1 else "statements_many"].format(n=written),
        directory=directory)
        + (words["rows_failed"].format(count=rows) if failures else "")
        + (words["not_written"].format(n=unwritten) if unwritten else ""), err=True)
    sys.exit(FINDINGS if failures or unwritten else OK if written else USAGE)


COMMANDS = [doc, statement]
