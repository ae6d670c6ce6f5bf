"""The command line: `kpidsl check | eval | explain | test | fmt | compile | completion`.

Each command lives in its own module and lists itself in that module's ``COMMANDS``; this
module only builds the group. Modules named in ``PLUGINS`` are optional: when one exists,
every click command in its ``COMMANDS`` list is added, so new command groups plug in without
editing this file. Exit codes, shared options and the error handler are in ``common.py``;
every piece of output formatting is in ``render.py``.
"""

from __future__ import annotations

import importlib

import click

from .. import __version__

BUILTIN = ("check", "evaluate", "explain_cmd", "test_cmd", "fmt", "compile_cmd", "completion")
PLUGINS = ("docs", "plans")

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


@click.group(context_settings=CONTEXT)
@click.version_option(__version__, "-V", "--version", prog_name="kpidsl")
def main() -> None:
    """kpidsl: KPI and bonus schemes for sales teams, checked, paid exactly and explained.

    Exit codes: 0 ok; 1 findings, failed rows or failed tests; 2 usage or I/O error.

    \b
    Example:
      kpidsl check rulesets/
      kpidsl eval rulesets/b2b_manager.kpi rulesets/b2b_manager.facts.csv
      kpidsl explain rulesets/b2b_manager.kpi rulesets/b2b_manager.facts.csv --employee ivanov
    """


def _register(module_name: str, optional: bool) -> None:
    qualified = f"{__name__}.{module_name}"
    try:
        module = importlib.import_module(qualified)
    except ModuleNotFoundError as exc:
        if optional and exc.name == qualified:
            return  # that command group is not installed in this build
        raise
    for command in getattr(module, "COMMANDS", ()):
        if isinstance(command, click.Command):
            main.add_command(command)


for _name in BUILTIN:
    _register(_name, optional=False)
for _name in PLUGINS:
    _register(_name, optional=True)

__all__ = ["main"]
