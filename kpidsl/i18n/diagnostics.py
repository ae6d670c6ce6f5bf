"""Diagnostics in Russian: the same codes, places and carets, the words translated.

Diagnostics are built in English where they are found (the checker, the facts readers);
this module renders them for `--lang ru` phrase by phrase: each pattern below is one
English phrase kpidsl writes, with its Russian. A phrase without a pattern is shown as it
is (the test of Russian output names it, so a new phrase is noticed).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..diagnostics import Diagnostic

SEVERITY = {"en": {"error": "error", "warning": "warning", "hint": "hint"},
            "ru": {"error": "ошибка", "warning": "предупреждение", "hint": "подсказка"}}

_Q = r"'((?:[^']|'(?!:|,|$| |\)))*)'"  # a quoted name or cell text (may hold quotes)

PHRASES: list[tuple[str, str]] = [
    # where
    (r"^row (\d+), column " + _Q + ": ", r"строка \1, столбец '\2': "),
    (r"^row (\d+): ", r"строка \1: "),
    (r"^employee " + _Q + ": ", r"сотрудник '\1': "),
    # facts cells
    (_Q + r" is not a number", r"'\1' — не число"),
    (_Q + r" is negative; a count cannot be negative",
     r"'\1' — отрицательное число, а количество не бывает отрицательным"),
    (_Q + r" is negative; a duration cannot be negative",
     r"'\1' — отрицательное число, а длительность не бывает отрицательной"),
    (_Q + r" is not a whole number; a count must be whole",
     r"'\1' — не целое число, а количество должно быть целым"),
    (_Q + r" looks like an Excel formula; export values, not formulas",
     r"'\1' похоже на формулу Excel; выгрузите значения, а не формулы"),
    (_Q + r" is an Excel error value, not a number", r"'\1' — значение ошибки Excel, а не число"),
    (_Q + r" looks like a date, not a number", r"'\1' похоже на дату, а не на число"),
    (_Q + r" looks like a time, not a number", r"'\1' похоже на время, а не на число"),
    (_Q + r" is not a finite number", r"'\1' — не конечное число"),
    (r"^empty value$", "пустое значение"),
    (r"missing required fact " + _Q, r"не заполнен обязательный факт '\1'"),
    (r"^missing employee id$", "не указан сотрудник"),
    (r"employee " + _Q + r" already appears on row (\d+)",
     r"сотрудник '\1' уже встречается в строке \2"),
    (r"employee " + _Q + r" already appears at (.+)$", r"сотрудник '\1' уже встречается: \2"),
    (r"^column (\d+) has no name and is ignored$", r"у столбца \1 нет названия, он пропущен"),
    (r"^unknown column " + _Q + r": not a fact of this scheme, kept as text$",
     r"неизвестный столбец '\1': такого факта в схеме нет, сохранён как текст"),
    (r"^the facts file has a header but no rows$", "в файле фактов есть заголовок, но нет строк"),
    (r"^the facts file has no rows$", "в файле фактов нет строк"),
    (r"^the facts file is empty$", "файл фактов пуст"),
    (r" could not be evaluated$", " не удалось рассчитать"),
    # hints
    (r"^map CRM column names to facts with --map COLUMN=fact$",
     "сопоставьте столбцы выгрузки с фактами: --map СТОЛБЕЦ=факт"),
    (r"^expected a sum like 3 300 000 or 3300000,50$",
     "ожидается сумма, например 3 300 000 или 3300000,50"),
    (r"^expected a whole number like 12$", "ожидается целое число, например 12"),
    (r"^expected a percentage like 2,1% or a fraction like 0,021$",
     "ожидается процент, например 2,1%, или доля, например 0,021"),
    (r"^expected a ratio like 0,85 or 85%$", "ожидается доля, например 0,85 или 85%"),
    (r"^expected a number like 1500 or 1,5$", "ожидается число, например 1500 или 1,5"),
    (r"^expected days, like 5$", "ожидается число дней, например 5"),
    (r"^expected minutes, like 90 or 1,5$", "ожидается число минут, например 90 или 1,5"),
    (r"^expected hours, like 8 or 7,5$", "ожидается число часов, например 8 или 7,5"),
    (r"^a count is 0 or more$", "количество — 0 или больше"),
    (r"^a duration is 0 or more$", "длительность — 0 или больше"),
    (r"^a count is a whole number of things, 0 or more$",
     "количество — целое число, 0 или больше"),
    (r"^each employee appears once per facts file; merge or remove the duplicate$",
     "каждый сотрудник встречается в файле один раз: объедините строки или удалите повтор"),
    (r"^each employee appears once across the facts files; merge or remove the duplicate$",
     "каждый сотрудник встречается во всех файлах фактов один раз: объедините строки или "
     "удалите повтор"),
    (r"^fill in the cell, or make the fact optional with a default$",
     "заполните ячейку или задайте факту значение по умолчанию"),
    (r"^every row needs the employee's id$", "в каждой строке нужен идентификатор сотрудника"),
    (r"did you mean " + _Q + r"\?", r"может быть, '\1'?"),
]
_COMPILED = [(re.compile(pattern), russian) for pattern, russian in PHRASES]


def translate(text: str, lang: str) -> str:
    """Every known phrase of `text` in `lang` (English is returned as it is)."""
    if lang == "en" or not text:
        return text
    for pattern, russian in _COMPILED:
        text = pattern.sub(russian, text)
    return text


def localized(d: Diagnostic, lang: str) -> Diagnostic:
    """The same diagnostic (code, place, caret) with its message and hint in `lang`."""
    if lang == "en":
        return d
    import dataclasses

    return dataclasses.replace(d, message=translate(d.message, lang),
                               hint=translate(d.hint, lang))


def render(d: Diagnostic, lang: str) -> str:
    """`Diagnostic.render()` in `lang`: severity and 'hint' in its words too."""
    text = localized(d, lang).render()
    if lang == "en":
        return text
    words = SEVERITY[lang]
    head, sep, rest = text.partition("\n")
    head = head.replace(f": {d.severity} {d.code}:", f": {words[str(d.severity)]} {d.code}:", 1)
    rest = re.sub(r"(?m)^  hint: ", f"  {words['hint']}: ", rest)
    return head + sep + rest
