"""Closing a period: evaluate, settle against the ledger's balances, then record or compare.

- A period not yet in the ledger is **closed**: every line of every employee's statement,
  the balances carried in and out, the facts, the scheme's version and hash and the inputs'
  hashes are written in one transaction (revision 0).
- A period already closed is **compared**: the statements are computed again and every
  difference with what the ledger holds is reported; nothing is written.
- With `reopen` and a reason, the differences are **recorded** as a new revision whose lines
  are the corrections (new − recorded), so the lines of all revisions add up to the
  corrected statement and nothing earlier is changed.

The ledger is locked before it is read and until the close is written (`Ledger.writing`):
what the close computed from is what it writes next to. Evaluation happens before the
lock, so a second writer waits for the write, not for the evaluation.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import re
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from ..diagnostics import Diagnostic, KpiError, Severity
from .inputs import read_deals, read_reversals
from .memory import (
    CLAWBACK,
    CLAWBACK_OUTSIDE,
    COMPONENT,
    DEAL,
    DEAL_LINE,
    DRAW_BALANCE,
    PAID_THIS_YEAR,
    REVERSAL_ROW,
    YEAR_BALANCE,
    ZERO,
    Carried,
    DealLine,
    Entry,
    Original,
    Reversal,
    Settlement,
    clawback_value,
    settle,
)
from .store import Ledger, Writer, amount_text, ledger_error

if TYPE_CHECKING:
    from ..api import Ruleset
    from ..run import FactsOptions, RowFailure

# the label of a period closed, by what the scheme pays: 2025-07, 2025-Q3, 2025
_PERIODS = {"month": (re.compile(r"\d{4}-(0[1-9]|1[0-2])"), "2025-07"),
            "quarter": (re.compile(r"\d{4}-Q[1-4]"), "2025-Q3"),
            "year": (re.compile(r"\d{4}"), "2025")}

Key = tuple[str, str, str]  # employee, kind, name


@dataclass(frozen=True)
class Difference:
    """One amount that differs between the ledger and the statement computed again."""

    employee: str
    what: str  # 'line' | 'balance' | 'fact' | 'employee'
    kind: str
    name: str
    recorded: Decimal | str | None
    now: Decimal | str | None


@dataclass
class Outcome:
    """What a close did: `status` is closed, same, different, reopened or unchanged."""

    status: str
    period: str
    revision: int
    settlements: list[Settlement]
    differences: list[Difference] = field(default_factory=list)
    # stale balances, changed inputs: (key of the LEDGER words, its values)
    notes: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    failures: list[RowFailure] = field(default_factory=list)
    reason: str = ""

    @property
    def paid(self) -> Decimal:
        return sum((s.paid for s in self.settlements), ZERO)


def _problem(message: str, hint: str = "", code: str = "KPI663", where: str = "") -> KpiError:
    """A refused close; `where` ('file:row') places it at a row of a deals or reversals file."""
    file, _, row = where.rpartition(":")
    if file and row.isdigit():
        return KpiError([Diagnostic(code, Severity.ERROR, message, file, int(row), 0,
                                    hint=hint)])
    return KpiError([Diagnostic(code, Severity.ERROR, message, "close", hint=hint)])


def paid_per(ruleset: Ruleset) -> str:
    """What a close of this scheme closes: its period, or a month when it is paid monthly."""
    header = ruleset.checked.header
    memory = header.memory
    return "month" if memory is not None and memory.paid_every else header.period or "month"


def check_period(period: str, kind: str = "month") -> None:
    pattern, example = _PERIODS.get(kind, _PERIODS["month"])
    if not pattern.fullmatch(period or ""):
        raise KpiError([Diagnostic("KPI623", Severity.ERROR, f"'{period}' is no {kind}",
                                   "--period", hint=f"the scheme is paid per {kind}: "
                                   f"--period {example}")])


def first_month(period: str) -> str:
    """The first month of a period closed: 2025-Q3 → 2025-07, 2025 → 2025-01."""
    if len(period) == 4:
        return f"{period}-01"
    if period[5] == "Q":
        return f"{period[:4]}-{(int(period[6]) - 1) * 3 + 1:02d}"
    return period


def label_of(month: str, kind: str) -> str:
    """The period a month (YYYY-MM) falls in, as the ledger names it."""
    import datetime as _dt

    from ..sources.dates import period_of

    return period_of(_dt.datetime(int(month[:4]), int(month[5:7]), 1), kind)


def memory_of(ruleset: Ruleset) -> tuple[Any, tuple[Decimal, Decimal | None] | None]:
    """The scheme's memory clauses and its draw folded to amounts (KPI660 when a close
    cannot pay this scheme period by period)."""
    from ..checks.fold import fold

    header = ruleset.checked.header
    memory = header.memory
    kind = paid_per(ruleset)
    if kind not in _PERIODS:
        raise _problem(f"scheme '{ruleset.name}' is paid per {kind}; a ledger closes months, "
                       "quarters or years", "close a scheme paid per month, quarter or year",
                       code="KPI660")
    if memory is None or memory.draw is None:
        return memory, None
    constants = ruleset.checked.base.constant_values
    amount = fold(memory.draw.amount, constants)
    at_most = fold(memory.draw.recovered_at_most, constants) \
        if memory.draw.recovered_at_most is not None else None
    return memory, (amount or ZERO, at_most)


def file_sha256(path: str | os.PathLike[str]) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        while chunk := stream.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def close_period(ledger_path: str | os.PathLike[str], ruleset: Ruleset,
                 facts_paths: list[str], facts: FactsOptions | None, period: str, *,
                 month: int | None = None, reopen: bool = False, reason: str = "",
                 deal_files: list[str] | None = None, reversal_files: list[str] | None = None,
                 on_failure: Callable[[RowFailure], None] | None = None,
                 on_warning: Callable[[Diagnostic], None] | None = None) -> Outcome:
    """Close (or compare, or reopen) `period` in the ledger; see the module's docstring.

    Facts rows that fail refuse the close (status 'failed', nothing written): a period is
    closed for everyone or for no one.
    """
    from ..run import evaluate_files

    kind = paid_per(ruleset)
    check_period(period, kind)
    if reopen and not reason.strip():
        raise _problem("a reopening needs a reason", "--reopen --reason \"late refund of "
                       "deal D-17\"", code="KPI665")
    memory, draw = memory_of(ruleset)
    deals = read_deals(deal_files or [])
    reversals = read_reversals(reversal_files or [])
    if reversals and (memory is None or memory.clawback is None):
        raise _problem(f"reversals were given but scheme '{ruleset.name}' says nothing about "
                       "clawbacks", "add e.g. 'clawback at original rate within 90 days' to "
                       "the scheme's header", code="KPI664")
    run = evaluate_files(ruleset, facts_paths, facts, month=month, on_failure=on_failure,
                         on_warning=on_warning, period=first_month(period))
    evaluated = [item.result for item in run]
    computed = {result.employee: result for result in evaluated}
    results = [(result.employee, result.grade, dict(result.components), dict(result.facts),
                _pool_lines(result), _deal_lines(result)) for result in evaluated]
    if run.failures:
        return Outcome("failed", period, -1, [], failures=list(run.failures))
    scheme_file = ruleset.checked.source.name
    inputs = [{"role": "facts", "file": p, "sha256": file_sha256(p)} for p in facts_paths]
    inputs += [{"role": "deals", "file": p, "sha256": file_sha256(p)} for p in deal_files or []]
    inputs += [{"role": "reversals", "file": p, "sha256": file_sha256(p)}
               for p in reversal_files or []]
    try:
        scheme_sha = file_sha256(scheme_file)
    except OSError:
        scheme_sha = hashlib.sha256(ruleset.checked.source.text.encode()).hexdigest()
    step, mode = ruleset.checked.payout_step, ruleset.checked.payout_mode

    with Ledger(ledger_path, create=True) as ledger, ledger.writing() as writer:
        ledger._check_format()  # another close may have created it while this one evaluated
        if ledger.empty:
            writer.create(ruleset.name)
        elif ledger.scheme != ruleset.name:
            raise ledger_error(f"is the ledger of scheme '{ledger.scheme}', not "
                               f"'{ruleset.name}'", ledger_path,
                               "each scheme keeps its own ledger file")
        notes: list[tuple[str, dict[str, str]]] = []
        carried = _carried(ledger, period)
        originals = _originals(ledger, period, reversals, kind)
        linked, reversal_rows = _export_reversals(ledger, period, results, reversals, memory,
                                                  step, mode, ruleset, computed)
        originals += linked
        _repeated_deals(ledger, period, results, deals)
        by_employee: dict[str, list[DealLine]] = defaultdict(list)
        for deal in deals:
            by_employee[deal.employee].append(deal)
        employees = {r[0] for r in results}
        strays = sorted(e for e in by_employee if e not in employees)
        if strays:
            raise _problem(f"the deals file pays {', '.join(strays)}, who "
                           f"{'is' if len(strays) == 1 else 'are'} not in the facts",
                           "every employee paid per deal needs a facts row")
        settlements = []
        facts_of: dict[str, dict[str, str]] = {}
        details: dict[str, dict[str, Any]] = {}
        for employee, grade, components, row_facts, lines, paid_deals in results:
            claws = [(r, o) for r, o in originals if o.employee == employee]
            settlement = settle(employee, components, memory, draw,
                                carried.get(employee, Carried()), by_employee[employee], claws,
                                step, mode, paid_deals, reversal_rows.get(employee))
            settlements.append(settlement)
            facts_of[employee] = {k: format(v, "f") for k, v in row_facts.items()}
            details[employee] = {"grade": grade, "lines": lines}
        labels = _labels(ruleset)
        strays = sorted({o.employee for _, o in originals} - employees)
        if strays:
            raise _problem(f"a reversal takes back a deal of {', '.join(strays)}, who "
                           f"{'is' if len(strays) == 1 else 'are'} not in the facts",
                           "a clawback is taken in the period of the reversal from the "
                           "employee's statement: give that employee's facts row")
        for settlement in settlements:  # never negative silently (docs/real-life.md#clawbacks)
            if settlement.paid < 0:
                notes.append(("note_negative", {"employee": settlement.employee,
                                                "paid": amount_text(settlement.paid),
                                                "period": period}))
        closings = ledger.closings(period)
        meta = _Meta(period, ruleset, scheme_file, scheme_sha, inputs, reason)
        if not closings:
            later = [p for p in ledger.periods() if p > period]
            if later and (memory is not None and (memory.draw or memory.paid_every)):
                notes.append(("note_later", {"later": ", ".join(later), "period": period}))
            closing = meta.write(writer, 0)
            _write_all(writer, closing, settlements, facts_of, details, labels)
            return Outcome("closed", period, 0, settlements, notes=notes)
        recorded = _recorded(ledger, period)
        last = closings[-1]
        differences = _differences(recorded, set(ledger.employees(last.id)),
                                   ledger.balances(last.id), ledger.facts(last.id), settlements,
                                   facts_of)
        if last.scheme_sha256 != scheme_sha:
            notes.append(("note_scheme", {"period": period, "file": last.scheme_file,
                                          "sha": last.scheme_sha256[:12]}))
        old_inputs = {(i["role"], i["sha256"]) for i in last.inputs}
        if old_inputs != {(i["role"], i["sha256"]) for i in inputs}:
            notes.append(("note_inputs", {"period": period}))
        if not reopen:
            status = "different" if any(d.what != "fact" for d in differences) else "same"
            return Outcome(status, period, last.revision, settlements, differences, notes)
        if not differences:
            return Outcome("unchanged", period, last.revision, settlements, [], notes)
        closing = meta.write(writer, last.revision + 1)
        _write_corrections(writer, closing, recorded, settlements, facts_of, details, labels)
        return Outcome("reopened", period, last.revision + 1, settlements, differences, notes,
                       reason=reason.strip())


def _labels(ruleset: Ruleset) -> dict[str, dict[str, str]]:
    """Each payment's label by language, kept with its lines: the ledger is read without
    the scheme."""
    from ..i18n import LANGUAGES
    from ..labels import label_in

    found: dict[str, dict[str, str]] = {}
    for variant in ruleset.checked.variants.values():
        for name, pay in variant.pays.items():
            found.setdefault(name, {lang: label_in(pay, lang) for lang in LANGUAGES})
    return found


def _component_detail(details: dict[str, Any], name: str,
                      labels: dict[str, dict[str, str]]) -> dict[str, Any]:
    return {"grade": details["grade"], "label": labels.get(name, {}),
            "lines": [line for line in details["lines"] if line["payment"] == name]}


def _deal_lines(result: Any) -> list[Entry]:
    """The deals the scheme paid itself (`pay ... for each deal`), one line each: recorded
    so that a later reversal finds them; their amounts are already in the payment's line."""
    found = []
    for deal in getattr(result, "deals", ()):
        rate = deal.exact / deal.credit if deal.credit else ZERO
        found.append(Entry(DEAL_LINE, deal.key, deal.amount, {
            "payment": deal.payment, "date": deal.date.date().isoformat(),
            "credit": format(deal.credit, "f"), "rate": format(rate, "f"),
            "exact": format(deal.exact, "f"), "file": deal.file, "row": deal.row,
            "slices": [{"tier": s.tier_text, "credit": format(s.credit, "f"),
                        "rate": format(s.rate, "f")} for s in deal.slices]}))
    return found


