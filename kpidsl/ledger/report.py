"""What the ledger holds, for people (English, Russian) and for other systems (JSON).

- `statements(ledger, period)`: each employee's statement for a period, the lines of all
  revisions summed (the corrected statement), each with the revisions that made it;
- `summary(ledger)`: periods with their totals, corrections and balances;
- `stale(ledger)`: balances a period carried in that the period before no longer carries
  out (it was closed late or reopened since): the differences left to resolve;
- `*_text` renders them; `ledger_dict` is the JSON (amounts as exact decimals in strings).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from ..i18n import Words
from .close import Difference, Outcome, _carried
from .memory import (
    CLAWBACK,
    COMPONENT,
    DRAW,
    DRAW_BALANCE,
    PAID_KINDS,
    PAID_THIS_YEAR,
    RECOVERY,
    YEAR_BALANCE,
    ZERO,
)
from .store import Closing, Ledger, amount_text

CENT = Decimal("0.01")


@dataclass
class StatementLine:
    kind: str
    name: str
    amount: Decimal
    detail: dict[str, Any]
    line: int  # the id of its first line in the ledger
    revisions: list[tuple[int, Decimal, str]] = field(default_factory=list)  # rev, amount, reason


@dataclass
class Statement:
    employee: str
    period: str
    lines: list[StatementLine]
    balances: dict[str, tuple[Decimal, Decimal]]
    facts: dict[str, str]

    def total(self, kinds: Iterable[str]) -> Decimal:
        wanted = set(kinds)
        return sum((line.amount for line in self.lines if line.kind in wanted), ZERO)

    @property
    def paid(self) -> Decimal:
        return self.total(PAID_KINDS)

    @property
    def earned(self) -> Decimal:
        return self.total([COMPONENT])


def statements(ledger: Ledger, period: str) -> dict[str, Statement]:
    closings = ledger.closings(period)
    if not closings:
        return {}
    reasons = {c.revision: c.reason for c in closings}
    found: dict[str, Statement] = {}
    lines: dict[tuple[str, str, str], StatementLine] = {}
    last = closings[-1]
    balances = ledger.balances(last.id)
    facts = ledger.facts(last.id)
    for employee in ledger.employees(last.id):  # a reopening may have taken someone out
        found[employee] = Statement(employee, period, [], balances.get(employee, {}),
                                    facts.get(employee, {}))
    for stored in ledger.lines(period=period):
        statement = found.get(stored.employee)
        if statement is None:
            continue  # taken out: the corrections bring the lines to nothing
        key = (stored.employee, stored.kind, stored.name)
        line = lines.get(key)
        if line is None:
            line = lines[key] = StatementLine(stored.kind, stored.name, ZERO, stored.detail,
                                              stored.id)
            statement.lines.append(line)
        line.amount += stored.amount
        if stored.revision:
            line.revisions.append((stored.revision, stored.amount, reasons[stored.revision]))
    return found


@dataclass
class PeriodSummary:
    period: str
    closings: list[Closing]
    statements: dict[str, Statement]

    def total(self, kinds: Iterable[str]) -> Decimal:
        kinds = list(kinds)
        return sum((s.total(kinds) for s in self.statements.values()), ZERO)

    def balance_out(self, name: str) -> Decimal:
        return sum((s.balances.get(name, (ZERO, ZERO))[1] for s in self.statements.values()),
                   ZERO)


def summary(ledger: Ledger) -> list[PeriodSummary]:
    return [PeriodSummary(p, ledger.closings(p), statements(ledger, p))
            for p in ledger.periods()]


@dataclass(frozen=True)
class Stale:
    period: str
    employee: str
    balance: str
    recorded: Decimal
    earlier: str
    now: Decimal


def stale(ledger: Ledger, periods: list[PeriodSummary] | None = None) -> list[Stale]:
    """Balances carried in that differ from what the period before now carries out."""
    found = []
    periods = periods if periods is not None else summary(ledger)
    for index, view in enumerate(periods):
        if index == 0:
            continue
        carried = _carried(ledger, view.period)
        earlier = {e: p.period for p in periods[:index] for e in p.statements}
        for employee, statement in sorted(view.statements.items()):
            before = carried.get(employee)
            if before is None:
                continue
            expected = {DRAW_BALANCE: before.draw, PAID_THIS_YEAR: before.paid_this_year}
            for name, (carried_in, _out) in sorted(statement.balances.items()):
                if name in expected and carried_in != expected[name]:
                    found.append(Stale(view.period, employee, name, carried_in,
                                       earlier.get(employee, ""), expected[name]))
    return found


# ---------------------------------------------------------------- text


def money(value: Decimal | None, lang: str = "en") -> str:
    if value is None:
        return "—"
    if value.as_tuple().exponent > -2:  # type: ignore[operator]
        value = value.quantize(CENT)
    text = format(value if value else abs(value), ",f")
    if lang == "ru":
        text = text.replace(",", "\u00a0").replace(".", ",")
    return text.replace("-", "−")


def _rate(text: str, lang: str) -> str:
    value = (Decimal(text) * 100).normalize()
    shown = format(value, "f")
    return shown.replace(".", ",") + "\u00a0%" if lang == "ru" else shown + "%"


def line_text(line: StatementLine, w: Words) -> str:
    """A statement line in words: what it is and what it rests on."""
    d, lang = line.detail, w.lang
    if line.kind == "deal_line":
        return w("kind_deal_line", name=line.name, credit=money(Decimal(d["credit"]), lang),
                 payment=d.get("payment", ""))
    if line.kind == "deal":
        return w("kind_deal", name=line.name, credit=money(Decimal(d["credit"]), lang),
                 rate=_rate(d["rate"], lang))
    if line.kind == CLAWBACK:
        basis = w("basis_rate", credit=money(Decimal(d["credit"]), lang),
                  rate=_rate(d["rate"], lang)) if d.get("basis") == "rate" else w("basis_paid")
        return w("kind_clawback", name=line.name, date=d["reversed_on"],
                 original=d["original_period"], line=d["original_line"],
                 paid=money(Decimal(d["original_paid"]), lang), basis=basis)
    if line.kind == "reversal_row":
        return w("kind_reversal_row", name=line.name, file=Path(d["file"]).name, row=d["row"],
                 credit=money(Decimal(d["credit"]), lang))
    if line.kind == "clawback_outside":
        return w("kind_clawback_outside", name=line.name, date=d["reversed_on"],
                 days=d["days"], window=d.get("window_days", ""))
    if line.kind == DRAW:
        return w("kind_draw", guaranteed=money(Decimal(d["guaranteed"]), lang),
                 owed=w("owed_back") if d.get("recoverable") else w("not_owed"))
    if line.kind == RECOVERY:
        return w("kind_recovery", owed=money(Decimal(d["owed"]), lang))
    if line.kind == COMPONENT:
        return w("kind_component", name=d.get("label", {}).get(lang) or line.name)
    return w(f"kind_{line.kind}")


def statement_text(statement: Statement, w: Words, currency: str = "") -> list[str]:
    """One employee's period: every line with its corrections, what is paid, the balances."""
    lang = w.lang
    out = [w("statement_title", employee=statement.employee, period=statement.period)]
    rows = [(line_text(line, w), money(line.amount, lang)) for line in statement.lines]
    rows.append((w("total_paid"), money(statement.paid, lang) + (f" {currency}"
                                                                 if currency else "")))
    width = max(len(r[0]) for r in rows)
    for index, (label, amount) in enumerate(rows):
        if index == len(rows) - 1:
            out.append("  " + "─" * (width + 2 + max(len(r[1]) for r in rows)))
        out.append(f"  {label:<{width}}  {amount:>{max(len(r[1]) for r in rows)}}")
        if index < len(statement.lines):
            for revision, amount_change, reason in statement.lines[index].revisions:
                out.append("    " + w("revision_line", revision=revision,
                                      amount=money(amount_change, lang), reason=reason))
    for name, (carried_in, carried_out) in sorted(statement.balances.items()):
        out.append(f"  {w('balance_' + name)}: {w('carried_in').lower()} "
                   f"{money(carried_in, lang)} → {w('carried_out').lower()} "
                   f"{money(carried_out, lang)}")
    return out


