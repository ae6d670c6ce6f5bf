"""Curve charts as inline SVG, sampled from the compiled curve function itself.

Pure Python, no plotting library: the chart is a few dozen elements. The curve is sampled
densely between its thresholds and each piece is drawn up to the one-sided limits at its
ends, so a jump (a cut-off, a step) is a dashed vertical line with a filled dot on the value
the threshold itself pays and an open dot on the value it does not. Coordinates are
quantized to 0.1 px from Decimal arithmetic, so the output is byte-for-byte stable.
"""

from __future__ import annotations

import decimal
import itertools
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from markupsafe import Markup, escape

from .. import ast
from ..checks.fold import fold
from ..runtime import CONTEXT

WIDTH, HEIGHT = Decimal(640), Decimal(300)
LEFT, RIGHT, TOP, BOTTOM = Decimal(64), Decimal(20), Decimal(24), Decimal(46)
SAMPLES = 240  # across the whole axis; each piece gets its share, at least 2
COLOR, CUT, GRID, PLAN = "#1f5fa8", "#c0392b", "#dddddd", "#888888"
_STEPS = tuple(Decimal(m).scaleb(k) for k in range(-4, 13) for m in ("1", "2", "2.5", "5"))


@dataclass(frozen=True)
class Jump:
    at: Decimal
    left: Decimal
    right: Decimal
    value: Decimal  # what the threshold itself pays
    cut_off: bool  # from nothing to something


@dataclass
class Chart:
    svg: Markup
    start: Decimal
    end: Decimal
    jumps: list[Jump]


def thresholds(curve: ast.Curve, constants: dict[str, Decimal]) -> list[Decimal]:
    return sorted(curve.kind.thresholds(curve, constants))  # its kind knows where they are


def _nice_step(span: Decimal, most: int) -> Decimal:
    """The smallest of 1, 2, 2.5, 5 × 10^k that cuts `span` into at most `most` steps."""
    for step in _STEPS:
        if span <= step * most:
            return step
    return span


def _ceil_to(value: Decimal, step: Decimal) -> Decimal:
    return (value / step).to_integral_value(rounding=decimal.ROUND_CEILING) * step


def _floor_to(value: Decimal, step: Decimal) -> Decimal:
    return (value / step).to_integral_value(rounding=decimal.ROUND_FLOOR) * step


def domain(curve: ast.Curve, function: Callable[[Decimal], tuple[Decimal, int]],
           points: list[Decimal], percent_like: bool,
           constants: dict[str, Decimal]) -> tuple[Decimal, Decimal]:
    """From 0 to past the last threshold (and, when capped, to where the cap is reached)."""
    top = max(points) if points else Decimal(1)
    start = min(Decimal(0), min(points) if points else Decimal(0))
    if not percent_like:
        return start, _ceil_to(top * Decimal("1.25"), _nice_step(top * Decimal("1.25"), 5))
    end = max(Decimal("1.5"), _ceil_to(top * Decimal("1.2"), Decimal("0.1")))
    cap = fold(curve.cap, constants) if curve.cap is not None else None
    if cap is not None:
        while end < 3 and function(end)[0] < cap:
            end += Decimal("0.1")
    return start, end


def sample(function: Callable[[Decimal], tuple[Decimal, int]], start: Decimal, end: Decimal,
           breaks: list[Decimal]) -> tuple[list[list[tuple[Decimal, Decimal]]], list[Jump]]:
    """Pieces of the curve between thresholds, and the jumps at thresholds."""
    eps = (end - start) * Decimal("1e-9")
    edges = [start, *[b for b in breaks if start < b < end], end]
    pieces: list[list[tuple[Decimal, Decimal]]] = []
    jumps: list[Jump] = []

    def f(x: Decimal) -> Decimal:
        return function(x)[0]

    for a, b in itertools.pairwise(edges):
        count = max(2, int((b - a) / (end - start) * SAMPLES))
        piece = [(a, f(a + eps) if a > start else f(a))]
        piece += [(a + (b - a) * i / count, f(a + (b - a) * i / count)) for i in range(1, count)]
        piece.append((b, f(b - eps) if b < end else f(b)))
        pieces.append(piece)
    values = [y for piece in pieces for _, y in piece]
    tolerance = (max(values) - min(values) or Decimal(1)) * Decimal("1e-6")
    for t in edges[1:-1]:
        left, right, at = f(t - eps), f(t + eps), f(t)
        if abs(left - right) > tolerance or (abs(at - left) > tolerance and
                                             abs(at - right) > tolerance):
            jumps.append(Jump(t, left, right, at, left == 0 and right > 0))
    return pieces, jumps