def _pool_lines(result: Any) -> list[dict[str, str]]:
    return [{"payment": line.payment, "kpi": line.kpi, "amount": format(line.amount, "f")}
            for line in result.lines]


@dataclass
class _Meta:
    period: str
    ruleset: Ruleset
    scheme_file: str
    sha256: str
    inputs: list[dict[str, str]]
    reason: str

    def write(self, writer: Writer, revision: int) -> int:
        from .. import __version__

        header = self.ruleset.checked.header
        return writer.closing(self.period, revision, self.reason.strip(), _now(),
                              self.ruleset.name, header.version or "", self.scheme_file,
                              self.sha256, self.inputs, f"kpidsl {__version__}")


def _now() -> str:
    """UTC now, or SOURCE_DATE_EPOCH when set (reproducible ledgers in tests)."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    seconds = int(epoch) if epoch and epoch.isdigit() else time.time()
    return dt.datetime.fromtimestamp(seconds, dt.timezone.utc).isoformat(timespec="seconds")


def _latest(ledger: Ledger) -> dict[str, int]:
    """period → the id of its latest revision."""
    return {c.period: c.id for c in ledger.closings()}  # ordered by period, revision


def _carried(ledger: Ledger, period: str) -> dict[str, Carried]:
    """Each employee's balances as the latest closed period before `period` left them;
    what year to date counts as paid only within the same year."""
    found: dict[str, Carried] = {}
    year = period[:4]
    for earlier, closing in sorted(_latest(ledger).items(), reverse=True):
        if earlier >= period:
            continue
        for employee, balances in ledger.balances(closing).items():
            if employee in found:
                continue
            carried = Carried()
            if DRAW_BALANCE in balances:
                carried.draw = balances[DRAW_BALANCE][1]
            if earlier[:4] == year:
                if PAID_THIS_YEAR in balances:
                    carried.paid_this_year = balances[PAID_THIS_YEAR][1]
                if YEAR_BALANCE in balances:
                    carried.year = balances[YEAR_BALANCE][1]
            found[employee] = carried
    return found


def _originals(ledger: Ledger, period: str, reversals: list[Reversal],
               kind: str = "month") -> list[tuple[Reversal, Original]]:
    """Each reversal with the original deal line(s) it takes back (KPI664 when there is
    none, when it was taken back already, or when it is not of an earlier period)."""
    found: list[tuple[Reversal, Original]] = []
    seen: set[tuple[str, str]] = set()
    for reversal in reversals:
        if label_of(reversal.date.isoformat()[:7], kind) != period:
            raise _problem(f"deal '{reversal.deal}' was reversed on {reversal.date}, not in "
                           f"{period}", "a clawback is taken in the period of the reversal: "
                           "close it with that period", "KPI664", reversal.where)
        lines = [line for kind in (DEAL, DEAL_LINE)
                 for line in ledger.lines(kind=kind, name=reversal.deal)
                 if (not reversal.employee or line.employee == reversal.employee)
                 and not _reverses(line)]
        if not lines:
            raise _problem(f"deal '{reversal.deal}' is in no closed period of the ledger",
                           "a deal is taken back only after it was paid; check the key",
                           "KPI664", reversal.where)
        by_original: dict[tuple[str, str], list[Any]] = defaultdict(list)
        for line in lines:
            by_original[(line.employee, line.period)].append(line)
        for (employee, paid_in), group in sorted(by_original.items()):
            if paid_in >= period:
                raise _problem(f"deal '{reversal.deal}' is paid in {paid_in}, not before "
                               f"{period}", "a deal paid and reversed in the same period is "
                               "left out of that period's deals file", "KPI664", reversal.where)
            if reversal.period and reversal.period != paid_in:
                raise _problem(f"deal '{reversal.deal}' was paid in {paid_in}, not in "
                               f"{reversal.period} as the file says", code="KPI664",
                               where=reversal.where)
            if (employee, reversal.deal) in seen:
                raise _problem(f"deal '{reversal.deal}' is reversed twice", code="KPI664",
                               where=reversal.where)
            seen.add((employee, reversal.deal))
            taken = [line for kind in (CLAWBACK, CLAWBACK_OUTSIDE)
                     for line in ledger.lines(kind=kind, name=reversal.deal, employee=employee)
                     if line.period != period]
            if taken:
                raise _problem(f"deal '{reversal.deal}' of '{employee}' was reversed "
                               f"already, in {taken[0].period}", "a deal is taken back once",
                               "KPI664", reversal.where)
            first = group[0]
            found.append((reversal, Original(
                employee, reversal.deal, paid_in, first.id,
                dt.date.fromisoformat(first.detail["date"]), Decimal(first.detail["credit"]),
                Decimal(first.detail["rate"]), sum((line.amount for line in group), ZERO),
                Decimal(first.detail["exact"]) if "exact" in first.detail else None)))
    return found


def _reverses(line: Any) -> bool:
    """A deal line of negative credit: a reversal row of an export, not a payment."""
    return line.kind == DEAL_LINE and Decimal(line.detail.get("credit", "0")) < 0


def _payment_total(ruleset: Ruleset, result: Any, payment: str,
                   left_out: set[tuple[str, int]]) -> Decimal:
    """What a per-deal payment's deals pay walked again without some rows (file, row)."""
    import decimal

    from ..runtime import CONTEXT
    from ..sources.run import source_plan
    from ..sources.transactions import Deal, walk

    plan = source_plan(ruleset)
    pay = plan.pays[payment]
    kept = [Deal((index,), d.key, d.date, d.file, d.row, d.credit, d.share)
            for index, d in enumerate(d for d in result.deals if d.payment == payment)
            if (d.file, d.row) not in left_out]
    kpi = result.kpis.get(pay.kpi)
    plan_value = kpi.plan if pay.running == "attainment" and kpi is not None else None
    with decimal.localcontext(CONTEXT):
        lines = walk(pay, result.employee, kept, plan_value, plan.payout_step, plan.payout_mode)
    return sum((line.amount for line in lines), ZERO)