def _grid(rows: list[list[str]], right: list[bool]) -> list[str]:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]

    def line(row: list[str]) -> str:
        return "  ".join(cell.rjust(widths[i]) if right[i] else cell.ljust(widths[i])
                         for i, cell in enumerate(row)).rstrip()

    return [line(rows[0]), "  ".join("─" * x for x in widths), *map(line, rows[1:])]


def outcome_text(outcome: Outcome, ledger: str, lang: str, currency: str) -> list[str]:
    w = Words(lang, "LEDGER")
    out: list[str] = []
    if outcome.status == "failed":
        return [w("failed", period=outcome.period, count=len(outcome.failures))]
    if outcome.status == "closed":
        out.append(w("closed", period=outcome.period, ledger=ledger,
                     employees=len(outcome.settlements), paid=money(outcome.paid, lang),
                     currency=currency))
        draws = any(DRAW_BALANCE in s.balances for s in outcome.settlements)
        rows = [[w("employee"), w("earned"), w("paid"), *([w("draw_owed")] if draws else [])]]
        for s in outcome.settlements:
            rows.append([s.employee, money(s.earned, lang), money(s.paid, lang),
                         *([money(s.balances[DRAW_BALANCE][1], lang)
                            if DRAW_BALANCE in s.balances else ""] if draws else [])])
        out += _grid(rows, [False, True, True, True])
    elif outcome.status == "same":
        out.append(w("same", period=outcome.period, ledger=ledger))
    elif outcome.status == "unchanged":
        out.append(w("unchanged", period=outcome.period))
    elif outcome.status == "different":
        amounts = [d for d in outcome.differences if d.what != "fact"]
        out.append(w("different", period=outcome.period, ledger=ledger, count=len(amounts)))
        out += differences_text(outcome.differences, lang)
        out.append(w("reopen_hint", period=outcome.period))
    else:
        out.append(w("reopened", period=outcome.period, ledger=ledger,
                     revision=outcome.revision, reason=outcome.reason,
                     count=len([d for d in outcome.differences if d.what == "line"])))
        out += differences_text(outcome.differences, lang)
    out += [w("note", text=w(key, **values)) for key, values in outcome.notes]
    return out


