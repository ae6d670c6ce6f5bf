"""Sources written back as the language writes them: for `kpidsl fmt`, documents, messages."""

from __future__ import annotations

from .. import ast


def _value(value: ast.Expr | str) -> str:
    if isinstance(value, str):
        if len(value) in (7, 10) and value[:4].isdigit() and value[4:5] == "-":
            return value  # a date
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    from ..formatter import write_expr

    return write_expr(value)


def condition_text(condition: ast.Condition, top: bool = True) -> str:
    """`stage is "Won" and (amount >= 100_000 RUB or not client is "X")`."""
    if isinstance(condition, ast.BothOrEither):
        left = condition_text(condition.left, False)
        right = condition_text(condition.right, False)
        if isinstance(condition.right, ast.BothOrEither) or (
                condition.op == "and" and isinstance(condition.left, ast.BothOrEither)
                and condition.left.op == "or"):
            right = f"({right})" if isinstance(condition.right, ast.BothOrEither) else right
        if condition.op == "and" and isinstance(condition.left, ast.BothOrEither) and \
                condition.left.op == "or":
            left = f"({left})"
        return f"{left} {condition.op} {right}"
    if isinstance(condition, ast.NotCondition):
        inner = condition_text(condition.operand, False)
        return f"not ({inner})" if isinstance(condition.operand, ast.BothOrEither) else \
            f"not {inner}"
    assert isinstance(condition, ast.FieldTest)
    values = ", ".join(_value(v) for v in condition.values)
    op = "is one of" if condition.op == "one of" else condition.op
    return f"{condition.name} {op} {values}"


def aggregate_text(agg: ast.SourceAggregate) -> str:
    what = f"{agg.source}.{agg.of}" if agg.of else agg.source
    where = f" where {condition_text(agg.where)}" if agg.where is not None else ""
    return f"{agg.kind} of {what}{where}"


def each_text(each: ast.EachDeal) -> tuple[str, str]:
    """The two lines of a per-deal payment: which deals, and what they pay."""
    where = f" where {condition_text(each.where)}" if each.where is not None else ""
    order = f" in order of {', '.join(each.order)}" if each.order else ""
    minimum = ""
    if each.minimum is not None:
        from ..formatter import write_expr

        minimum = f" with a minimum of {write_expr(each.minimum)}"
    return (f"for each {each.noun} in {each.source}{where}{order}",
            f"pays {each.curve} on the running {each.running} of {each.kpi}{minimum}")


def source_lines(src: ast.Source) -> list[str]:
    columns = []
    for word, column in (("employee", src.employee_column), ("date", src.date_column),
                         ("key", src.key_column), ("share", src.share_column)):
        if column:
            columns.append(f"{word} column {_value(column)}")
    lines = ["  ".join(columns)] if columns else []
    for fld in src.fields:
        column = f" column {_value(fld.column)}" if fld.column != fld.name else ""
        lines.append(f"field {fld.name} {fld.kind}{column}")
    return lines