def _export_reversals(ledger: Ledger, period: str, results: list[Any],
                      reversals: list[Reversal], memory: Any, step: Decimal, mode: str,
                      ruleset: Ruleset, computed: dict[str, Any]
                      ) -> tuple[list[tuple[Reversal, Original]], dict[str, list[Entry]]]:
    """Negative rows of a deals export that reverse a deal paid in an earlier closed period.

    The scheme's per-deal pay walks such a row back on this month's running total, which
    is neither of the values a clawback clause names (and often 0: the month's running
    total starts below the tier). Each such row is the deal's reversal: its clawback is
    taken as the scheme says, and a line of its own gives back what the walk took, so the
    deal is taken back once. A reading that could go two ways is refused (KPI664) with both:
    no clawback clause, the deal also in --reversals, a credit other than the deal's, a deal
    paid to someone else, or one reversed already."""
    found: list[tuple[Reversal, Original]] = []
    rows: dict[str, list[Entry]] = defaultdict(list)
    given = {(r.employee, r.deal) for r in reversals}
    for employee, _grade, _components, _facts, _lines, paid_deals in results:
        left_out: dict[str, set[tuple[str, int]]] = defaultdict(set)  # by payment
        # each payment's total walked without left_out[payment]: the walk without one more
        # row is the next row's "before", so a month of R reversal rows walks R times, not
        # 2R (5 000 deals of one employee, 50 reversal rows: 11.6 s → 6.4 s a close)
        walked_total: dict[str, Decimal] = {}
        for entry in paid_deals:
            credit = Decimal(entry.detail["credit"])
            if credit >= 0:
                continue
            key = entry.name
            earlier = [line for kind in (DEAL, DEAL_LINE)
                       for line in ledger.lines(kind=kind, name=key)
                       if line.period < period and not _reverses(line)]
            if not earlier:
                continue  # not paid in a closed period: the payment's own walk is all there is
            where = f"{entry.detail['file']}:{entry.detail['row']}"
            row_text = f"the row of deal '{key}' (credit {credit:f})"
            # what the row took from its payment: its own line, and what it did to the
            # running total of the deals after it (a hole below a tier's start pays nothing)
            payment, before = entry.detail["payment"], left_out[entry.detail["payment"]]
            without = {*before, (entry.detail["file"], entry.detail["row"])}
            if payment not in walked_total:
                walked_total[payment] = _payment_total(ruleset, computed[employee], payment,
                                                       before)
            total_without = _payment_total(ruleset, computed[employee], payment, without)
            walked = walked_total[payment] - total_without  # ≤ 0: taken
            mine = [line for line in earlier if line.employee == employee]
            if not mine:
                paid_to = sorted({(line.employee, line.period) for line in earlier})
                raise _problem(
                    f"{row_text} is credited to '{employee}', but the deal was paid to "
                    + ", ".join(f"'{e}' in {p}" for e, p in paid_to) + ": read as its "
                    f"reversal it is taken back from '{paid_to[0][0]}'; read as a deal of "
                    f"'{employee}' it pays {walked:f}", "correct the row's employee, or give "
                    "the deal another key", "KPI664", where)
            taken = [line for kind in (CLAWBACK, CLAWBACK_OUTSIDE)
                     for line in ledger.lines(kind=kind, name=key, employee=employee)
                     if line.period < period]
            if taken:
                raise _problem(f"{row_text} reverses a deal of '{employee}' reversed already, "
                               f"in {taken[0].period}", "a deal is taken back once: leave "
                               "the row out of the export", "KPI664", where)
            periods = sorted({line.period for line in mine})
            if len(periods) > 1:
                raise _problem(f"{row_text}: the deal was paid in {' and '.join(periods)}; "
                               "which payment does it reverse?", "give each deal its own key",
                               "KPI664", where)
            first = mine[0]
            original = Original(
                employee, key, periods[0], first.id, dt.date.fromisoformat(first.detail["date"]),
                Decimal(first.detail["credit"]), Decimal(first.detail["rate"]),
                sum((line.amount for line in mine), ZERO),
                Decimal(first.detail["exact"]) if "exact" in first.detail else None)
            at_rate = clawback_value(original, "rate", step, mode)
            readings = (f"read as the scheme's per-deal pay it takes back "
                        f"{amount_text(-walked)} (walked back on {period}'s running total); "
                        f"read as a clawback of the line "
                        f"paid in {original.period} ({original.paid:f}) it takes back "
                        f"{at_rate:f} at the original rate or {original.paid:f} as paid")
            clause = memory.clawback if memory is not None else None
            if clause is None:
                raise _problem(f"{row_text} reverses a deal paid in {original.period}: "
                               f"{readings}", "say how the scheme takes a reversed deal back: "
                               "'clawback at original rate' or 'clawback amount paid' in the "
                               "header", "KPI664", where)
            value = clawback_value(original, clause.basis, step, mode)
            if (employee, key) in given or ("", key) in given:
                raise _problem(f"{row_text} reverses a deal paid in {original.period}, and "
                               f"--reversals reverses it too: taken back once it is {value:f}; "
                               f"as both, the payment's walk-back and the clawback, "
                               f"{amount_text(value - walked)}", "give a reversal "
                               "once: in the export or in --reversals", "KPI664", where)
            if -credit != original.credit:
                raise _problem(f"{row_text} takes back part of a deal paid in "
                               f"{original.period} on a credit of {original.credit:f}: read as "
                               f"the deal's reversal the clawback takes back {value:f}; read as "
                               f"a partial refund the scheme's per-deal pay takes back "
                               f"{amount_text(-walked)}", "a clawback takes a whole deal back: "
                               "give the refund as its own deal key, or the whole credit", "KPI664",
                               where)
            left_out[payment], walked_total[payment] = without, total_without
            found.append((Reversal(key, dt.date.fromisoformat(entry.detail["date"]), employee,
                                   original.period, where), original))
            rows[employee].append(Entry(REVERSAL_ROW, key, -walked, {
                "file": entry.detail["file"], "row": entry.detail["row"],
                "credit": format(credit, "f"), "walked": format(walked, "f"),
                "original_period": original.period}))
    return found, rows