def differences_text(differences: list[Difference], lang: str) -> list[str]:
    w = Words(lang, "LEDGER")
    rows = [[w("employee"), w("line"), w("recorded"), w("now"), w("difference")]]
    for d in differences:
        if d.what == "line":
            what = d.name if d.kind == COMPONENT else w("short_" + d.kind, name=d.name)
        elif d.what == "balance":
            what = f"{w('balance_' + d.name)} ({w('carried_' + d.kind).lower()})"
        elif d.what == "fact":
            what = w("short_fact", name=d.name)
        else:
            what = w("only_recorded" if d.now is None else "only_now")
        if d.what in ("line", "balance"):
            before, after = Decimal(d.recorded or 0), Decimal(d.now or 0)
            rows.append([d.employee, what, money(before, lang), money(after, lang),
                         ("+" if after > before else "") + money(after - before, lang)])
        elif d.what == "fact":
            rows.append([d.employee, what, str(d.recorded or "—"), str(d.now or "—"), ""])
        else:
            rows.append([d.employee, what, "", "", ""])
    return _grid(rows, [False, False, True, True, True])


def ledger_text(ledger: Ledger, lang: str) -> list[str]:
    w = Words(lang, "LEDGER")
    periods = summary(ledger)
    name = str(ledger.path)
    if not periods:
        return [w("empty", ledger=name)]
    out = [w("ledger_title", ledger=name, scheme=ledger.scheme, periods=len(periods)), ""]
    columns = [  # header, amounts by period; a column of nothing but zeros is left out
        (w("earned"), [view.total([COMPONENT]) for view in periods], True),
        (w("draws"), [view.total([DRAW]) for view in periods], False),
        (w("recovered"), [view.total([RECOVERY]) for view in periods], False),
        (w("clawed_back"), [view.total([CLAWBACK]) for view in periods], False),
        (w("paid"), [view.total(PAID_KINDS) for view in periods], True),
        (w("draw_owed"), [view.balance_out(DRAW_BALANCE) for view in periods], False)]
    columns = [c for c in columns if c[2] or any(c[1])]
    rows = [[w("period"), w("revisions"), w("employees"), *(c[0] for c in columns)]]
    for index, view in enumerate(periods):
        rows.append([view.period, str(len(view.closings)), str(len(view.statements)),
                     *(money(c[1][index], lang) for c in columns)])
    out += _grid(rows, [False] + [True] * (len(rows[0]) - 1))
    latest: dict[str, Statement] = {}
    for view in periods:
        latest.update(view.statements)
    kept = [name for name in (DRAW_BALANCE, YEAR_BALANCE)
            if any(name in s.balances for s in latest.values())]
    if kept:
        out += ["", w("balances_title")]
        rows = [[w("employee"), w("period"),
                 *(w({DRAW_BALANCE: "draw_owed", YEAR_BALANCE: "year_balance"}[n])
                   for n in kept)]]
        for employee, statement in sorted(latest.items()):
            b = statement.balances
            rows.append([employee, statement.period,
                         *(money(b[n][1], lang) if n in b else "" for n in kept)])
        out += _grid(rows, [False, False, True, True])
    corrections = [(view, c) for view in periods for c in view.closings if c.revision]
    out.append("")
    if corrections:
        out.append(w("corrections_title"))
        for view, c in corrections:
            lines = [line for line in ledger.lines(period=view.period) if line.closing == c.id]
            change = sum((line.amount for line in lines if line.kind in PAID_KINDS), ZERO)
            out.append("  " + w("correction", period=view.period, revision=c.revision,
                                date=c.closed_at[:10], reason=c.reason, count=len(lines),
                                change=("+" if change > 0 else "") + money(change, lang)))
    else:
        out.append(w("no_corrections"))
    found = stale(ledger, periods)
    out.append("")
    if found:
        out.append(w("stale_title"))
        for s in found:
            out.append("  " + w("stale", period=s.period, employee=s.employee,
                                balance=w("balance_" + s.balance), recorded=money(s.recorded,
                                                                                  lang),
                                earlier=s.earlier, now=money(s.now, lang)))
    else:
        out.append(w("no_stale"))
    return out


