"""Results of an evaluation: every KPI, every pay line, every component and the total.

A Result holds the payments and the total and builds its dictionaries only when asked, so a
batch of a million employees pays for what it reads, not for what it could read. A batch
does not even keep every employee's intermediate values (each KPI, attainment and line: some
2.8 kB an employee): `evaluate_many` releases them from a Result once the next one is asked
for, and the results of a list of rows never hold them (kpidsl/batch.py). Whoever reads a
Result's details as it arrives from a file (the CLI, a report) gets them as they were
computed; whoever reads them later, or from a list's result, gets them computed again,
identically: the evaluator is a pure function of the facts, the team's aggregates and the
month.
"""

from __future__ import annotations

import decimal
import threading
from collections.abc import Mapping
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from .evaluator import EvaluatorOutput, VariantInfo
from .runtime import CONTEXT, ODD, SHOWN, shown
from .units import Unit

if TYPE_CHECKING:
    from .trace import Trace


@dataclass(frozen=True)
class KpiResult:
    name: str
    label: str
    unit: Unit
    value: Decimal
    plan: Decimal | None
    attainment: Decimal | None
    payout: Decimal | None  # the sum of its pay lines; None when no pool pays on it
    direction: str = "higher"
    group: str | None = None


@dataclass(frozen=True)
class Line:
    """One pay line: a KPI's share of a pool, the curve's factor and band, the rounded amount."""

    payment: str
    kpi: str
    share: Decimal
    attainment: Decimal | None
    factor: Decimal
    band: int  # 1-based band of the curve; 0 = outside every band
    band_text: str  # the band as the scheme writes it: "above 100%"
    curve: str
    amount: Decimal
    gate: str = ""  # "", "withheld", "capped", "floored"


class _More:
    """What few results have or only some readers ask for: made on first use, so a result of
    a batch is one tracked object (see `Result`)."""

    __slots__ = ("components", "deals", "kpis", "lines", "notes", "team_values")

    def __init__(self) -> None:
        self.notes: list[str] | None = None
        self.team_values: dict[str, Decimal] | None = None
        self.kpis: dict[str, KpiResult] | None = None
        self.lines: tuple[Line, ...] | None = None
        self.components: dict[str, Decimal] | None = None
        self.deals: tuple[Any, ...] = ()  # one kpidsl.sources.DealLine per deal, as paid