def _repeated_deals(ledger: Ledger, period: str, results: list[Any],
                    deals: list[DealLine]) -> None:
    """A deal paid again to the employee it was paid to in an earlier closed period (KPI666).

    The row could be the same deal exported once more (a close date moved, a filter
    widened) or a new payment on the deal (a second invoice under the deal's key): the
    first pays the deal twice, so neither is guessed. A deal taken back by a clawback
    since may be paid again (won back)."""
    paying: list[tuple[str, str, str, Decimal, str, str]] = []  # employee, key, credit ...
    for employee, _grade, _components, _facts, _lines, paid_deals in results:
        paying += [(employee, entry.name, entry.detail["credit"], entry.amount,
                    f"{entry.detail['file']}:{entry.detail['row']}",
                    "leave the row out of the export if the deal was paid already; a deal "
                    "paid again on purpose needs a key of each payment (the invoice's number "
                    "as the source's key column)")
                   for entry in paid_deals if Decimal(entry.detail["credit"]) > 0]
    paying += [(deal.employee, deal.deal, format(deal.credit, "f"), deal.paid, deal.where,
                "leave the line out of --deals if the deal was paid already; a deal paid "
                "again on purpose needs its own key") for deal in deals if deal.credit > 0]
    again = ledger.paid_before([(p[0], p[1]) for p in paying], (DEAL, DEAL_LINE), period)
    for employee, key, credit, amount, where, hint in paying:
        if (employee, key) not in again or ledger.paid_before(
                [(employee, key)], (CLAWBACK, CLAWBACK_OUTSIDE), period):
            continue
        earlier = [line for kind in (DEAL, DEAL_LINE)
                   for line in ledger.lines(kind=kind, name=key, employee=employee)
                   if line.period < period and not _reverses(line)]
        if not earlier:
            continue
        paid_in = sorted({line.period for line in earlier})
        paid = sum((line.amount for line in earlier), ZERO)
        raise _problem(f"deal '{key}' (credit {credit}) is paid to '{employee}' again: it was "
                       f"paid in {', '.join(paid_in)} ({amount_text(paid)}); read as the same "
                       f"deal exported again it is paid twice; read as a new payment on the "
                       f"deal it pays {amount_text(amount)} more", hint, "KPI666", where)


