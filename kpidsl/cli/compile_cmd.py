"""`kpidsl compile`: the generated Python evaluator, to read, review or vendor."""

from __future__ import annotations

import click

from .common import handle_errors, load_ruleset
from .render import wrote_text


@click.command("compile")
@click.argument("ruleset", type=click.Path(dir_okay=False))
@click.option("-o", "--output", type=click.Path(dir_okay=False), default=None,
              help="Write the module to FILE instead of stdout.")
@click.option("--to", "target", type=click.Choice(["python", "sql"]), default="python",
              show_default=True, help="Generate the Python evaluator or SQL (docs/sql.md).")
@click.option("--dialect", type=click.Choice(["duckdb", "clickhouse", "postgres", "spark",
                                              "trino", "snowflake", "bigquery"]),
              default="duckdb", show_default=True, help="The SQL engine, with --to sql.")
@click.option("--table", default="facts", show_default=True,
              help="With --to sql: the table whose columns are the facts.")
@handle_errors
def compile_command(ruleset: str, output: str | None, target: str, dialect: str,
                    table: str) -> None:
    """Print the Python module generated from a scheme.

    The module imports only `decimal` and `kpidsl.runtime`; comments give the .kpi line of
    each block. Exit 2 when the scheme has errors.

    \b
    Example:
      kpidsl compile rulesets/b2b_manager.kpi -o b2b_manager.py
      kpidsl compile rulesets/b2b_manager.kpi --to sql --dialect clickhouse
    """
    def source() -> str:
        scheme = load_ruleset(ruleset)
        return scheme.to_sql(dialect, table=table) if target == "sql" else scheme.python_source

    if output is None:
        click.echo(source(), nl=False)
        return
    from ..outfile import output as open_output

    # an unwritable path fails before the scheme is compiled; renamed into place when complete
    with open_output(output, inputs=[ruleset], newline="\n") as stream:
        stream.write(source())
    click.echo(wrote_text(output), err=True)


COMMANDS = [compile_command]