class Result:
    """One employee's month: facts in, KPIs, lines, components (name → amount) and the total.

    A result is six slots: its variant, its employee and total (read as slots, no Python
    frame: the attributes every reader of a batch reads), one tuple of its other figures
    (`_d`: team, row, the facts' dictionary or None, team aggregates, month, whether the
    evaluator may be asked again, then each payment, then — when the dictionary is None —
    each fact's value in the order of `info.facts`, the dictionary made when `facts` is
    first read), the evaluator's whole output while it is held (`_raw`; None when the
    details are computed on first read), and what few results have (notes, a budget's
    scaled lines, deals) or only some readers ask for (KpiResult, Line), made on first use
    (`_more`). Why: a batch's results kept in a list are each one object the cyclic
    collector tracks and traverses at every collection of its generation, and a tuple of
    strings and Decimals is untracked at the first one (a tuple holding another tuple may
    wait for a second); a result pointing at one such tuple costs a full collection about
    half of one pointing at its strings, Decimals and tuples each (measured: ~0.55 against
    ~1.2 µs a result held; docs/architecture.md, "The evaluator's calling convention").
    The rows of a list are made by a loop the code generator writes (`kpidsl.batch`),
    which sets these slots.
    """

    __slots__ = ("_d", "_more", "_raw", "employee", "info", "total")

    def __init__(self, info: VariantInfo, raw: EvaluatorOutput | tuple[Any, ...], employee: str,
                 facts: dict[str, Decimal], team: str | None = None, row: int = 0, *,
                 recomputable: bool = False, team_data: Mapping[str, Decimal] | None = None,
                 month: int | None = None) -> None:
        """`raw` is what `info.function(facts, team_data, month)` returned; `recomputable`
        says that calling it again gives it back (see `release_details`)."""
        if not isinstance(raw, EvaluatorOutput):  # (None, None, None, None, pays, total)
            raw = EvaluatorOutput.payments_only(raw[4], raw[5])
        self.info = info
        self.employee: str = employee
        self.total: Decimal = raw.total
        self._raw: EvaluatorOutput | None = raw
        self._d: tuple[Any, ...] = (team, row, facts, team_data, month, recomputable,
                                    *raw.pays) if type(facts) is not tuple else \
            (team, row, None, team_data, month, recomputable, *raw.pays, *facts)
        self._more: _More | None = None

    @property
    def team(self) -> str | None:
        return self._d[0]  # type: ignore[no-any-return]

    @property
    def row(self) -> int:
        """The facts row (as the spreadsheet shows it; 0 for rows given to the API)."""
        return self._d[1]  # type: ignore[no-any-return]

    def _extra(self) -> _More:
        more = self._more
        if more is None:
            more = self._more = _More()
        return more

    @property
    def grade(self) -> str:
        return self.info.name

    @property
    def facts(self) -> dict[str, Decimal]:
        """The facts the evaluator read, by name (with the defaults it was given)."""
        d = self._d
        facts = d[2]
        if facts is None:  # the values follow the payments
            end = 6 + len(self.info.layout.pays)
            facts = dict(zip(self.info.facts, d[end:], strict=True))
            self._d = (*d[:2], facts, *d[3:end])
        return facts  # type: ignore[no-any-return]

    @property
    def notes(self) -> list[str]:
        more = self._extra()
        if more.notes is None:
            more.notes = []
        return more.notes

    @notes.setter
    def notes(self, notes: list[str]) -> None:
        self._extra().notes = notes

    @property
    def team_values(self) -> dict[str, Decimal]:
        """The team aggregates this result used, computed once per team ("team total of calls")."""
        more = self._extra()
        if more.team_values is None:
            more.team_values = {}
        return more.team_values

    @team_values.setter
    def team_values(self, values: dict[str, Decimal]) -> None:
        self._extra().team_values = values

    @property
    def deals(self) -> tuple[Any, ...]:
        """Per-deal payments: one kpidsl.sources.DealLine per deal, in the order paid."""
        more = self._more
        return () if more is None else more.deals

    @deals.setter
    def deals(self, deals: tuple[Any, ...]) -> None:
        self._extra().deals = deals

    def release_details(self) -> None:
        """Let go of the evaluator's intermediate values when they can be computed again."""
        if self._d[5]:
            self._raw = None

    def _details(self) -> EvaluatorOutput:
        """The evaluator's whole output: kept, or computed again from the same inputs."""
        if self._raw is None or self._raw.kpis is None:  # released, or payments only
            facts, d = self.facts, self._d
            with decimal.localcontext(ODD):
                self._raw = self.info.function(facts, d[3], d[4])
        return self._raw

    def trace(self) -> Trace:
        """Every intermediate value of this result (kpidsl/trace.py), from the evaluator that
        records them: run once, on request, with the same facts, team and month; the
        evaluators a run uses never record anything."""
        from .trace import Trace

        if self.info.traced is None:
            raise ValueError("this result's evaluator records no trace")
        trace = Trace()
        facts, d = self.facts, self._d
        with decimal.localcontext(ODD):
            self.info.traced()(facts, d[3], d[4], trace)
        return trace

    def __repr__(self) -> str:
        return f"Result(employee={self.employee!r}, grade={self.grade!r}, total={self.total})"

    @property
    def month(self) -> int | None:
        """The month the result was evaluated for (seasonal constants and plans)."""
        return self._d[4]  # type: ignore[no-any-return]

    @property
    def currency(self) -> str:
        return self.info.currency

    @property
    def components(self) -> dict[str, Decimal]:
        more = self._extra()
        if more.components is None:
            pays = self.info.layout.pays
            more.components = dict(zip(pays, self._d[6:6 + len(pays)], strict=True))
        return more.components

    def component_amounts(self) -> tuple[Decimal, ...]:
        """The components' amounts in the order of `info.layout.pays` (`components` without
        the dictionary)."""
        more = self._more
        return self._d[6:6 + len(self.info.layout.pays)] \
            if more is None or more.components is None else \
            tuple(more.components.values())

    @property
    def lines(self) -> tuple[Line, ...]:
        more = self._extra()
        if more.lines is None:
            with decimal.localcontext(SHOWN):  # fractions shown to 34 digits, half even
                attainments = dict(zip(self.info.layout.kpis,
                                       _shown_values(self._details())[2], strict=True))
            more.lines = tuple(
                Line(payment, kpi, share, attainments.get(kpi), factor, band, band_text, curve,
                     amount, gate)
                for payment, kpi, share, factor, band, band_text, curve, amount, gate
                in self._line_figures())
        return more.lines

    def _line_figures(self) -> list[tuple[Any, ...]]:
        """Each line's payment, KPI, share, factor, band, band text, curve, amount and gate,
        as `lines` holds them (without the attainment), from the evaluator's output."""
        info = self.info
        built = []
        theirs = decimal.getcontext()
        decimal.setcontext(_shown_context())  # fractions shown to 34 digits, half even
        try:
            details = self._details()
            for (payment, kpi), share, factor, factor_d, band, amount, gate in zip(
                    info.layout.lines, details.line_shares, details.line_factors,
                    details.line_factor_dens, details.line_bands, details.line_amounts,
                    details.line_gates, strict=True):
                curve = info.line_curves[(payment, kpi)]
                built.append((payment, kpi, shown(share),
                              factor if factor_d is None else factor / factor_d, band,
                              info.band_texts[curve][band] if band else "outside every band",
                              curve, amount, gate))
        finally:
            decimal.setcontext(theirs)
        return built

    @property
    def kpis(self) -> dict[str, KpiResult]:
        more = self._extra()
        if more.kpis is None:
            info = self.info
            values, plans, attainments, payouts = self.kpi_figures()
            more.kpis = {
                name: KpiResult(name, info.kpi_labels[name], info.kpi_units[name], value, plan,
                                attainment, payout, info.kpi_directions[name],
                                info.kpi_groups[name])
                for name, value, plan, attainment, payout in zip(
                    info.layout.kpis, values, plans, attainments, payouts, strict=True)
            }
        return more.kpis

    def kpi_figures(self) -> tuple[tuple[Any, ...], tuple[Any, ...], tuple[Any, ...],
                                   list[Decimal | None]]:
        """Each KPI's value, plan, attainment and payout, in the order of
        `info.layout.kpis`: what `kpis` holds, without a KpiResult each (writing a million
        rows of CSV needs the numbers only).

        Computed by operators in this thread's copy of SHOWN, set for the call: a context's
        methods (`SHOWN.divide`) cost ~1.3 µs more a division than `/`, and `localcontext`
        ~1 µs a call; `setcontext` twice costs ~0.1 µs."""
        theirs = decimal.getcontext()
        decimal.setcontext(_shown_context())
        try:
            details = self._details()
            more = self._more
            amounts = ([line.amount for line in more.lines]
                       if more is not None and more.lines is not None
                       else details.line_amounts)  # unless a budget rebuilt the lines
            # each KPI's lines added in the order of the layout
            payouts: list[Decimal | None] = [
                None if not where else _ZERO + amounts[where[0]] if len(where) == 1
                else sum([amounts[i] for i in where], _ZERO)
                for where in _lines_of_kpis(self.info.layout)]
            values, plans, attainments = _shown_values(details)
        finally:
            decimal.setcontext(theirs)
        return values, plans, attainments, payouts

    def scale_component(self, name: str, amount: Decimal, note: str,
                        step: Decimal = Decimal("0.01")) -> None:
        """Replace a component (a budget cap scaled it), its pool lines in proportion (so the
        lines still add up to it exactly), and recompute the total."""
        from .allocation import pro_rata

        components = dict(self.components)
        components[name] = amount
        with decimal.localcontext(CONTEXT):
            own = [line for line in self.lines if line.payment == name]
            if own:
                scaled = iter(pro_rata([line.amount for line in own], amount, step))
                more = self._extra()
                more.lines = tuple(
                    replace(line, amount=next(scaled), gate="scaled") if line.payment == name
                    else line for line in self.lines)
                more.kpis = None  # KPI payouts are sums of lines
            self._extra().components = components
            self.total = sum(components.values(), Decimal(0))
        self.notes.append(note)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: amounts as strings holding exact decimals ("119800.00"). Read from the
        evaluator's figures when no KpiResult or Line was asked for (a million JSON Lines
        need the text only)."""
        text = plain_text
        more = self._more
        known = more.kpis if more is not None else None
        lines_known = more.lines if more is not None else None
        if known is None:
            values, plans, attainments, payouts = self.kpi_figures()
            kpis = {name: {"value": text(value), "plan": text(plan),
                           "attainment": text(attainment), "payout": text(payout)}
                    for name, value, plan, attainment, payout in zip(
                        self.info.layout.kpis, values, plans, attainments, payouts,
                        strict=True)}
        else:
            kpis = {k.name: {"value": text(k.value), "plan": text(k.plan),
                             "attainment": text(k.attainment), "payout": text(k.payout)}
                    for k in known.values()}
        lines = [(line.payment, line.kpi, line.share, line.factor, line.band_text, line.amount,
                  line.gate) for line in lines_known] if lines_known is not None else \
            [(payment, kpi, share, factor, band_text, amount, gate)
             for payment, kpi, share, factor, _band, band_text, _curve, amount, gate
             in self._line_figures()]
        return {
            "employee": self.employee,
            "grade": self.grade,
            "team": self.team,
            "kpis": kpis,
            "lines": [
                {"payment": payment, "kpi": kpi, "share": text(share), "factor": text(factor),
                 "band": band_text, "amount": text(amount), "gate": gate}
                for payment, kpi, share, factor, band_text, amount, gate in lines
            ],
            "components": {name: text(value) for name, value in zip(
                self.info.layout.pays, self.component_amounts(), strict=True)},
            "total": text(self.total),
            "notes": list(more.notes or ()) if more is not None else [],
        } | ({"team_values": {k: text(v) for k, v in more.team_values.items()}}
             if more is not None and more.team_values else {}) | (
            {"deals": [line.to_dict() for line in more.deals]}
            if more is not None and more.deals else {})


_ZERO = Decimal(0)
_THREAD = threading.local()  # `shown`: this thread's copy of SHOWN


def _shown_context() -> decimal.Context:
    """This thread's copy of SHOWN, to set with `decimal.setcontext` (`localcontext` copies
    the context at each call: ~1 µs)."""
    try:
        return _THREAD.shown  # type: ignore[no-any-return]
    except AttributeError:
        ours = _THREAD.shown = SHOWN.copy()
        return ours


def plain_text(value: Decimal | None) -> str | None:
    """A Decimal's exact digits without an exponent ('0E+2' is '0'), None for None.

    `str` gives them unless the number has an exponent ('1E+2', '1E-7') and costs a third
    of `format(value, "f")` (~0.5 µs against ~1.4 µs), which does the rest."""
    if value is None:
        return None
    text = str(value)
    return format(value, "f") if "E" in text or "e" in text else text


_LINES_OF_KPIS: dict[int, tuple[Any, tuple[tuple[int, ...], ...]]] = {}


def _lines_of_kpis(layout: Any) -> tuple[tuple[int, ...], ...]:
    """For each KPI of `layout`, the positions of its pay lines (worked out once a layout)."""
    found = _LINES_OF_KPIS.get(id(layout))
    if found is None or found[0] is not layout:
        found = _LINES_OF_KPIS[id(layout)] = (layout, tuple(
            tuple(i for i, (_payment, line_kpi) in enumerate(layout.lines) if line_kpi == kpi)
            for kpi in layout.kpis))
    return found[1]


# for the last tuple of denominators seen, the positions to divide in each of the three
# groups (a scheme's denominators are mostly known while compiling: one tuple, the same
# object, for every row)
_DIVIDED: tuple[Any, tuple[tuple[tuple[int, Decimal], ...], ...]] = (None, ())


def _shown_values(details: EvaluatorOutput, context: decimal.Context | None = None,
                  ) -> tuple[tuple[Any, ...], ...]:
    """KPI values, plans and attainments as Decimals: the evaluator returns a fraction's
    numerator in place and its denominator in `denominators` (None for the values that are
    exact). Divided in `context`, or by `/` in the current one: the context the values are
    shown in."""
    global _DIVIDED
    groups = [details.kpis, details.plans, details.attainments]
    dens = details.denominators
    if dens is None:
        return tuple(groups)
    last = _DIVIDED
    if last[0] is dens:
        divided = last[1]
    else:
        count = len(groups[0])
        divided = tuple(tuple((i, d) for i, d in enumerate(dens[k * count:(k + 1) * count])
                              if d is not None) for k in range(3))
        _DIVIDED = dens, divided
    divide = context.divide if context is not None else None
    for k, where in enumerate(divided):
        if where:  # a group with no fraction is returned as it is
            shown = list(groups[k])
            if divide is None:
                for i, d in where:
                    shown[i] = shown[i] / d
            else:
                for i, d in where:
                    shown[i] = divide(shown[i], d)
            groups[k] = tuple(shown)
    return tuple(groups)