def _recorded(ledger: Ledger, period: str) -> dict[Key, Decimal]:
    """The period's lines summed over its revisions: the statement as the ledger has it."""
    totals: dict[Key, Decimal] = {}
    for employee, kind, name, amount in ledger.amounts(period):
        key = (employee, kind, name)
        totals[key] = totals.get(key, ZERO) + amount
    return totals


def _entries(settlements: list[Settlement]) -> dict[Key, Entry]:
    return {(s.employee, e.kind, e.name): e for s in settlements for e in s.entries}


def _differences(recorded: dict[Key, Decimal], old_employees: set[str],
                 balances: dict[str, dict[str, tuple[Decimal, Decimal]]],
                 facts: dict[str, dict[str, str]], settlements: list[Settlement],
                 facts_of: dict[str, dict[str, str]]) -> list[Difference]:
    found: list[Difference] = []
    now = _entries(settlements)
    new_employees = {s.employee for s in settlements}
    for employee in sorted(old_employees - new_employees):
        found.append(Difference(employee, "employee", "", "", "closed", None))
    for employee in sorted(new_employees - old_employees):
        found.append(Difference(employee, "employee", "", "", None, "new"))
    for key in [*now, *(k for k in recorded if k not in now)]:
        before = recorded.get(key, ZERO)
        after = now[key].amount if key in now else ZERO
        if before != after:
            found.append(Difference(key[0], "line", key[1], key[2], before, after))
    for settlement in settlements:
        old = balances.get(settlement.employee, {})
        for name in sorted(set(old) | set(settlement.balances)):
            before_in, before_out = old.get(name, (ZERO, ZERO))
            after_in, after_out = settlement.balances.get(name, (ZERO, ZERO))
            if (before_in, before_out) != (after_in, after_out):
                found.append(Difference(settlement.employee, "balance", "in", name, before_in,
                                        after_in) if before_in != after_in else
                             Difference(settlement.employee, "balance", "out", name,
                                        before_out, after_out))
        old_facts = facts.get(settlement.employee, {})
        new_facts = facts_of.get(settlement.employee, {})
        for name in sorted(set(old_facts) | set(new_facts)):
            before_fact, after_fact = old_facts.get(name), new_facts.get(name)
            if before_fact is None or after_fact is None or \
                    Decimal(before_fact) != Decimal(after_fact):
                found.append(Difference(settlement.employee, "fact", "", name, before_fact,
                                        after_fact))
    order = {"employee": 0, "line": 1, "balance": 2, "fact": 3}
    return sorted(found, key=lambda d: (d.employee, order[d.what]))


