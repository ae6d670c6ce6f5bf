"""kpidsl: KPI and bonus schemes for sales teams, written as readable rules and paid exactly.

    import kpidsl
    scheme = kpidsl.load("rulesets/b2b_manager.kpi")
    result = scheme.evaluate({"revenue": "3300000", "avg_check": "142500",
                              "conversion": "2.1%", "calls": 950})
    result.total  # Decimal('119800.00')
"""

from .api import Ruleset, check, compile_source, load, loads
from .diagnostics import Diagnostic, KpiError, Severity
from .results import KpiResult, Line, Result
from .run import FactsOptions, Run, evaluate_files

__version__ = "0.1.0"

compile = compile_source

__all__ = [
    "Diagnostic", "FactsOptions", "KpiError", "KpiResult", "Line", "Result", "Ruleset", "Run",
    "Severity", "__version__", "check", "compile", "evaluate_files", "load", "loads",
]