def history_text(ledger: Ledger, employee: str, lang: str,
                 period: str | None = None) -> list[str] | None:
    """An employee's statements period by period (one period with `period`); None when the
    ledger has no such employee."""
    w = Words(lang, "LEDGER")
    out = [w("history_title", employee=employee, ledger=ledger.path)]
    found = False
    for p in ledger.periods():
        if period is not None and p != period:
            continue
        statement = statements(ledger, p).get(employee)
        if statement is None:
            continue
        found = True
        out += ["", *statement_text(statement, w)]
    return out if found else None


# ---------------------------------------------------------------- JSON


def _statement_dict(statement: Statement) -> dict[str, Any]:
    return {
        "employee": statement.employee,
        "lines": [{"kind": line.kind, "name": line.name, "amount": amount_text(line.amount),
                   "line": line.line, "detail": line.detail,
                   "corrections": [{"revision": r, "amount": amount_text(a), "reason": why}
                                   for r, a, why in line.revisions]}
                  for line in statement.lines],
        "earned": amount_text(statement.earned),
        "paid": amount_text(statement.paid),
        "balances": {name: {"carried_in": amount_text(i), "carried_out": amount_text(o)}
                     for name, (i, o) in sorted(statement.balances.items())},
        "facts": statement.facts,
    }


def ledger_dict(ledger: Ledger, employee: str | None = None,
                period: str | None = None) -> dict[str, Any]:
    periods = summary(ledger)
    return {
        "ledger": str(ledger.path),
        "scheme": ledger.scheme,
        "periods": [{
            "period": view.period,
            "revisions": [{"revision": c.revision, "reason": c.reason, "closed_at": c.closed_at,
                           "scheme_version": c.scheme_version, "scheme_file": c.scheme_file,
                           "scheme_sha256": c.scheme_sha256, "inputs": list(c.inputs),
                           "program": c.program} for c in view.closings],
            "earned": amount_text(view.total([COMPONENT])),
            "paid": amount_text(view.total(PAID_KINDS)),
            "draws": amount_text(view.total([DRAW])),
            "recovered": amount_text(view.total([RECOVERY])),
            "clawed_back": amount_text(view.total([CLAWBACK])),
            "statements": [_statement_dict(s) for e, s in sorted(view.statements.items())
                           if employee is None or e == employee],
        } for view in periods if period is None or view.period == period],
        "differences": [{"period": s.period, "employee": s.employee, "balance": s.balance,
                         "carried_in": amount_text(s.recorded), "earlier": s.earlier,
                         "earlier_carries_out": amount_text(s.now)}
                        for s in stale(ledger, periods)],
    }


def outcome_dict(outcome: Outcome) -> dict[str, Any]:
    return {
        "status": outcome.status,
        "period": outcome.period,
        "revision": outcome.revision,
        "paid": amount_text(outcome.paid),
        "statements": [{
            "employee": s.employee,
            "lines": [{"kind": e.kind, "name": e.name, "amount": amount_text(e.amount),
                       "detail": e.detail} for e in s.entries],
            "earned": amount_text(s.earned), "paid": amount_text(s.paid),
            "balances": {n: {"carried_in": amount_text(i), "carried_out": amount_text(o)}
                         for n, (i, o) in sorted(s.balances.items())},
        } for s in outcome.settlements],
        "differences": [{"employee": d.employee, "what": d.what, "kind": d.kind,
                         "name": d.name,
                         "recorded": None if d.recorded is None else str(d.recorded),
                         "now": None if d.now is None else str(d.now)}
                        for d in outcome.differences],
        "notes": [Words("en", "LEDGER")(key, **values) for key, values in outcome.notes],
    }