def _write_all(writer: Writer, closing: int, settlements: list[Settlement],
               facts_of: dict[str, dict[str, str]], details: dict[str, dict[str, Any]],
               labels: dict[str, dict[str, str]]) -> None:
    for settlement in settlements:
        employee = settlement.employee
        for seq, entry in enumerate(settlement.entries, start=1):
            detail = dict(entry.detail)
            if entry.kind == COMPONENT:
                detail = _component_detail(details[employee], entry.name, labels)
            writer.line(closing, employee, seq, entry.kind, entry.name, entry.amount, detail)
        _write_state(writer, closing, settlement, facts_of, details)


def _write_state(writer: Writer, closing: int, settlement: Settlement,
                 facts_of: dict[str, dict[str, str]], details: dict[str, dict[str, Any]]
                 ) -> None:
    writer.employee(closing, settlement.employee, details[settlement.employee]["grade"])
    for name, (carried_in, carried_out) in sorted(settlement.balances.items()):
        writer.balance(closing, settlement.employee, name, carried_in, carried_out)
    for name, value in facts_of.get(settlement.employee, {}).items():
        writer.fact(closing, settlement.employee, name, value)


def _write_corrections(writer: Writer, closing: int, recorded: dict[Key, Decimal],
                       settlements: list[Settlement], facts_of: dict[str, dict[str, str]],
                       details: dict[str, dict[str, Any]],
                       labels: dict[str, dict[str, str]]) -> None:
    """A reopening's lines: for each line, the new amount minus the recorded one."""
    now = _entries(settlements)
    seqs: dict[str, int] = defaultdict(int)
    for key in [*now, *(k for k in recorded if k not in now)]:
        before = recorded.get(key, ZERO)
        entry = now.get(key)
        after = entry.amount if entry is not None else ZERO
        if before == after:
            continue
        employee, kind, name = key
        detail = dict(entry.detail) if entry is not None else {}
        if kind == COMPONENT and employee in details:
            detail = _component_detail(details[employee], name, labels)
        detail |= {"recorded": format(before, "f"), "corrected": format(after, "f")}
        seqs[employee] += 1
        writer.line(closing, employee, seqs[employee], kind, name, after - before, detail)
    for settlement in settlements:
        _write_state(writer, closing, settlement, facts_of, details)


__all__ = ["Difference", "Outcome", "check_period", "close_period", "file_sha256", "first_month",
           "label_of", "memory_of", "paid_per"]
