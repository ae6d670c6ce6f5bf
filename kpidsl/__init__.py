"""kpidsl: KPI and bonus schemes for sales teams, written as readable rules and paid exactly.

    import kpidsl
    scheme = kpidsl.load("rulesets/b2b_manager.kpi")
    result = scheme.evaluate({"revenue": "3300000", "avg_check": "142500",
                              "conversion": "2.1%", "calls": 950})
    result.total  # Decimal('119800.00')
"""

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

# Names are imported when first used (PEP 562): `kpidsl check` and the language server load
# the parser and the checker, not the evaluator, the code generator and the facts readers
# (which `import kpidsl.api` would load).
_LAZY = {
    "Ruleset": "api", "check": "api", "compile_source": "api", "compile": "api",
    "load": "api", "loads": "api", "Diagnostic": "diagnostics", "KpiError": "diagnostics",
    "Severity": "diagnostics", "KpiResult": "results", "Line": "results", "Result": "results",
    "FactsOptions": "run", "Run": "run", "evaluate_files": "run",
}

if TYPE_CHECKING:
    from .api import Ruleset, check, compile_source, load, loads
    from .diagnostics import Diagnostic, KpiError, Severity
    from .results import KpiResult, Line, Result
    from .run import FactsOptions, Run, evaluate_files

    compile = compile_source


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'kpidsl' has no attribute '{name}'")
    import importlib

    value = getattr(importlib.import_module(f".{module}", __name__),
                    "compile_source" if name == "compile" else name)
    globals()[name] = value
    return value


__all__ = [
    "Diagnostic", "FactsOptions", "KpiError", "KpiResult", "Line", "Result", "Ruleset", "Run",
    "Severity", "__version__", "check", "compile", "evaluate_files", "load", "loads",
]
