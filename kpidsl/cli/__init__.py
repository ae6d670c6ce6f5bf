"""The command line: `kpidsl check | eval | explain | test | fmt | compile | completion`.

Each command lives in its own module and lists itself in that module's ``COMMANDS``; this
module only builds the group, and imports a command's module only when that command runs
(so `kpidsl check` starts without loading what `doc` or `eval` need). Modules of
``PLUGINS`` are optional: when one is installed, its commands are added. Exit codes, facts
options and the error handler are in ``common.py``, other shared options in ``options.py``;
facts are read and evaluated by the library's run layer (``kpidsl.run``); every piece of
output formatting is in the ``render`` package, one renderer per format.
"""

from __future__ import annotations

import gc
import importlib
import importlib.util

import click

from .. import __version__

# command name → the module (in this package) that defines it
COMMAND_MODULES = {
    "check": "check", "eval": "evaluate", "explain": "explain_cmd", "test": "test_cmd",
    "fmt": "fmt", "compile": "compile_cmd", "completion": "completion",
    "doc": "docs", "statement": "docs", "compare": "plans", "target": "plans",
    "lsp": "lsp_cmd", "close": "ledger_cmd", "ledger": "ledger_cmd",
}
PLUGINS = ("docs", "plans")


class _LazyGroup(click.Group):
    """A group that imports a command's module the first time the command is asked for."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        known = {name for name, module in COMMAND_MODULES.items() if _installed(module)}
        return sorted(known | set(super().list_commands(ctx)))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        module = COMMAND_MODULES.get(cmd_name)
        if cmd_name not in self.commands and module is not None and _installed(module):
            _register(module, optional=module in PLUGINS)
        return super().get_command(ctx, cmd_name)


def _installed(module_name: str) -> bool:
    return importlib.util.find_spec(f"{__name__}.{module_name}") is not None


CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


@click.group(cls=_LazyGroup, context_settings=CONTEXT)
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


_PROGRAM = False  # set by `run`: True in the `kpidsl` program, not in `main` called from Python


def is_program() -> bool:
    """True when `main` runs as the `kpidsl` program (and the process ends with it)."""
    return _PROGRAM


def run() -> None:
    """`kpidsl` as a program (the console script and `python -m kpidsl`): `main`, then
    every object still alive frozen out of the collector before the interpreter exits.

    At exit Python runs full collections that traverse every object still alive (the
    modules, the parser, the scheme's tree) only to find nothing to free: 40 M instructions
    of `kpidsl check rulesets/b2b_manager.kpi`'s 558 M (callgrind), 0.14× of `import lark,
    click`. Frozen objects are still freed as the modules are cleared; what the collector
    would have found (cycles) is left to the operating system, and every file a command
    writes is closed by the command before it returns. `main` called from Python (tests,
    `CliRunner`) is not affected: only the program freezes.
    """
    global _PROGRAM
    _PROGRAM = True
    try:
        main()
    finally:
        gc.freeze()


__all__ = ["main", "run"]