Marker = tuple[Decimal, Decimal, str]  # x, y and a label: an employee on the curve


def render(curve: ast.Curve, function: Callable[[Decimal], tuple[Decimal, int]],
           constants: dict[str, Decimal], *, percent_like: bool,
           fmt_x: Callable[[Decimal], str], fmt_y: Callable[[Decimal], str],
           words: Callable[..., str], title: str, markers: tuple[Marker, ...] = ()) -> Chart:
    """The chart of one curve; `fmt_x`/`fmt_y` format tick labels in the document's language;
    `markers` put points on it (a statement shows where the employee is)."""
    with decimal.localcontext(CONTEXT):
        return _render(curve, function, constants, percent_like, fmt_x, fmt_y, words, title,
                       markers)


def _render(curve: ast.Curve, function: Callable[[Decimal], tuple[Decimal, int]],
            constants: dict[str, Decimal], percent_like: bool, fmt_x: Callable[[Decimal], str],
            fmt_y: Callable[[Decimal], str], words: Callable[..., str], title: str,
            markers: tuple[Marker, ...] = ()) -> Chart:
    breaks = thresholds(curve, constants)
    start, end = domain(curve, function, breaks, percent_like, constants)
    if markers:  # the employee is always on the chart, even far past the last threshold
        start = min(start, min(x for x, _y, _l in markers))
        end = max(end, max(x for x, _y, _l in markers) + (end - start) / 20)
    pieces, jumps = sample(function, start, end, breaks)
    ys = [y for piece in pieces for _, y in piece] + [my for _x, my, _l in markers]
    y_step = _nice_step(max(ys) - min(min(ys), Decimal(0)) or Decimal(1), 5)
    y_low = min(Decimal(0), _floor_to(min(ys), y_step))
    y_high = max(_ceil_to(max(ys), y_step), y_low + y_step)
    if y_high == max(ys):
        y_high += y_step / 2  # headroom so a cap line is not drawn on the frame
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def px(x: Decimal) -> str:
        return _q(LEFT + (x - start) / (end - start) * plot_w)

    def py(y: Decimal) -> str:
        return _q(TOP + plot_h - (y - y_low) / (y_high - y_low) * plot_h)

    alt = words("chart_alt", curve=title, start=fmt_x(start), end=fmt_x(end))
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {WIDTH} '
           f'{HEIGHT}" width="{WIDTH}" height="{HEIGHT}" role="img" aria-label="{escape(alt)}" '
           f'font-family="sans-serif" font-size="11">',
           f"<title>{escape(alt)}</title>"]
    # Every 10 % on an ordinary attainment axis; a nice step when an employee far past the
    # last threshold stretches it (attainment 11 000 000 % drew 1.1 million lines: 110 s).
    x_grid = Decimal("0.1") if percent_like and end - start <= 3 else _nice_step(end - start, 10)
    x_label = x_grid * 2 if (end - start) / x_grid > 10 else x_grid
    x = _ceil_to(start, x_grid)
    while x <= end:
        labelled = (x / x_label) == (x / x_label).to_integral_value()
        out.append(f'<line x1="{px(x)}" y1="{py(y_low)}" x2="{px(x)}" y2="{py(y_high)}" '
                   f'stroke="{GRID}" stroke-width="{"1" if labelled else "0.5"}"/>')
        if labelled:
            out.append(f'<text x="{px(x)}" y="{_q(HEIGHT - BOTTOM + 16)}" '
                       f'text-anchor="middle">{escape(fmt_x(x))}</text>')
        x += x_grid
    y = y_low
    while y <= y_high:
        out.append(f'<line x1="{px(start)}" y1="{py(y)}" x2="{px(end)}" y2="{py(y)}" '
                   f'stroke="{GRID}" stroke-width="1"/>')
        out.append(f'<text x="{_q(LEFT - 6)}" y="{_q(Decimal(py(y)) + 4)}" '
                   f'text-anchor="end">{escape(fmt_y(y))}</text>')
        y += y_step
    out.append(f'<line x1="{px(start)}" y1="{py(y_low)}" x2="{px(end)}" y2="{py(y_low)}" '
               f'stroke="#333333" stroke-width="1"/>')
    out.append(f'<line x1="{px(start)}" y1="{py(y_low)}" x2="{px(start)}" y2="{py(y_high)}" '
               f'stroke="#333333" stroke-width="1"/>')
    if percent_like and start < 1 < end:
        out.append(f'<line x1="{px(Decimal(1))}" y1="{py(y_low)}" x2="{px(Decimal(1))}" '
                   f'y2="{py(y_high)}" stroke="{PLAN}" stroke-width="1" '
                   f'stroke-dasharray="2 3"/>')
        out.append(f'<text x="{_q(Decimal(px(Decimal(1))) + 4)}" y="{_q(TOP + 10)}" '
                   f'fill="{PLAN}">{escape(words("chart_plan"))}</text>')
    for piece in pieces:
        points = " ".join(f"{px(x)},{py(y)}" for x, y in piece)
        out.append(f'<polyline points="{points}" fill="none" stroke="{COLOR}" '
                   f'stroke-width="2.5" stroke-linejoin="round"/>')
    for jump in jumps:
        color = CUT if jump.cut_off else COLOR
        out.append(f'<line x1="{px(jump.at)}" y1="{py(jump.left)}" x2="{px(jump.at)}" '
                   f'y2="{py(jump.right)}" stroke="{color}" stroke-width="1.5" '
                   f'stroke-dasharray="4 3"/>')
        for value in sorted({jump.left, jump.right}):
            fill = color if value == jump.value else "#ffffff"
            out.append(f'<circle cx="{px(jump.at)}" cy="{py(value)}" r="3.5" fill="{fill}" '
                       f'stroke="{color}" stroke-width="1.5"/>')
        if jump.value not in (jump.left, jump.right):
            out.append(f'<circle cx="{px(jump.at)}" cy="{py(jump.value)}" r="3.5" '
                       f'fill="{color}"/>')
        label = words("chart_cut_off" if jump.cut_off else "chart_jump", x=fmt_x(jump.at))
        top = max(jump.left, jump.right, jump.value)
        out.append(f'<text x="{_q(Decimal(px(jump.at)) - 4)}" '
                   f'y="{_q(Decimal(py(top)) - 8)}" text-anchor="end" fill="{color}">'
                   f"{escape(label)}</text>")
    for number, (mx, my, label) in enumerate(markers, start=1):
        # numbered points: labels of close points would overlap; the caption names them
        out.append(f'<circle class="marker" cx="{px(mx)}" cy="{py(my)}" r="7" fill="{CUT}" '
                   f'stroke="#ffffff" stroke-width="1.5"><title>{escape(label)}</title>'
                   f'</circle>')
        out.append(f'<text x="{px(mx)}" y="{_q(Decimal(py(my)) + 4)}" fill="#ffffff" '
                   f'font-size="10" font-weight="bold" text-anchor="middle">{number}</text>')
    out.append(f'<text x="{_q(LEFT + plot_w / 2)}" y="{_q(HEIGHT - 8)}" text-anchor="middle">'
               f'{escape(words("chart_x" if percent_like else "chart_x_value"))}</text>')
    out.append(f'<text x="{_q(LEFT)}" y="{_q(TOP - 10)}" text-anchor="start">'
               f'{escape(words("chart_y" if percent_like else "chart_y_value"))}</text>')
    out.append("</svg>")
    return Chart(Markup("\n".join(out)), start, end, jumps)


def _q(value: Decimal) -> str:
    text = str(value.quantize(Decimal("0.1"), rounding=decimal.ROUND_HALF_EVEN))
    return text[:-2] if text.endswith(".0") else text
