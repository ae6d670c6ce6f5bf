"""Russian texts of every diagnostic, keyed by code: (English template, Russian template).

The checker, the parser and the facts readers write their messages in English, and this
table reads them back: an English template's `{name}` is any text, `{name:kind}` a text
that is itself translated through `KINDS[kind]` (a unit, a place in the scheme...). A
Russian template writes `{name}` as it was found, or `{name:case}` for a kind's form in a
grammatical case (nom, gen, dat, acc, ins, prep); a kind's Russian is then a dict by case.
Scheme names, cell texts and numbers pass through untouched. A code without an entry here
fails `tests/test_i18n_diagnostics.py`, and so does any message the tests' schemes and
facts files produce that no template reads.
"""

from __future__ import annotations

Forms = str | dict[str, str]
Table = tuple[tuple[str, Forms], ...]


def _forms(nom: str, gen: str, dat: str, acc: str, ins: str, prep: str) -> dict[str, str]:
    return {"nom": nom, "gen": gen, "dat": dat, "acc": acc, "ins": ins, "prep": prep}


# ---------------------------------------------------------------- parts of messages

KINDS: dict[str, Table] = {
    # units.describe(): what a value is measured in
    "unit": (
        ("money ({currency})", _forms("деньги ({currency})", "денег ({currency})",
                                      "деньгам ({currency})", "деньги ({currency})",
                                      "деньгами ({currency})", "деньгах ({currency})")),
        ("money", _forms("деньги", "денег", "деньгам", "деньги", "деньгами", "деньгах")),
        ("percent", _forms("проценты", "процентов", "процентам", "проценты", "процентами",
                           "процентах")),
        ("count", _forms("количество", "количества", "количеству", "количество",
                         "количеством", "количестве")),
        ("ratio", _forms("доля", "доли", "доле", "долю", "долей", "доле")),
        ("number", _forms("число", "числа", "числу", "число", "числом", "числе")),
        ("minutes", _forms("минуты", "минут", "минутам", "минуты", "минутами", "минутах")),
        ("hours", _forms("часы", "часов", "часам", "часы", "часами", "часах")),
        ("days", _forms("дни", "дней", "дням", "дни", "днями", "днях")),
        ("yes/no", _forms("условие (да/нет)", "условия (да/нет)", "условию (да/нет)",
                          "условие (да/нет)", "условием (да/нет)", "условии (да/нет)")),
        ("a plain number", _forms("число без единиц", "числа без единиц",
                                  "числу без единиц", "число без единиц",
                                  "числом без единиц", "числе без единиц")),
        ("any", _forms("любое значение", "любого значения", "любому значению",
                       "любое значение", "любым значением", "любом значении")),
    ),
    # the place of an expression: checks.names.expressions()
    "place": (
        ("KPI {name}", "KPI {name}"),
        ("payment {name}", _forms("выплата {name}", "выплаты {name}", "выплате {name}",
                                  "выплату {name}", "выплатой {name}", "выплате {name}")),
        ("constant {name}", _forms("константа {name}", "константы {name}",
                                   "константе {name}", "константу {name}",
                                   "константой {name}", "константе {name}")),
        ("fact {name}", _forms("факт {name}", "факта {name}", "факту {name}", "факт {name}",
                               "фактом {name}", "факте {name}")),
        ("curve {name}", _forms("шкала {name}", "шкалы {name}", "шкале {name}",
                                "шкалу {name}", "шкалой {name}", "шкале {name}")),
        ("budget {name}", _forms("бюджет {name}", "бюджета {name}", "бюджету {name}",
                                 "бюджет {name}", "бюджетом {name}", "бюджете {name}")),
    ),
    # what a statement declares
    "noun": (
        ("KPI", "KPI"),
        ("fact", _forms("факт", "факта", "факту", "факт", "фактом", "факте")),
        ("constant", _forms("константа", "константы", "константе", "константу", "константой",
                            "константе")),
        ("curve", _forms("шкала", "шкалы", "шкале", "шкалу", "шкалой", "шкале")),
        ("payment", _forms("выплата", "выплаты", "выплате", "выплату", "выплатой",
                           "выплате")),
        ("budget", _forms("бюджет", "бюджета", "бюджету", "бюджет", "бюджетом", "бюджете")),
        ("example", _forms("пример", "примера", "примеру", "пример", "примером", "примере")),
        ("grade", _forms("грейд", "грейда", "грейду", "грейд", "грейдом", "грейде")),
    ),
    # checks.types: what must have a unit
    "operation": (
        ("add", "складывать"),
        ("subtract", "вычитать"),
    ),
    # the token the parser stopped at
    "token": (
        ("word '{word}'", "слово '{word}'"),
        ("'{text}'", "'{text}'"),
    ),
    # numbers.bound_error(), after the number it describes
    "bound": (
        ("is not a finite number", "— не конечное число"),
        ("is about 10^{power}; numbers must stay below 10^{limit}",
         "— это около 10^{power}, а числа должны быть меньше 10^{limit}"),
        ("has {n} decimal places; at most {limit} are allowed",
         "— {n} знаков после запятой, а допускается не больше {limit}"),
        ("has {n} significant digits; at most {limit} are allowed",
         "— {n} значащих цифр, а допускается не больше {limit}"),
        ("has {n} digits; at most {limit} are allowed",
         "— {n} цифр, а допускается не больше {limit}"),
    ),
    # KPI410: beyond the top band
    "beyond": (
        ("above {at}", _forms("выше {at}", "выше {at}", "выше {at}", "выше {at}", "выше {at}",
                              "выше {at}")),
        ("from {at} up", "от {at} и выше"),
    ),
    # the system's reasons a file cannot be read (strerror)
    "os": (
        ("No such file or directory", "нет такого файла или каталога"),
        ("Permission denied", "нет прав на чтение"),
        ("Is a directory", "это каталог"),
        ("Not a directory", "это не каталог"),
        ("{text}", "{text}"),
    ),
    "mean": (
        ("did you mean '{name}'?", "может быть, '{name}'?"),
    ),
    "gap": (
        ("between {a} and {b}", "между {a} и {b}"),
        ("at exactly {a}", "ровно {a}"),
    ),
    # checks.dates: why a date is none
    "date": (
        ("'{text}' is not a month like 2025-07 or a date like 2025-07-15",
         "'{text}' — не месяц вида 2025-07 и не дата вида 2025-07-15"),
        ("'{text}': there is no month {month}", "'{text}': месяца {month} не бывает"),
        ("'{text}': there is no year {year}", "'{text}': года {year} не бывает"),
        ("'{text}': {month} has no day {day}", "'{text}': в {month} нет {day}-го числа"),
    ),
    # checks.types: what must be in a unit
    "valued": (
        ("constant {name} in {month}", "константа {name} в месяце {month}"),
        ("the plan of {name} in {month}", "план {name} в месяце {month}"),
        ("the plan of {name}", "план {name}"),
        ("the attainment of {name}", "выполнение {name}"),
        ("the value of {name} when missing", "значение {name}, когда факта нет"),
        ("payment {name}", "выплата {name}"),
        ("the pool of {name}", "фонд {name}"),
        ("the weight of {name}", "вес {name}"),
        ("the amount for {name}", "сумма для {name}"),
        ("budget {name}", "бюджет {name}"),
    ),
    "measure": (
        ("attainment", "выполнение"),
        ("a value", "значение"),
    ),
    "curve word": (
        ("pays", "pays"),
        ("rate", "rate"),
        ("above", "above"),
        ("from", "from"),
    ),
    "month": tuple(
        (english, _forms(nom, gen, gen, nom, nom, nom))
        for english, nom, gen in (
            ("January", "январь", "января"), ("February", "февраль", "февраля"),
            ("March", "март", "марта"), ("April", "апрель", "апреля"), ("May", "май", "мая"),
            ("June", "июнь", "июня"), ("July", "июль", "июля"),
            ("August", "август", "августа"), ("September", "сентябрь", "сентября"),
            ("October", "октябрь", "октября"), ("November", "ноябрь", "ноября"),
            ("December", "декабрь", "декабря"))),
    # KPI704: who is paid on too many KPIs
    "who": (
        ("an employee of grade '{grade}'", "сотрудник грейда '{grade}'"),
        ("an employee", "сотрудник"),
    ),
    # KPI106: the letters' scripts
    "script": (
        ("Latin", _forms("латиница", "латиницы", "латинице", "латиницу", "латиницей",
                         "латинице")),
        ("Cyrillic", _forms("кириллица", "кириллицы", "кириллице", "кириллицу", "кириллицей",
                            "кириллице")),
        ("Greek", _forms("греческий алфавит", "греческого алфавита", "греческому алфавиту",
                         "греческий алфавит", "греческим алфавитом", "греческом алфавите")),
        ("Common", _forms("общий знак", "общего знака", "общему знаку", "общий знак",
                          "общим знаком", "общем знаке")),
        ("{script}", _forms("письменность {script}", "письменности {script}",
                            "письменности {script}", "письменность {script}",
                            "письменностью {script}", "письменности {script}")),
    ),
    "odd letters": (
        ("'{a}' is {x:script}, '{b}' is {y:script}", "'{a}' — {x}, '{b}' — {y}"),
        ("they differ in invisible or full-width characters",
         "они различаются невидимыми или полноширинными символами"),
    ),
    # KPI701: which field of a grade's statement
    "field": (
        ("{field} of {name}", "{field} у {name}"),
        ("{field}", "{field}"),
    ),
    # KPI905
    "needs": (
        ("the pay uses the figures of", "выплата считается по показателям"),
        ("budget {name} shares {pay} within", "бюджет {name} делит {pay} внутри"),
        ("budget {name} shares {pay}", "бюджет {name} делит {pay}"),
    ),
    "team": (
        ("team '{team}'", _forms("команда '{team}'", "команды '{team}'", "команде '{team}'",
                                 "команду '{team}'", "командой '{team}'", "команде '{team}'")),
        ("the rows without a team", _forms("строки без команды", "строк без команды",
                                           "строкам без команды", "строки без команды",
                                           "строками без команды", "строках без команды")),
    ),
    "members": (
        ("member {names:who failed}", "участник {names}"),
        ("members {names:who failed}", "участники {names}"),
    ),
    "who failed": (
        ("{list:member list} and {more} more", "{list} и ещё {more}"),
        ("{list:member list}", "{list}"),
    ),
    "member list": (
        ("{one:member}, {rest:member list}", "{one}, {rest}"),
        ("{one:member}", "{one}"),
    ),
    "member": (
        ("'{employee}' (row {row})", "'{employee}' (строка {row})"),
        ("'{employee}'", "'{employee}'"),
        ("on row {row}", "из строки {row}"),
        ("the employee on row {row}", "сотрудник из строки {row}"),
    ),
    "runtime": (
        ("division by zero", "деление на ноль"),
        ("a number grew beyond the decimal context (overflow)",
         "число вышло за пределы десятичного контекста (переполнение)"),
        ("a number needs more than {n} significant digits (the decimal context)",
         "числу нужно больше {n} значащих цифр (десятичный контекст)"),
        ("missing value {name}", "нет значения {name}"),
    ),
    # facts: the cell's kind of value (values.EXPECTED, _NON_NEGATIVE)
    "amount": (
        ("a count", _forms("количество", "количества", "количеству", "количество",
                           "количеством", "количестве")),
        ("a duration", _forms("длительность", "длительности", "длительности", "длительность",
                              "длительностью", "длительности")),
    ),
    "value unit": (
        ("money", "денежное"),
        ("count", "количественное"),
        ("ratio", "долевое"),
        ("number", "числовое"),
        ("minutes", "значение в минутах"),
        ("hours", "значение в часах"),
        ("days", "значение в днях"),
    ),
    "role": (
        ("employee", "сотрудника"),
        ("team", "команды"),
        ("grade", "грейда"),
        ("name", "имени"),
    ),
    "column what": (
        ("fact '{name}'", "факт '{name}'"),
        ("the {role:role} column '{name}'", "столбец {role} '{name}'"),
    ),
    "file kind": (
        ("UTF-16", "UTF-16"), ("UTF-32", "UTF-32"), ("UTF-16-LE", "UTF-16-LE"),
        ("UTF-16-BE", "UTF-16-BE"), ("UTF-32-LE", "UTF-32-LE"), ("UTF-32-BE", "UTF-32-BE"),
    ),
}

# the parser's "expected ..." lists, phrase by phrase (grammar.TERMINAL_WORDS and the groups
# of parser._expected_words); a phrase in quotes is a word of the language and stays
EXPECTED: dict[str, str] = {
    "a value (a number, 80%, 60_000 RUB, a name or a formula)":
        "значение (число, 80%, 60_000 RUB, имя или формула)",
    "a new statement (fact, constant, curve, kpi, pay, example, grade ...)":
        "новое объявление (fact, constant, curve, kpi, pay, example, grade ...)",
    "'pays' and what the band pays": "'pays' и то, что платит диапазон",
    "a name": "имя",
    'a label in quotes ("...")': 'подпись в кавычках ("...")',
    "a number": "число",
    "a percentage (80%)": "процент (80%)",
    "a date (2025-07 or 2025-07-01)": "дата (2025-07 или 2025-07-01)",
    "a currency (RUB, USD, EUR, ₽)": "валюта (RUB, USD, EUR, ₽)",
    "a unit (money, count, percent, ratio, number, minutes, hours, days)":
        "единица (money, count, percent, ratio, number, minutes, hours, days)",
    "a period (month, quarter, year, week)": "период (month, quarter, year, week)",
    "a sector (b2b, b2c, infobusiness)": "отрасль (b2b, b2c, infobusiness)",
    "'payouts' or 'attainment'": "'payouts' или 'attainment'",
    "a rounding mode (half up, half even, half down, up, down, ceiling, floor)":
        "способ округления (half up, half even, half down, up, down, ceiling, floor)",
    "'higher' or 'lower'": "'higher' или 'lower'",
    "a KPI group (activity, efficiency, result)": "группа KPI (activity, efficiency, result)",
    "'marginal' or 'whole'": "'marginal' или 'whole'",
    "total, average, min or max": "total, average, min или max",
    "min, max or abs": "min, max или abs",
    "a month (jan ... dec)": "месяц (jan ... dec)",
    "a comparison (=, <, >, <=, >=, !=)": "сравнение (=, <, >, <=, >=, !=)",
    "+ or -": "+ или -",
    "the end of the file": "конец файла",
}


# ---------------------------------------------------------------- before any message

# where in a facts file or run: a prefix the readers put before the message itself
PLACES: Table = (
    ("row {row}, column '{column}': ", "строка {row}, столбец '{column}': "),
    ("row {row}: ", "строка {row}: "),
    ("employee '{employee}': ", "сотрудник '{employee}': "),
    ("line {line}: ", "строка файла {line}: "),
)

# phrases any code may carry (mostly hints)
COMMON: Table = (
    ("did you mean '{name}'?", "может быть, '{name}'?"),
    ("known grades: {grades}", "известные грейды: {grades}"),
    ("the first definition is on line {line}", "первое объявление — в строке {line}"),
    ("choose another name", "выберите другое имя"),
    ("map CRM column names to facts with --map COLUMN=fact",
     "сопоставьте столбцы выгрузки с фактами: --map СТОЛБЕЦ=факт"),
    ("save the export as UTF-8 (in Excel: 'CSV UTF-8')",
     "сохраните выгрузку в UTF-8 (в Excel: «CSV UTF-8»)"),
    ("expected a sum like 3 300 000 or 3300000,50",
     "ожидается сумма, например 3 300 000 или 3300000,50"),
    ("expected a whole number like 12", "ожидается целое число, например 12"),
    ("expected a percentage like 2,1% or a fraction like 0,021",
     "ожидается процент, например 2,1%, или доля, например 0,021"),
    ("expected a ratio like 0,85 or 85%", "ожидается доля, например 0,85 или 85%"),
    ("expected a number like 1500 or 1,5", "ожидается число, например 1500 или 1,5"),
    ("expected days, like 5", "ожидается число дней, например 5"),
    ("expected minutes, like 90 or 1,5", "ожидается число минут, например 90 или 1,5"),
    ("expected hours, like 8 or 7,5", "ожидается число часов, например 8 или 7,5"),
)


# usage errors of the command line (`error: ...`, exit 2)
USAGE: Table = (
    ("{path}: no {suffix} files in this directory", "{path}: в этом каталоге нет файлов {suffix}"),
    ("{path}: no such file or directory", "{path}: нет такого файла или каталога"),
    ("{path}: not a directory", "{path}: это не каталог"),
    ("give either --as-of or --elapsed/--total-days, not both",
     "укажите либо --as-of, либо --elapsed/--total-days, но не то и другое"),
    ("--holidays needs --as-of (the calendar counts the days up to that date)",
     "--holidays нужен вместе с --as-of (календарь считает дни до этой даты)"),
    ("a forecast needs both --elapsed and --total-days (or --as-of DATE)",
     "для прогноза нужны и --elapsed, и --total-days (или --as-of ДАТА)"),
    ("unknown grade '{grade}'; known grades: none",
     "неизвестный грейд '{grade}': в схеме нет грейдов"),
    ("unknown grade '{grade}'; known grades: {known} ({hint:mean})",
     "неизвестный грейд '{grade}'; известные грейды: {known} ({hint})"),
    ("unknown grade '{grade}'; known grades: {known}",
     "неизвестный грейд '{grade}'; известные грейды: {known}"),
    ("no completion for {shell}", "нет дополнения для {shell}"),
    ("template {where}: {why}", "шаблон {where}: {why}"),
    ("template not found: {name}", "шаблон не найден: {name}"),
    ("template: {why}", "шаблон: {why}"),
    ("--format pdf writes a file: give it with -o FILE",
     "--format pdf записывает файл: укажите его через -o ФАЙЛ"),
    ("give either --employee ID or --all", "укажите либо --employee ID, либо --all"),
    ("--all writes one file per employee: give the directory with -o DIR",
     "--all записывает по файлу на сотрудника: укажите каталог через -o КАТАЛОГ"),
    ("no employee '{employee}' in {files} ({hint:mean})",
     "в {files} нет сотрудника '{employee}' ({hint})"),
    ("no employee '{employee}' in {files}; employees: {known}",
     "в {files} нет сотрудника '{employee}'; сотрудники: {known}"),
    ("{scheme} pays per team, and '{employee}' is a member of team '{team}': give the team's "
     "name with -e",
     "схема {scheme} платит по командам, а '{employee}' — в команде '{team}': укажите "
     "название команды в -e"),
    ("no employee '{employee}' in {files}", "в {files} нет сотрудника '{employee}'"),
    ("--rank: '{name}' is neither 'total' nor a KPI of {scheme} ({hint:mean})",
     "--rank: '{name}' — не 'total' и не KPI схемы {scheme} ({hint})"),
    ("--rank: '{name}' is neither 'total' nor a KPI of {scheme}",
     "--rank: '{name}' — не 'total' и не KPI схемы {scheme}"),
    ("--format {format} writes a workbook: give the file with -o FILE",
     "--format {format} записывает книгу: укажите файл через -o ФАЙЛ"),
    ("--hold: '{name}' is not a fact of {scheme}", "--hold: '{name}' — не факт схемы {scheme}"),
    ("--earn: {why}", "--earn: {why}"),
    ("did you mean '{name}'?", "может быть, '{name}'?"),
    ("PDF needs WeasyPrint: pip install 'kpidsl[pdf]' (and Pango, e.g. apt-get install "
     "libpango-1.0-0): {why}",
     "для PDF нужен WeasyPrint: pip install 'kpidsl[pdf]' (и Pango, например apt-get install "
     "libpango-1.0-0): {why}"),
)


# ---------------------------------------------------------------- by code

_SPLIT = "every name must be unique; rename one"

MESSAGES: dict[str, Table] = {
    # ---- KPI0xx reading the scheme
    "KPI001": (
        ("the scheme ends too early; expected {expected:expected}",
         "схема обрывается раньше времени; ожидается: {expected}"),
        ("the scheme ends too early", "схема обрывается раньше времени"),
        ("the {statement} statement ends too early: '{word}' on line {line} begins the next "
         "one; expected {expected:expected}",
         "объявление {statement} обрывается раньше времени: '{word}' в строке {line} начинает "
         "следующее; ожидается: {expected}"),
        ("the {statement} statement ends too early: '{word}' on line {line} begins the next "
         "one",
         "объявление {statement} обрывается раньше времени: '{word}' в строке {line} начинает "
         "следующее"),
        ("finish the statement, or remove what is left over at its end",
         "допишите объявление или уберите то, что осталось в его конце"),
        ("unexpected {token:token}; expected {expected:expected}",
         "здесь не может стоять {token}; ожидается: {expected}"),
        ("unexpected {token:token}", "здесь не может стоять {token}"),
        ("'{percent}' says how a percent fact is written, but '{name}' is {unit:unit}",
         "'{percent}' говорит, как записан процентный факт, но '{name}' — это {unit}"),
        ("write: fact {name} percent {percent}", "напишите: fact {name} percent {percent}"),
        ("'{word}' is a word of the language and cannot be a name; choose another name",
         "'{word}' — слово языка, им нельзя назвать; выберите другое имя"),
        ("write thousands with underscores (3_000_000) and decimals with a point (2.1%)",
         "тысячи отделяйте подчёркиванием (3_000_000), дробную часть — точкой (2.1%)"),
        ("a number is written with digits, '_' and one decimal point: 3_000_000, 2.5%",
         "число пишется цифрами, '_' и одной десятичной точкой: 3_000_000, 2.5%"),
        ("say what the band pays: ... pays {value}",
         "укажите, что платит диапазон: ... pays {value}"),
        ("no colon is needed: write the parts one after another, e.g. 'below 80% pays 0'",
         "двоеточие не нужно: части пишутся подряд, например 'below 80% pays 0'"),
        ("a weight or threshold is a percentage: write {value}%",
         "вес или порог — это процент: напишите {value}%"),
        ("currencies are written after the amount: 60_000 RUB",
         "валюта пишется после суммы: 60_000 RUB"),
        ('a label comes right after the name it describes: kpi revenue "Revenue" ...',
         'подпись ставится сразу после имени, которое она описывает: kpi revenue "Выручка" ...'),
    ),
    "KPI002": (
        ("unexpected character {char}; expected {expected:expected}",
         "недопустимый символ {char}; ожидается: {expected}"),
        ("unexpected character {char}", "недопустимый символ {char}"),
        ('labels are written in double quotes: "Revenue"',
         'подписи пишутся в двойных кавычках: "Выручка"'),
        ("statements need no separator; start each on its own line",
         "разделитель между объявлениями не нужен: начинайте каждое с новой строки"),
        ("no colon is needed: write the parts one after another, e.g. 'below 80% pays 0'",
         "двоеточие не нужно: части пишутся подряд, например 'below 80% pays 0'"),
        ("remove the invisible character (it may come from copying out of a document)",
         "удалите невидимый символ (он мог попасть при копировании из документа)"),
    ),
    "KPI003": (
        ("an expression is nested more than {n} levels deep",
         "выражение вложено глубже {n} уровней"),
        ("split it into several KPIs or constants",
         "разбейте его на несколько KPI или констант"),
    ),
    "KPI004": (
        ("the file contains a NUL byte", "в файле есть нулевой байт (NUL)"),
        ("save the scheme as plain UTF-8 text",
         "сохраните схему как обычный текст в кодировке UTF-8"),
        ("{path} is not UTF-8 text (byte {byte})",
         "{path} — не текст в кодировке UTF-8 (байт {byte})"),
        ("save the scheme as UTF-8", "сохраните схему в кодировке UTF-8"),
    ),
    "KPI005": (
        ("a number with more than {n} digits", "число длиннее {n} цифр"),
        ("the number {number} {why:bound}", "число {number} {why}"),
        ("amounts and plans need far fewer digits",
         "суммам и планам хватает гораздо меньшего числа цифр"),
    ),
    "KPI006": (
        ("cannot read {path}: {reason:os}", "не удаётся прочитать {path}: {reason}"),
    ),
    "KPI007": (
        ("the scheme is too large to compile: its generated evaluator is beyond what "
         "Python's compiler accepts",
         "схема слишком велика для компиляции: её расчётный модуль не принимает компилятор "
         "Python"),
        ("split it into smaller schemes, or curves into fewer bands",
         "разделите её на несколько схем или сократите число диапазонов в шкалах"),
    ),
    "KPI008": (
        ("'{word}' reads as '{split}': a space is missing after '{keyword}'",
         "'{word}' читается как '{split}': после '{keyword}' пропущен пробел"),
        ("write '{split}'", "напишите '{split}'"),
    ),
    # ---- KPI1xx names
    "KPI101": (
        ("unknown name '{name}' in {where:place}", "неизвестное имя '{name}' в {where:prep}"),
        ("a curve can use only constants and 'attainment', not '{name}'",
         "шкала может использовать только константы и 'attainment', а не '{name}'"),
        ("{where:place} can use only constants and 'attainment', not '{name}'",
         "{where} может использовать только константы и 'attainment', а не '{name}'"),
        ("'{kind} of' cannot be used in {where:place}",
         "'{kind} of' нельзя использовать в {where:prep}"),
        ("'{kind} of {name}' names no KPI (in {where:place})",
         "'{kind} of {name}' не называет ни одного KPI (в {where:prep})"),
        ("unknown curve '{name}' in {where:place}", "неизвестная шкала '{name}' в {where:prep}"),
        ("team totals cannot be used in {where:place}",
         "командные итоги нельзя использовать в {where:prep}"),
        ("team totals are taken over facts; '{name}' is not a fact",
         "командные итоги считаются по фактам, а '{name}' — не факт"),
        ("'attainment' alone is a curve's input, used only in what a band pays "
         "(here: {where:place})",
         "'attainment' без KPI — это вход шкалы, его пишут только в том, что платит "
         "диапазон (здесь: {where})"),
        ("for a KPI's attainment name the KPI: attainment of revenue",
         "для выполнения по KPI назовите KPI: attainment of revenue"),
        ("budget '{name}' caps unknown payment '{pay}'",
         "бюджет '{name}' ограничивает неизвестную выплату '{pay}'"),
        ("unknown KPI '{kpi}' in payment '{pay}'", "неизвестный KPI '{kpi}' в выплате '{pay}'"),
        ("unknown curve '{name}'", "неизвестная шкала '{name}'"),
    ),
    "KPI102": (
        ("'{name}' is a word of the language and cannot name a {what:noun}",
         "'{name}' — слово языка, им нельзя назвать {what:acc}"),
    ),
    "KPI103": (
        ("'{name}' names both a {one:noun} and a {other:noun}",
         "'{name}' — это имя и {one:gen}, и {other:gen}"),
        (_SPLIT, "каждое имя должно быть уникальным: переименуйте одно из них"),
        ("example '{name}' is defined twice", "пример '{name}' объявлен дважды"),
        ("KPI '{kpi}' appears twice in '{pay}'", "KPI '{kpi}' дважды встречается в '{pay}'"),
        ("{what:noun} '{name}' is defined twice", "{what} '{name}' объявляется дважды"),
    ),
    "KPI104": (
        ("KPI '{name}' has no formula and there is no fact named '{fact}'",
         "у KPI '{name}' нет формулы, и нет факта с именем '{fact}'"),
        ("write its formula (kpi {name} = ...) or declare 'fact {fact} ...'",
         "задайте формулу (kpi {name} = ...) или объявите факт: 'fact {fact} ...'"),
    ),
    "KPI105": (
        ("definitions depend on each other in a cycle: {names}",
         "определения зависят друг от друга по кругу: {names}"),
        ("a KPI cannot be computed from itself; break the cycle with a fact or a constant",
         "KPI нельзя вычислить через самого себя: разорвите круг фактом или константой"),
    ),
    "KPI106": (
        ("{what:noun} '{name}' looks like {other_what:noun} '{other}' (line {line}) but is "
         "another name: {why:odd letters}",
         "{what} '{name}' выглядит как {other_what} '{other}' (строка {line}), но это другое "
         "имя: {why}"),
        ("retype the name so both are spelt with the same letters",
         "перепечатайте имя, чтобы оба были написаны одними и теми же буквами"),
        ("{what:noun} name '{name}' mixes {a:script} and {b:script} letters in one word "
         "('{word}': '{char}' is {c:script})",
         "в имени ({what}) '{name}' смешаны {a} и {b} в одном слове ('{word}': '{char}' — "
         "{c})"),
        ("retype it in one alphabet; a look-alike letter makes another name",
         "перепечатайте его в одном алфавите: похожая буква делает имя другим"),
    ),
    # ---- KPI2xx units
    "KPI201": (
        ("cannot {op:operation} {a:unit} and {b:unit}", "нельзя {op} {a:acc} и {b:acc}"),
        ("both sides of + and − must be in the same unit",
         "обе стороны + и − должны быть в одних единицах"),
        ("cannot compare {a:unit} with {b:unit}", "нельзя сравнивать {a:acc} с {b:ins}"),
        ("'then' gives {a:unit} but 'else' gives {b:unit}",
         "'then' даёт {a:acc}, а 'else' — {b:acc}"),
        ("{function} mixes {a:unit} and {b:unit}", "{function} смешивает {a:acc} и {b:acc}"),
    ),
    "KPI202": (
        ("cannot multiply {a:unit} by {b:unit}", "нельзя умножать {a:acc} на {b:acc}"),
        ("an amount is multiplied by a percentage, a rate or a count",
         "сумму умножают на процент, ставку или количество"),
        ("cannot divide {a:unit} by {b:unit}", "нельзя делить {a:acc} на {b:acc}"),
    ),
    "KPI203": (
        ("a yes/no condition is used as a number", "условие (да/нет) использовано как число"),
        ("conditions belong after 'if' or 'only if'",
         "условия пишутся после 'if' или 'only if'"),
    ),
    "KPI204": (
        ("a condition is expected here (e.g. attainment of revenue >= 100%)",
         "здесь ожидается условие (например, attainment of revenue >= 100%)"),
        ("{what:valued} must be {wanted:unit}, not {unit:unit}",
         "{what}: значение должно быть {wanted:ins}, а не {unit:ins}"),
        ("multiply the rate by an amount, e.g. revenue × 5%",
         "умножьте ставку на сумму, например revenue × 5%"),
        ("a {kind} is an amount or a percentage of the share, not {unit:unit}",
         "{kind} — это сумма или процент от доли, а не {unit}"),
    ),
    "KPI205": (
        ("'otherwise' gives {a:unit} where the division gives {b:unit}",
         "'otherwise' даёт {a:acc}, а деление — {b:acc}"),
    ),
    "KPI206": (
        ("{currency} amount in a scheme paid in {scheme}",
         "сумма в {currency} в схеме, которая платит в {scheme}"),
        ("write amounts in {currency}", "пишите суммы в {currency}"),
    ),
    "KPI207": (
        ("abs takes exactly one value", "abs принимает ровно одно значение"),
        ("{function} needs at least two values", "{function} нужно не меньше двух значений"),
    ),
    "KPI208": (
        ("the rounding step must be a positive constant (e.g. 0.01, 100)",
         "шаг округления должен быть положительной константой (например, 0.01 или 100)"),
        ("the rounding step must be a positive constant (e.g. 0.01)",
         "шаг округления должен быть положительной константой (например, 0.01)"),
    ),
    "KPI210": (
        ("'{name}' can be zero; say what the division gives then",
         "'{name}' может быть нулём: укажите, что даёт деление в этом случае"),
        ("write: {left} / {right} otherwise 0", "напишите: {left} / {right} otherwise 0"),
    ),
    # ---- KPI3xx plans, weights, pools
    "KPI301": (
        ("the weights in '{pay}' in grade '{grade}' add up to {total}, not 100%",
         "веса в '{pay}' (грейд '{grade}') в сумме дают {total}, а не 100%"),
        ("the weights in '{pay}' add up to {total}, not 100%",
         "веса в '{pay}' в сумме дают {total}, а не 100%"),
        ("make the weights sum to exactly 100%", "сделайте так, чтобы веса давали ровно 100%"),
    ),
    "KPI302": (
        ("KPI '{kpi}' is paid by attainment but has no plan",
         "KPI '{kpi}' оплачивается по выполнению, но у него нет плана"),
        ("add its plan: kpi {kpi} plan ...", "добавьте план: kpi {kpi} plan ..."),
    ),
    "KPI303": (
        ("'{kpi}' has a weight but '{pay}' has no pool to weigh",
         "у '{kpi}' есть вес, но у '{pay}' нет фонда, который можно распределить"),
        ("write: pay {pay} pool 50_000 RUB", "напишите: pay {pay} pool 50_000 RUB"),
    ),
    "KPI304": (
        ("'{kpi}' in '{pay}' has no share", "у '{kpi}' в '{pay}' не задана доля"),
        ("add 'weight 40%' or 'amount 20_000 RUB'",
         "добавьте 'weight 40%' или 'amount 20_000 RUB'"),
        ("'{kpi}' has both a weight and an amount", "у '{kpi}' заданы и вес, и сумма"),
        ("keep one of them", "оставьте что-то одно"),
    ),
    "KPI305": (
        ("payment '{pay}' has both a formula and a pool",
         "у выплаты '{pay}' есть и формула, и фонд"),
        ("write either '= amount' or 'pool ... for ...'",
         "напишите либо '= сумма', либо 'pool ... for ...'"),
    ),
    "KPI306": (
        ("payment '{pay}' pays nothing", "выплата '{pay}' ничего не платит"),
        ("write '= amount' or 'pool amount' with its KPIs",
         "напишите '= сумма' или 'pool сумма' с её KPI"),
    ),
    "KPI307": (
        ("'{kpi}' in '{pay}' has no curve", "у '{kpi}' в '{pay}' не указана шкала"),
        ("add e.g. 'curve standard' after its share",
         "добавьте после доли, например, 'curve standard'"),
    ),
    "KPI308": (
        ("the weight of '{kpi}' in '{pay}' is the plain number {number}: {total} of the pool "
         "as written, or {value}% meant",
         "вес '{kpi}' в '{pay}' записан простым числом {number}: как написано, это {total} "
         "фонда, а возможно, имелось в виду {value}%"),
        ("a weight or threshold is a percentage: write {value}%",
         "вес или порог — это процент: напишите {value}%"),
    ),
    # ---- KPI4xx curves
    "KPI401": (
        ("bands are out of order: list them from the lowest attainment up",
         "диапазоны идут не по порядку: перечислите их от меньшего выполнения к большему"),
        ("band {lower} – {upper} is empty: its start is not below its end",
         "диапазон {lower} – {upper} пуст: его начало не меньше конца"),
        ("points are out of order: list them from the lowest attainment up",
         "точки идут не по порядку: перечислите их от меньшего выполнения к большему"),
    ),
    "KPI402": (
        ("no band covers attainment {gap:gap}",
         "ни один диапазон не покрывает выполнение {gap}"),
        ("start each band where the previous one ends",
         "начинайте каждый диапазон там, где кончается предыдущий"),
    ),
    "KPI403": (
        ("this band overlaps the previous one at {at}",
         "этот диапазон пересекается с предыдущим в точке {at}"),
        ("use 'through' on one side and 'above' on the other, or 'to' and 'from'",
         "используйте 'through' с одной стороны и 'above' с другой или 'to' и 'from'"),
    ),
    "KPI404": (
        ("curve '{curve}' pays less at {x2} than at {x1}",
         "шкала '{curve}' при {x2} платит меньше, чем при {x1}"),
        ("a higher attainment should never pay less",
         "более высокое выполнение не должно оплачиваться меньше"),
    ),
    "KPI405": (
        ("curve '{curve}' accelerates above {start} with no cap",
         "у шкалы '{curve}' ускоритель выше {start} без потолка"),
        ("add e.g. 'cap 200%' so one month cannot break the budget, or write 'uncapped' if "
         "the scheme means it",
         "добавьте, например, 'cap 200%', чтобы один месяц не сорвал бюджет, или напишите "
         "'uncapped', если так задумано"),
    ),
    "KPI406": (
        ("a curve's cap or floor must be a constant",
         "потолок или минимум шкалы должен быть константой"),
        ("band bounds must be constants (e.g. 80%)",
         "границы диапазонов должны быть константами (например, 80%)"),
        ("a tier's rate must be a constant", "ставка ступени должна быть константой"),
        ("points of a linear curve must be constants",
         "точки линейной шкалы должны быть константами"),
        ("a budget cap must be a constant amount",
         "потолок бюджета должен быть постоянной суммой"),
    ),
    "KPI408": (
        ("a linear curve needs at least two points",
         "линейной шкале нужно не меньше двух точек"),
    ),
    "KPI409": (
        ("curve '{curve}' has bounds in {a:unit} and in {b:unit}",
         "у шкалы '{curve}' границы заданы и в {a:prep}, и в {b:prep}"),
        ("write every bound of a curve in one unit",
         "задайте все границы шкалы в одних единицах"),
        ("curve '{curve}' is bounded in {unit:unit}, but '{kpi}' in '{pay}' applies it to an "
         "attainment (a percentage of plan)",
         "границы шкалы '{curve}' заданы в {unit:prep}, а '{kpi}' в '{pay}' применяет её к "
         "выполнению (проценту от плана)"),
        ("bound it in percent of plan (from 100%), or pay the amount through a formula: "
         "pay ... = {curve}({kpi})",
         "задайте границы в процентах от плана (from 100%) или платите сумму формулой: "
         "pay ... = {curve}({kpi})"),
        ("curve '{curve}' is bounded in {unit:unit}, but {where:place} applies it to "
         "{arg:unit}",
         "границы шкалы '{curve}' заданы в {unit:prep}, а {where} применяет её к {arg:dat}"),
        ("apply it to an attainment: {curve}(attainment of ...)",
         "применяйте её к выполнению: {curve}(attainment of ...)"),
        ("bound it in {a:unit}, or apply it to a value in {b:unit}",
         "задайте границы в {a:prep} или применяйте её к значению в {b:prep}"),
    ),
    "KPI410": (
        ("curve '{curve}' pays 0 {where:beyond}: its top band ({band}) is closed, so "
         "{what:measure} {where2:beyond} falls in no band",
         "шкала '{curve}' платит 0 {where}: её верхний диапазон ({band}) закрыт, и "
         "{what} {where2} не попадает ни в один диапазон"),
        ("add a band for what lies beyond ({start:curve word} {at} {word:curve word} ...), "
         "or leave the top band open",
         "добавьте диапазон для того, что выше ({start} {at} {word} ...), или оставьте "
         "верхний диапазон открытым"),
    ),
    "KPI411": (
        ("curve '{curve}' has a cap and is declared 'uncapped'",
         "у шкалы '{curve}' есть потолок, и она же объявлена 'uncapped'"),
        ("keep the cap, or drop it and keep 'uncapped'",
         "оставьте потолок или уберите его и оставьте 'uncapped'"),
    ),
    "KPI413": (
        ("curve '{curve}' uses '{name}', a constant that changes by month; a curve is the same "
         "in every month",
         "шкала '{curve}' использует '{name}' — константу, которая меняется по месяцам; шкала "
         "одна и та же в каждом месяце"),
        ("give the month's value to the plan ('plan … by month'), the pool's amount or the "
         "payment's formula instead",
         "задайте значение месяца в плане ('plan … by month'), в сумме фонда или в формуле "
         "выплаты"),
    ),
    # ---- KPI5xx facts
    "KPI501": (
        ("'{text}' is not a number", "'{text}' — не число"),
        ("'{text}' is a yes/no value, not a number", "'{text}' — значение да/нет, а не число"),
        ("'{text}' looks like an Excel formula; export values, not formulas",
         "'{text}' похоже на формулу Excel; выгрузите значения, а не формулы"),
        ("'{text}' is an Excel error value, not a number",
         "'{text}' — значение ошибки Excel, а не число"),
        ("'{text}' looks like a date, not a number", "'{text}' похоже на дату, а не на число"),
        ("'{text}' looks like a time, not a number", "'{text}' похоже на время, а не на число"),
        ("'{text}' is in scientific notation, which loses digits; export the column as a "
         "plain number",
         "'{text}' записано в экспоненциальной форме, в ней теряются цифры; выгрузите "
         "столбец как обычное число"),
        ("'{text}' has a percent sign, but a {unit:value unit} value cannot",
         "у '{text}' знак процента, а {unit} значение его иметь не может"),
        ("'{text}' {why:bound}", "'{text}' {why}"),
        ("'{text}' is in {code} ({sign}), but the scheme pays in {currency}",
         "'{text}' — в {code} ({sign}), а схема платит в {currency}"),
        ("cell {cell} has {n} characters; at most {limit} are read",
         "в ячейке {cell} {n} символов, читается не больше {limit}"),
        ("cell {cell} has a formula but no saved value; open the workbook in Excel and save it "
         "again",
         "в ячейке {cell} формула без сохранённого значения: откройте книгу в Excel и "
         "сохраните её заново"),
        ("cell {cell} has an unknown type '{kind}'", "у ячейки {cell} неизвестный тип '{kind}'"),
        ("cell {cell} holds '{text}', which is not a finite number",
         "в ячейке {cell} '{text}', а это не конечное число"),
        ("cell {cell} is marked as a date but holds '{text}'",
         "ячейка {cell} помечена как дата, но в ней '{text}'"),
        ("cell {cell} is marked as a number but holds '{text}'",
         "ячейка {cell} помечена как число, но в ней '{text}'"),
        ("cell {cell} is marked yes/no but holds '{text}'",
         "ячейка {cell} помечена как да/нет, но в ней '{text}'"),
        ("cell {cell} refers to text number {n}, but the workbook has {count}",
         "ячейка {cell} ссылается на строку текста {n}, а в книге их {count}"),
        ("fact '{fact}' is a float; pass a Decimal, an int or text, so no binary rounding "
         "touches an amount",
         "факт '{fact}' передан как float; передайте Decimal, int или текст, чтобы двоичное "
         "округление не задело сумму"),
    ),
    "KPI502": (
        ("empty value", "пустое значение"),
        ("missing required fact '{fact}'", "не заполнен обязательный факт '{fact}'"),
        ("missing employee id", "не указан сотрудник"),
        ("every row needs the employee's id", "в каждой строке нужен идентификатор сотрудника"),
        ("fill in the cell, or make the fact optional with a default",
         "заполните ячейку или задайте факту значение по умолчанию"),
        ("no column for required fact(s) {facts}; columns found: {columns}",
         "нет столбца для обязательных фактов {facts}; найдены столбцы: {columns}"),
        ("no column for required fact(s) {facts} in any of the files ({files}); columns "
         "found: {columns}",
         "ни в одном из файлов ({files}) нет столбца для обязательных фактов {facts}; "
         "найдены столбцы: {columns}"),
        ("employee '{employee}' has no value for required fact(s) {facts} in any file "
         "({files})",
         "у сотрудника '{employee}' нет значения обязательных фактов {facts} ни в одном "
         "файле ({files})"),
        ("add the employee's row to the file with that column, or make the fact optional "
         "with a default",
         "добавьте строку сотрудника в файл с этим столбцом или задайте факту значение по "
         "умолчанию"),
        ("map the export's column to it with --map COLUMN={fact}, or write `from column "
         "\"…\"` after the fact in the scheme, or make the fact optional",
         "сопоставьте ему столбец выгрузки: --map СТОЛБЕЦ={fact}, или напишите "
         "`from column \"…\"` после факта в схеме, или сделайте факт необязательным"),
    ),
    "KPI503": (
        ("'{text}' is negative; {what:amount} cannot be negative",
         "'{text}' — отрицательное число, а {what} не может быть отрицательным"),
        ("{what:amount} is 0 or more", "{what} — 0 или больше"),
        ("'{text}' is not a whole number; a count must be whole",
         "'{text}' — не целое число, а количество должно быть целым"),
        ("a count is a whole number of things, 0 or more",
         "количество — целое число, 0 или больше"),
    ),
    "KPI504": (
        ("employee '{employee}' already appears on row {row}",
         "сотрудник '{employee}' уже встречается в строке {row}"),
        ("employee '{employee}' already appears at {where}",
         "сотрудник '{employee}' уже встречается: {where}"),
        ("employee '{employee}' is spelt '{other}' in {file} row {row}",
         "сотрудник '{employee}' записан как '{other}' в {file}, строка {row}"),
        ("employee '{employee}' is spelt '{other}' in {file} row {row}: the two ids differ "
         "only by look-alike characters ({difference})",
         "сотрудник '{employee}' записан как '{other}' в {file}, строка {row}: "
         "идентификаторы различаются только похожими символами ({difference})"),
        ("each employee appears once per facts file; merge or remove the duplicate",
         "каждый сотрудник встречается в файле один раз: объедините строки или удалите "
         "повтор"),
        ("each employee appears once across the facts files; merge or remove the duplicate",
         "каждый сотрудник встречается во всех файлах фактов один раз: объедините строки "
         "или удалите повтор"),
        ("spell the employee's id the same way in every file (or map one to the other)",
         "пишите идентификатор сотрудника одинаково во всех файлах (или сопоставьте один "
         "другому)"),
        ("the two ids differ only by look-alike characters ({difference})",
         "идентификаторы различаются только похожими символами ({difference})"),
    ),
    "KPI505": (
        ("unknown column '{column}': not a fact of this scheme, kept as text",
         "неизвестный столбец '{column}': такого факта в схеме нет, сохранён как текст"),
        ("{n} unknown columns, not facts of this scheme, kept as text: {listed} and {more} "
         "more",
         "неизвестных столбцов: {n}, таких фактов в схеме нет, сохранены как текст: {listed} "
         "и ещё {more}"),
        ("column {n} has no name and is ignored", "у столбца {n} нет названия, он пропущен"),
    ),
    "KPI506": (
        ("row {row} has {n} cell, but the header has {count} columns",
         "в строке {row} {n} ячейка, а в заголовке столбцов: {count}"),
        ("row {row} has {n} cells, but the header has {count} columns",
         "в строке {row} ячеек: {n}, а в заголовке столбцов: {count}"),
        ("check for a missing or extra delimiter in this row; quote numbers with a decimal "
         "comma",
         "проверьте, нет ли в строке лишнего или пропущенного разделителя; числа с "
         "десятичной запятой берите в кавычки"),
        ("check for a missing or extra delimiter in this row",
         "проверьте, нет ли в строке лишнего или пропущенного разделителя"),
        ("expected an object of fact values, got {value}",
         "ожидается объект со значениями фактов, а получено {value}"),
        ("not valid JSON: {why}", "это не JSON: {why}"),
        ("write one JSON object per employee", "пишите по одному объекту JSON на сотрудника"),
    ),
    "KPI507": (
        ("source '{name}': the export has a share column {column} and --split gives a split "
         "file: the shares would be said twice",
         "источник '{name}': в выгрузке есть столбец долей {column}, и --split даёт файл "
         "долей: доли были бы указаны дважды"),
        ("give the shares once: in the export's share column or in the split file",
         "укажите доли один раз: в столбце долей выгрузки или в файле долей"),
        ("the facts file is empty", "файл фактов пуст"),
        ("export a header row and a row per employee",
         "выгрузите строку заголовков и по строке на сотрудника"),
        ("cannot read the facts file: {reason:os}",
         "не удаётся прочитать файл фактов: {reason}"),
        ("cannot read the facts: {reason:os}", "не удаётся прочитать факты: {reason}"),
        ("no '{column}' column in the header; columns found: {listed}",
         "в заголовке нет столбца '{column}'; найдены столбцы: {listed}"),
        ("name the employee's column with --id COLUMN (API: id_column=...)",
         "укажите столбец сотрудника: --id СТОЛБЕЦ (в API: id_column=...)"),
        ("duplicate column names in the header: {where}",
         "повторяющиеся названия столбцов в заголовке: {where}"),
        ("give every column a different name", "дайте каждому столбцу своё название"),
        ("columns '{a}' and '{b}' both give {what:column what}",
         "столбцы '{a}' и '{b}' оба дают {what}"),
        ("keep one of them, or fix --map or the --mapping file",
         "оставьте один из них или исправьте --map либо файл --mapping"),
        ("the file is {kind:file kind} without a byte-order mark; read as such",
         "файл в кодировке {kind} без метки порядка байтов; прочитан как таковой"),
        ("cannot decode the file: byte {byte} at offset {offset} is invalid in both UTF-8 "
         "and Windows-1251 (cp1251)",
         "не удаётся раскодировать файл: байт {byte} по смещению {offset} недопустим и в "
         "UTF-8, и в Windows-1251 (cp1251)"),
        ("the file holds NUL bytes and is neither UTF-16 nor UTF-32 text: is it a binary "
         "file?",
         "в файле есть нулевые байты, и это не текст UTF-16 или UTF-32: не двоичный ли это "
         "файл?"),
        ("export the facts as CSV (UTF-8), JSON or XLSX",
         "выгрузите факты в CSV (UTF-8), JSON или XLSX"),
        ("the file is not valid {encoding} on line {line} (byte offset {offset}): {reason}",
         "файл не в кодировке {encoding}: строка {line} (смещение {offset}): {reason}"),
        ("the file is not valid UTF-8 after row {row}: {reason}",
         "файл не в кодировке UTF-8 после строки {row}: {reason}"),
        ("the file is not valid UTF-8: {reason}", "файл не в кодировке UTF-8: {reason}"),
        ("{why} at line {line}, column {column}", "{why}: строка {line}, столбец {column}"),
        ("{why} at column {column}", "{why}: столбец {column}"),
        ("a JSON facts file must be an array of objects, one per employee",
         "файл фактов JSON должен быть массивом объектов, по одному на сотрудника"),
        ("use [{{...}}, {{...}}]", "пишите [{{...}}, {{...}}]"),
        ("unknown {what} '{value}'; use {choices}",
         "неизвестное значение {what} '{value}'; используйте {choices}"),
        ("unknown facts format '{format}'; use {formats}",
         "неизвестный формат фактов '{format}'; используйте {formats}"),
        ("save workbooks as .xlsx", "сохраняйте книги в формате .xlsx"),
        ("--sheet '{sheet}' names a worksheet, but this is a {format} file, which has none",
         "--sheet '{sheet}' называет лист, но это файл {format}, в нём листов нет"),
        ("use --sheet with XLSX workbooks only", "--sheet — только для книг XLSX"),
        ("no '{column}' column, and several columns could name the employee: {listed}",
         "нет столбца '{column}', а сотрудника могут называть несколько столбцов: {listed}"),
        ("say which with --id, e.g. --id '{column}'",
         "укажите какой через --id, например --id '{column}'"),
        ("--map {column}={fact}: '{fact2}' is not a fact of this scheme; its facts: {listed}",
         "--map {column}={fact}: '{fact2}' — не факт этой схемы; её факты: {listed}"),
        ("map a column to one of them", "сопоставьте столбец одному из них"),
        ("--map {column}={fact}: there is no column '{column2}' {where}",
         "--map {column}={fact}: нет столбца '{column2}' {where}"),
        ("columns found: {listed}", "найдены столбцы: {listed}"),
        ("--header-row {n}: row {row} is blank", "--header-row {n}: строка {row} пуста"),
        ("--header-row {n}: the file has fewer rows", "--header-row {n}: в файле меньше строк"),
        ("give the number of the row with the column titles",
         "укажите номер строки с названиями столбцов"),
        ("--mapping {path}: not valid TOML: {why}", "--mapping {path}: это не TOML: {why}"),
        ("--mapping {path}: unknown key '{key}'", "--mapping {path}: неизвестный ключ '{key}'"),
        ("--mapping {path}: cannot read the file: {reason}",
         "--mapping {path}: не удаётся прочитать файл: {reason}"),
        ("keys: id, sheet, header_row and a [columns] table",
         "ключи: id, sheet, header_row и таблица [columns]"),
        ("cannot read part '{part}' of the workbook: {why}",
         "не удаётся прочитать часть '{part}' книги: {why}"),
        ("cannot read the workbook: it has no workbook part (is it an XLSX file?)",
         "не удаётся прочитать книгу: в ней нет части workbook (это точно файл XLSX?)"),
        ("cannot read the workbook: not an XLSX file ({why})",
         "не удаётся прочитать книгу: это не файл XLSX ({why})"),
        ("choose a worksheet with --sheet NAME", "выберите лист: --sheet ИМЯ"),
        ("choose one with --sheet, e.g. --sheet '{sheet}'",
         "выберите один через --sheet, например --sheet '{sheet}'"),
        ("field larger than field limit ({n})", "ячейка длиннее предела ({n})"),
        ("no sheet '{sheet}' in the workbook; sheets: {sheets}",
         "в книге нет листа '{sheet}'; листы: {sheets}"),
        ("part '{part}' declares a DOCTYPE, which a workbook never has",
         "часть '{part}' объявляет DOCTYPE, которого в книге не бывает"),
        ("part '{part}' inflates to {n} bytes; at most {limit} are read (a damaged or hostile "
         "workbook)",
         "часть '{part}' распаковывается в {n} байт, читается не больше {limit} "
         "(повреждённая или вредоносная книга)"),
        ("part '{part}' of the workbook is damaged: {why}",
         "часть '{part}' книги повреждена: {why}"),
        ("save it from Excel as 'Excel Workbook (*.xlsx)'",
         "сохраните её в Excel как «Книга Excel (*.xlsx)»"),
        ("several sheets have a header with the scheme's facts: {sheets} (the active sheet "
         "'{active}' has none)",
         "заголовок с фактами схемы есть на нескольких листах: {sheets} (на активном листе "
         "'{active}' его нет)"),
        ("sheet '{sheet}' is a chart, not a table of cells",
         "лист '{sheet}' — это диаграмма, а не таблица"),
    ),
    "KPI508": (
        ("the facts file has a header but no rows", "в файле фактов есть заголовок, но нет строк"),
        ("the facts file has no rows", "в файле фактов нет строк"),
    ),
    "KPI520": (
        ("'{text}' could be {thousands} (thousands) or {decimal} (a decimal): the file also "
         "groups thousands with '{sep}' ({grouped})",
         "'{text}' может означать {thousands} (тысячи) или {decimal} (дробь): в этом файле "
         "'{sep}' разделяет и тысячи ({grouped})"),
        ("'{text}' could be {thousands} (thousands) or {decimal} (a decimal): a count written "
         "so is either",
         "'{text}' может означать {thousands} (тысячи) или {decimal} (дробь): количество, "
         "записанное так, читается обоими способами"),
        ("say how the file writes numbers: --locale en (a comma groups thousands) or "
         "--locale ru (a comma is the decimal separator)",
         "укажите, как в файле записаны числа: --locale en (запятая разделяет тысячи) или "
         "--locale ru (запятая отделяет дробную часть)"),
    ),
    "KPI521": (
        ("'{text}' could be {points} (percentage points) or {fraction} (a fraction), and the "
         "column does not say which",
         "'{text}' может означать {points} (в процентах) или {fraction} (в долях), и столбец "
         "не говорит, что именно"),
        ("'{text}' could be {fraction} (a fraction) or {points} (percentage points): the "
         "column also holds {above}, which can only be points",
         "'{text}' может означать {fraction} (в долях) или {points} (в процентах): в столбце "
         "есть и {above}, а это может быть только процент"),
        ("write the sign ('2,1%'), or say once how the column is written: --percent points "
         "(or fraction), a '%' in the column's header, or 'fact NAME percent points' in the "
         "scheme",
         "поставьте знак ('2,1%') или один раз скажите, как записан столбец: --percent points "
         "(или fraction), '%' в заголовке столбца или 'fact ИМЯ percent points' в схеме"),
    ),
    "KPI522": (
        ("'{text}' is in {code} ({sign}), but the scheme pays in {currency}",
         "'{text}' — в {code} ({sign}), а схема платит в {currency}"),
        ("convert the amounts to {currency} before exporting, or evaluate them with a scheme "
         "in their currency",
         "переведите суммы в {currency} до выгрузки или считайте их по схеме в их валюте"),
    ),
    "KPI523": (
        ("{why} is a totals row, not an employee; skipped",
         "{why} — строка итогов, а не сотрудник; пропущена"),
        ("'{text}' in the id column", "'{text}' в столбце сотрудника"),
        ("an empty id beside the column sums so far",
         "пустой идентификатор рядом с суммами столбцов"),
        ("pass --keep-totals (keep_totals=True) to read it as an employee's row",
         "чтобы читать её как строку сотрудника, укажите --keep-totals (keep_totals=True)"),
    ),
    "KPI524": (
        ("a quoted cell in column '{column}' opens on line {line} and is never closed: it runs "
         "to the end of the file (line {last}); the {n} lines after it are read as rows of "
         "their own",
         "ячейка в кавычках в столбце '{column}' открывается в строке {line} и не "
         "закрывается до конца файла (строка {last}); следующие за ней строки ({n}) "
         "прочитаны как отдельные"),
        ("close the quote in that cell, or remove it",
         "закройте кавычку в этой ячейке или удалите её"),
    ),
    "KPI525": (
        ("key '{key}' appears twice in one object ({values})",
         "ключ '{key}' дважды встречается в одном объекте ({values})"),
        ("keys '{a}' and '{b}' both give fact '{fact}'",
         "ключи '{a}' и '{b}' оба дают факт '{fact}'"),
        ("keep one of them: JSON would keep only the last",
         "оставьте один: JSON сохранил бы только последний"),
        ("keep one spelling of each key", "пишите каждый ключ одним способом"),
    ),
    "KPI530": (
        ("fact '{fact}' of employee '{employee}' is {value} here but {known} in {file} row "
         "{row}",
         "факт '{fact}' сотрудника '{employee}' здесь равен {value}, а в {file}, строка "
         "{row}, — {known}"),
        ("a fact comes from one file; remove the column from one export, or fix the value "
         "that is wrong",
         "факт берётся из одного файла: уберите столбец из одной выгрузки или исправьте "
         "неверное значение"),
    ),
    "KPI531": (
        ("choose the sheet with --sheet NAME", "выберите лист: --sheet ИМЯ"),
        ("reading sheet '{sheet}': the active sheet '{active}' is a chart",
         "читается лист '{sheet}': активный лист '{active}' — диаграмма"),
        ("reading sheet '{sheet}': the active sheet '{active}' has no header with the "
         "scheme's facts",
         "читается лист '{sheet}': на активном листе '{active}' нет заголовка с фактами "
         "схемы"),
        ("the active sheet '{active}' has no header with the scheme's facts; read sheet "
         "'{sheet}', which has",
         "на активном листе '{active}' нет заголовка с фактами схемы; прочитан лист "
         "'{sheet}', где он есть"),
    ),
    # ---- KPI54x sources (deal, call and lead exports)
    "KPI540": (
        ("{facts} not computed: it rests on source rows that could not be read ({rows})",
         "{facts} не рассчитан: он опирается на строки источника, которые не удалось "
         "прочитать ({rows})"),
        ("{facts} not computed: they rest on source rows that could not be read ({rows})",
         "{facts} не рассчитаны: они опираются на строки источника, которые не удалось "
         "прочитать ({rows})"),
        ("fix those rows of the export and run again; nothing is paid on a partial set of "
         "deals",
         "исправьте эти строки выгрузки и рассчитайте снова: по неполному набору сделок "
         "ничего не платится"),
    ),
    "KPI541": (
        ("'{text}' could be {day} {month:month} (day/month) or {day2} {month2:month} "
         "(month/day)",
         "'{text}' может означать {day} {month:gen} (день/месяц) или {day2} {month2:gen} "
         "(месяц/день)"),
        ("export dates as 2025-07-15 or 15.07.2025",
         "выгружайте даты как 2025-07-15 или 15.07.2025"),
        ("'{text}' is not a date", "'{text}' — не дата"),
        ("expected a date like 2025-07-15 or 15.07.2025 (a time may follow)",
         "ожидается дата, например 2025-07-15 или 15.07.2025 (может следовать время)"),
        ("'{text}' is no day of the calendar", "'{text}' — такого дня в календаре нет"),
        ("check the day and the month", "проверьте день и месяц"),
    ),
    "KPI542": (
        ("--source {name}=…: the scheme has no source '{name2}'",
         "--source {name}=…: в схеме нет источника '{name2}'"),
        ("--split {name}=…: the scheme has no source '{name2}'",
         "--split {name}=…: в схеме нет источника '{name2}'"),
        ("--split {name}=…: source '{name2}' names no key column or no share column, so a "
         "split file's deals and shares cannot be read",
         "--split {name}=…: в источнике '{name2}' не указан столбец ключа или столбец долей, "
         "поэтому сделки и доли файла долей не прочитать"),
        ("say them in the source: key column {key}  share column {share} (the split "
         "file's columns)",
         "добавьте в источник: key column {key}  share column {share} (столбцы файла "
         "долей)"),
        ("its sources: {names}", "её источники: {names}"),
        ("{path}: its header fits sources {names}",
         "{path}: его заголовок подходит к источникам {names}"),
        ("say which: --source {choice}", "укажите какой: --source {choice}"),
        ("no file for source '{name}' (no file given has its columns {columns} and its "
         "fields)",
         "нет файла для источника '{name}' (ни в одном из файлов нет его столбцов {columns} "
         "и полей)"),
        ("give it with --source {name}=FILE", "укажите его: --source {name}=ФАЙЛ"),
    ),
    "KPI543": (
        ("the sources hold rows of {n} periods ({periods}); adding them up as one would pay "
         "several periods at once",
         "в источниках строки за несколько периодов ({n}: {periods}); если сложить их "
         "вместе, будет выплачено сразу за несколько периодов"),
        ("choose the period: --period {period}", "выберите период: --period {period}"),
    ),
    "KPI544": (
        ("deal '{deal}': employee '{name}' is credited twice (rows {a} and {b})",
         "сделка '{deal}': сотрудник '{name}' указан дважды (строки {a} и {b})"),
        ("deal '{deal}': the shares add up to {total} % ({listed}), not 100 %",
         "сделка '{deal}': доли в сумме дают {total} % ({listed}), а не 100 %"),
        ("deal '{deal}': its rows give different {field} ({values}); each row of a split "
         "deal repeats the deal's amount",
         "сделка '{deal}': её строки дают разные {field} ({values}); каждая строка "
         "разделённой сделки повторяет сумму сделки"),
        ("fix the share column so that each deal's shares add up to 100 %",
         "исправьте столбец долей, чтобы доли каждой сделки давали в сумме 100 %"),
    ),
    # ---- KPI6xx grades and teams
    "KPI601": (
        ("grade '{grade}' is defined twice", "грейд '{grade}' объявлен дважды"),
        ("'base' is the scheme itself; give the grade another name",
         "'base' — это сама схема; дайте грейду другое имя"),
    ),
    "KPI602": (
        ("grades are based on each other in a cycle: {cycle}",
         "грейды основаны друг на друге по кругу: {cycle}"),
        ("one of them must be based on the scheme itself",
         "один из них должен быть основан на самой схеме"),
    ),
    "KPI603": (
        ("grade '{grade}' is based on unknown grade '{parent}'",
         "грейд '{grade}' основан на неизвестном грейде '{parent}'"),
    ),
    "KPI604": (
        ("grade changes KPI '{name}', which the scheme it is based on does not have",
         "грейд меняет KPI '{name}', которого нет в схеме, на которой он основан"),
        ("grade changes payment '{name}', which the scheme it is based on does not have",
         "грейд меняет выплату '{name}', которой нет в схеме, на которой он основан"),
        ("a new payment needs '= amount', or a pool with its KPIs, shares and curves",
         "новой выплате нужно '= сумма' или фонд с KPI, долями и шкалами"),
        ("give it a formula (kpi name = ...) or declare a fact of that name",
         "задайте формулу (kpi имя = ...) или объявите факт с таким именем"),
    ),
    "KPI605": (
        ("'drop {name}' names no KPI or payment", "'drop {name}' не называет ни KPI, ни выплату"),
    ),
    "KPI606": (
        ("unknown grade '{grade}'; known grades: {known}",
         "неизвестный грейд '{grade}'; известные грейды: {known}"),
    ),
    "KPI607": (
        ("KPI '{kpi}' is one member's fact, but the scheme is paid per team",
         "KPI '{kpi}' — факт одного участника, а схема платит за команду"),
        ("aggregate it under a name of its own: kpi team_{kpi} = team total of {kpi2}",
         "сведите его по команде под своим именем: kpi team_{kpi} = team total of {kpi2}"),
        ("'{name}' in {where:place} is one member's fact, but the scheme is paid per team",
         "'{name}' в {where:prep} — факт одного участника, а схема платит за команду"),
        ("use a team aggregate: team total of {name} (or average, min, max)",
         "используйте командный итог: team total of {name} (или average, min, max)"),
    ),
    "KPI608": (
        ("budget '{name}' is inside grade '{grade}', but a budget caps a payment over people "
         "of every grade",
         "бюджет '{name}' объявлен внутри грейда '{grade}', а бюджет ограничивает выплату "
         "людям всех грейдов"),
        ("declare the budget before the grades", "объявите бюджет до грейдов"),
    ),
    "KPI609": (
        ("budget '{name}' has a negative cap ({amount}): no amount can fit it",
         "у бюджета '{name}' отрицательный потолок ({amount}): в него не уложится ни одна "
         "сумма"),
        ("a cap is the most that may be paid in all: 0 or more",
         "потолок — это наибольшая сумма выплат в целом: 0 или больше"),
    ),
    "KPI953": (
        ("the scheme's query is a chain of {steps} steps, each reading the one before (a KPI "
         "built on another, a rounding, a total); DuckDB runs at most {most}",
         "запрос схемы — цепочка из {steps} шагов, каждый из которых читает предыдущий (KPI "
         "на основе другого, округление, итог); DuckDB выполняет не больше {most}"),
        ("evaluate it with the Python engine (--engine python, or --engine auto)",
         "рассчитайте её движком Python (--engine python или --engine auto)"),
    ),
    "KPI545": (
        ("employee '{employee}' has facts under the current scheme but none under the new "
         "one: is nothing due under the new scheme, or do its sources miss the employee's "
         "rows?",
         "у сотрудника '{employee}' есть факты по действующей схеме, а по новой нет: по новой "
         "схеме ему ничего не причитается, или её источники упустили его строки?"),
        ("employee '{employee}' has facts under the new scheme but none under the current "
         "one: was nothing due under the current scheme, or do its sources miss the "
         "employee's rows?",
         "у сотрудника '{employee}' есть факты по новой схеме, а по действующей нет: по "
         "действующей схеме ему ничего не причиталось, или её источники упустили его строки?"),
        ("compare on files that both schemes read for every employee; this employee is left "
         "out of both payroll funds",
         "сравнивайте по файлам, которые обе схемы читают для каждого сотрудника; этот "
         "сотрудник не вошёл ни в один из фондов оплаты"),
    ),
    "KPI546": (
        ("the split file lists deals no export of source '{source}' has ({count}: {keys}); "
         "their shares credit nobody",
         "в файле долей есть сделки, которых нет ни в одной выгрузке источника '{source}' "
         "({count}: {keys}); их доли никому не начислены"),
        ("check each key against the export's key column: a mistyped key pays its deal whole "
         "to its own employee",
         "сверьте каждый ключ со столбцом ключа в выгрузке: сделка с опечаткой в ключе "
         "целиком достаётся её собственному сотруднику"),
    ),
    "KPI620": (
        ("versions of scheme '{scheme}' overlap: {later} starts on {start} while {earlier} "
         "is in force {period} (both {both})",
         "версии схемы '{scheme}' пересекаются: {later} начинает действовать {start}, когда "
         "{earlier} действует {period} (обе — {both})"),
        ("end {earlier} with 'to {month}', or start this version later",
         "завершите {earlier} словами 'to {month}' или начните эту версию позже"),
    ),
    "KPI621": (
        ("no version of scheme '{scheme}' is in force from {start} to {end} (between "
         "{earlier} and {later})",
         "с {start} по {end} не действует ни одна версия схемы '{scheme}' (между {earlier} "
         "и {later})"),
        ("start this version on {day} or extend the earlier one",
         "начните эту версию {day} или продлите предыдущую"),
    ),
    "KPI622": (
        ("no version of scheme '{scheme}' is in force on {day}",
         "на {day} не действует ни одна версия схемы '{scheme}'"),
        ("versions: {known}", "версии: {known}"),
        ("{file} is not in force on {day}: it is in force {period}",
         "{file} не действует на {day}: она действует {period}"),
        ("evaluate a directory of versions to pick the right one",
         "рассчитайте по каталогу версий, чтобы выбрать нужную"),
        ("a directory of versions: say which period to evaluate",
         "это каталог версий: укажите, за какой период считать"),
        ("add e.g. --period 2025-07", "добавьте, например, --period 2025-07"),
    ),
    "KPI623": (
        ("month={month} is no month; pass 1 … 12 (January is 1) or None",
         "month={month} — не месяц; передайте 1 … 12 (январь — 1) или None"),
        ("the CLI's --month also takes jan … dec",
         "--month в командной строке принимает и jan … dec"),
        ("this version ends ({end}) before it starts ({start})",
         "эта версия заканчивается ({end}) раньше, чем начинается ({start})"),
        ("'to' names the last month or day in force, after 'from'",
         "'to' называет последний месяц или день действия, после 'from'"),
        ("effective date {why:date}", "дата действия {why}"),
        ("{why:date}", "{why}"),
        ("write a month as YYYY-MM (2025-07) or a day as YYYY-MM-DD (2025-07-15)",
         "пишите месяц как ГГГГ-ММ (2025-07), а день как ГГГГ-ММ-ДД (2025-07-15)"),
        ("write the month as YYYY-MM, e.g. --period 2025-07",
         "пишите месяц как ГГГГ-ММ, например --period 2025-07"),
        ("'{text}' is not a month: write YYYY-MM", "'{text}' — не месяц: пишите ГГГГ-ММ"),
        ("'{text}' is not a date: write YYYY-MM or YYYY-MM-DD",
         "'{text}' — не дата: пишите ГГГГ-ММ или ГГГГ-ММ-ДД"),
    ),
    "KPI624": (
        ("{file} has no 'effective from' date, so it cannot be placed among the versions",
         "у {file} нет даты 'effective from', поэтому её нельзя поставить в ряд версий"),
        ("add e.g. 'effective from 2025-01' to the header",
         "добавьте в заголовок, например, 'effective from 2025-01'"),
    ),
    "KPI625": (
        ("must be positive, not {n}", "должно быть положительным, а не {n}"),
        ("must be between 1 and --total-days ({total}), not {n}",
         "должно быть от 1 до --total-days ({total}), а не {n}"),
        ("elapsed days are the working days already behind, today included",
         "прошедшие дни — это уже отработанные рабочие дни, включая сегодняшний"),
        ("{month} has no working days in the calendar", "в календаре у {month} нет рабочих дней"),
        ("no working day of {month} has passed by {day}",
         "к {day} не прошло ни одного рабочего дня {month}"),
        ("a forecast needs at least one working day of facts",
         "для прогноза нужны факты хотя бы за один рабочий день"),
    ),
    "KPI626": (
        ("cannot read the holidays file: {reason:os}",
         "не удаётся прочитать файл праздников: {reason}"),
        ("bad holiday line: {why}", "неверная строка праздников: {why}"),
        ("write one date per line, e.g. 2025-05-01 (or 2025-11-01 working)",
         "пишите по одной дате в строке, например 2025-05-01 (или 2025-11-01 working)"),
    ),
    "KPI627": (
        ("'{fact}' is computed from the exports and paid deal by deal (payment '{pay}'): a new "
         "value of it would leave the deals, and so the payment, as they are",
         "'{fact}' вычисляется по выгрузкам и платится по сделкам (выплата '{pay}'): его "
         "новое значение не изменит ни сделок, ни выплаты"),
        ("vary another fact, or evaluate an export with the deals in mind",
         "меняйте другой факт или рассчитайте выгрузку с задуманными сделками"),
        ("'{fact}' is not a fact of scheme '{scheme}' (grade {grade})",
         "'{fact}' — не факт схемы '{scheme}' (грейд {grade})"),
        ("'{fact}' is not a fact of scheme '{scheme}'", "'{fact}' — не факт схемы '{scheme}'"),
        ("the facts that can vary: {facts}", "какие факты можно менять: {facts}"),
    ),
    "KPI628": (
        ("employee '{employee}' is not in the facts ({n} rows read)",
         "сотрудника '{employee}' нет в фактах (прочитано строк: {n})"),
    ),
    "KPI629": (
        ("no *.kpi files in this directory", "в этом каталоге нет файлов *.kpi"),
        ("a versions directory has one .kpi file per version",
         "в каталоге версий по одному файлу .kpi на версию"),
        ("versions of several schemes in one directory: {names}",
         "в одном каталоге версии нескольких схем: {names}"),
        ("keep one scheme's versions per directory",
         "храните версии одной схемы в отдельном каталоге"),
    ),
    # the ledger (kpidsl/ledger/, kpidsl/checks/memory.py)
    "KPI660": (
        ("'paid monthly' in a scheme whose period is a month: every period is paid already",
         "'paid monthly' в схеме с периодом месяц: каждый период и так выплачивается"),
        ("write 'period year' and 'paid monthly' for an annual plan paid each month",
         "для годового плана с ежемесячной выплатой напишите 'period year' и 'paid monthly'"),
        ("'carry negative balance' is about a year-to-date month below the one before; the "
         "scheme is not paid year to date",
         "'carry negative balance' говорит о месяце, где итог с начала года ниже прежнего; "
         "схема не выплачивается нарастающим итогом"),
        ("add 'period year' and 'paid monthly', or remove the clause",
         "добавьте 'period year' и 'paid monthly' или уберите это предложение"),
        ("a draw of so much a {period} in a scheme paid per {paid}",
         "гарантированная выплата за {period} в схеме, которая платит за {paid}"),
        ("write: draw ... a {paid}", "напишите: draw ... a {paid}"),
        ("the draw must be a positive constant amount",
         "гарантированная выплата должна быть положительной постоянной суммой"),
        ("the most recovered a period must be a positive constant amount",
         "предел удержания за период должен быть положительной постоянной суммой"),
        ("e.g. draw 5_000 RUB a month", "например: draw 5_000 RUB a month"),
        ("the draw is in {currency}, the scheme pays in {ours}",
         "гарантированная выплата в {currency}, а схема платит в {ours}"),
        ("the most recovered a period is in {currency}, the scheme pays in {ours}",
         "предел удержания в {currency}, а схема платит в {ours}"),
        ("a clawback window of no days takes nothing back",
         "срок сторно в ноль дней ничего не удерживает"),
        ("within 90 days", "например: within 90 days"),
        ("scheme '{name}' is paid per {period}; a ledger closes months",
         "схема '{name}' платит за {period}; реестр закрывает месяцы"),
        ("close a scheme with 'period month', or 'period year' and 'paid monthly'",
         "закрывайте схему с 'period month' или с 'period year' и 'paid monthly'"),
    ),
    "KPI661": (
        ("no such ledger", "такого реестра нет"),
        ("a ledger is created by its first `kpidsl close ... --ledger FILE`",
         "реестр создаётся первым `kpidsl close ... --ledger ФАЙЛ`"),
        ("is a directory, not a ledger file", "это каталог, а не файл реестра"),
        ("is an SQLite database but not a kpidsl ledger",
         "это база данных, но не реестр kpidsl"),
        ("give another file name; a new ledger is created by close",
         "укажите другое имя файла; новый реестр создаёт `kpidsl close`"),
        ("is a ledger of format {found}; this kpidsl reads format {ours}",
         "это реестр формата {found}; эта версия kpidsl читает формат {ours}"),
        ("use the kpidsl version that wrote it", "используйте версию kpidsl, которая его записала"),
        ("is not a kpidsl ledger (not an SQLite database)",
         "это не реестр kpidsl (не база данных)"),
        ("cannot be written ({why})", "запись невозможна ({why})"),
        ("is the ledger of scheme '{theirs}', not '{ours}'",
         "это реестр схемы '{theirs}', а не '{ours}'"),
        ("each scheme keeps its own ledger file", "у каждой схемы свой файл реестра"),
    ),
    "KPI662": (
        ("another process is writing this ledger (a close in progress); nothing was written",
         "реестр записывает другой процесс (идёт закрытие периода); ничего не записано"),
        ("run the command again when the other close has finished",
         "повторите команду, когда другое закрытие завершится"),
    ),
    "KPI663": (
        ("not UTF-8 text (byte {byte})", "это не текст в кодировке UTF-8 (байт {byte})"),
        ("save the file as UTF-8 CSV", "сохраните файл как CSV в UTF-8"),
        ("no column {missing} in the header ({header})",
         "в заголовке нет столбца {missing} ({header})"),
        ("the columns are: {columns}", "столбцы: {columns}"),
        ("column '{column}': '{text}' is not a number", "столбец '{column}': '{text}' — не число"),
        ("write amounts as 100.00 (or 100,00 in a file separated by ';')",
         "пишите суммы как 100.00 (или 100,00 в файле с разделителем ';')"),
        ("column '{column}': '{text}' is not a date", "столбец '{column}': '{text}' — не дата"),
        ("write dates as YYYY-MM-DD", "пишите даты как ГГГГ-ММ-ДД"),
        ("a deal line needs an employee and a deal key",
         "в строке сделки нужны сотрудник и ключ сделки"),
        ("deal '{deal}' of '{employee}' already appears at {where}",
         "сделка '{deal}' сотрудника '{employee}' уже есть в {where}"),
        ("each deal is paid once a period; merge the rows",
         "каждая сделка выплачивается за период один раз; объедините строки"),
        ("a reversal needs the deal's key", "в строке отмены нужен ключ сделки"),
        ("the deals file pays {who}, who is not in the facts",
         "файл сделок платит {who}, но этого сотрудника нет в фактах"),
        ("the deals file pays {who}, who are not in the facts",
         "файл сделок платит {who}, но этих сотрудников нет в фактах"),
        ("every employee paid per deal needs a facts row",
         "каждому сотруднику с выплатой по сделкам нужна строка фактов"),
    ),
    "KPI664": (
        ("reversals were given but scheme '{name}' says nothing about clawbacks",
         "даны отмены сделок, но схема '{name}' ничего не говорит о сторно"),
        ("add e.g. 'clawback at original rate within 90 days' to the scheme's header",
         "добавьте в заголовок схемы, например, 'clawback at original rate within 90 days'"),
        ("a reversal takes back a deal of {who}, who is not in the facts",
         "отмена удерживает сделку {who}, но этого сотрудника нет в фактах"),
        ("a reversal takes back a deal of {who}, who are not in the facts",
         "отмена удерживает сделки {who}, но этих сотрудников нет в фактах"),
        ("a clawback is taken in the period of the reversal from the employee's statement: "
         "give that employee's facts row",
         "сторно удерживается в периоде отмены из расчётного листа сотрудника: дайте его "
         "строку фактов"),
        ("deal '{deal}' was reversed on {date}, not in {period}",
         "сделка '{deal}' отменена {date}, не в периоде {period}"),
        ("a clawback is taken in the period of the reversal: close it with that period",
         "сторно удерживается в периоде отмены: закрывайте её с этим периодом"),
        ("deal '{deal}' is in no closed period of the ledger",
         "сделки '{deal}' нет ни в одном закрытом периоде реестра"),
        ("a deal is taken back only after it was paid; check the key",
         "сделка удерживается только после выплаты; проверьте ключ"),
        ("deal '{deal}' is paid in {paid}, not before {period}",
         "сделка '{deal}' выплачена в {paid}, не раньше {period}"),
        ("a deal paid and reversed in the same period is left out of that period's deals file",
         "сделку, выплаченную и отменённую в одном периоде, не включают в файл сделок"),
        ("deal '{deal}' was paid in {paid}, not in {period} as the file says",
         "сделка '{deal}' выплачена в {paid}, а не в {period}, как сказано в файле"),
        ("deal '{deal}' is reversed twice", "сделка '{deal}' отменена дважды"),
        ("deal '{deal}' of '{employee}' was reversed already, in {period}",
         "сделка '{deal}' сотрудника '{employee}' уже отменена, в {period}"),
        ("a deal is taken back once", "сделка удерживается один раз"),
    ),
    "KPI666": (
        ("deal '{deal}' (credit {credit}) is paid to '{employee}' again: it was paid in "
         "{periods} ({paid}); read as the same deal exported again it is paid twice; read as "
         "a new payment on the deal it pays {amount} more",
         "сделка '{deal}' (зачёт {credit}) снова выплачивается сотруднику '{employee}': она "
         "выплачена в {periods} ({paid}); если это та же сделка, выгруженная ещё раз, она "
         "оплачивается дважды; если это новый платёж по сделке, он добавляет {amount}"),
        ("leave the row out of the export if the deal was paid already; a deal paid again on "
         "purpose needs a key of each payment (the invoice's number as the source's key "
         "column)",
         "уберите строку из выгрузки, если сделка уже выплачена; сделке, которую платят ещё "
         "раз намеренно, нужен ключ каждого платежа (номер счёта как key column источника)"),
        ("leave the line out of --deals if the deal was paid already; a deal paid again on "
         "purpose needs its own key",
         "уберите строку из --deals, если сделка уже выплачена; сделке, которую платят ещё "
         "раз намеренно, нужен свой ключ"),
    ),
    "KPI665": (
        ("a reopening needs a reason", "для переоткрытия нужна причина"),
        ('--reopen --reason "late refund of deal D-17"',
         '--reopen --reason "поздний возврат по сделке D-17"'),
    ),
    # ---- KPI64x sources in the scheme
    "KPI640": (
        ("source '{name}' does not say which column holds the employee",
         "в источнике '{name}' не указано, в каком столбце сотрудник"),
        ("source '{name}' does not say which column holds the date",
         "в источнике '{name}' не указано, в каком столбце дата"),
        ("write: {what} column \"…\" (the export's title)",
         "напишите: {what} column \"…\" (название столбца в выгрузке)"),
        ("field '{field}' of source '{name}' is declared twice",
         "поле '{field}' источника '{name}' объявляется дважды"),
        ("the first is on line {line}", "первое — в строке {line}"),
        ("fields '{a}' and '{b}' of source '{name}' read the same column {column}",
         "поля '{a}' и '{b}' источника '{name}' читают один столбец {column}"),
        ("give each field its own column", "дайте каждому полю свой столбец"),
    ),
    "KPI641": (
        ("unknown source '{name}'", "неизвестный источник '{name}'"),
        ("sources: {names}", "источники: {names}"),
    ),
    "KPI642": (
        ("source '{name}' has no field '{field}'", "у источника '{name}' нет поля '{field}'"),
        ("fields: {names}", "поля: {names}"),
    ),
    "KPI643": (
        ("'count of {what}': count counts rows", "'count of {what}': count считает строки"),
        ("write count of {source} (rows), or count distinct of {what} (different values)",
         "напишите count of {source} (строки) или count distinct of {what} (разные "
         "значения)"),
        ("'{kind} of {source}' needs a field: {kind2} of {source2}.FIELD",
         "'{kind} of {source}' нужно поле: {kind2} of {source2}.ПОЛЕ"),
        ("'{what}': field '{field}' is {kind}, not a number",
         "'{what}': поле '{field}' — {kind}, а не число"),
        ("only count and count distinct work on text and date fields",
         "с текстовыми полями и датами работают только count и count distinct"),
        ("fact '{fact}' is {unit:unit}, but it is the {kind} of a {field} field",
         "факт '{fact}' — {unit}, а это {kind} поля типа {field}"),
        ("fact '{fact}' is {unit:unit}, but it is {what}",
         "факт '{fact}' — {unit}, а это {what}"),
        ("declare it: fact {fact} {unit} = …", "объявите так: fact {fact} {unit} = …"),
    ),
    "KPI644": (
        ("field '{field}' is text: compare it with text in quotes",
         "поле '{field}' текстовое: сравнивайте его с текстом в кавычках"),
        ("text field '{field}' cannot be {op} a value",
         "текстовое поле '{field}' нельзя сравнивать через {op}"),
        ("text is compared with is, is not, is one of",
         "текст сравнивается через is, is not, is one of"),
        ("field '{field}' is a date: compare it with a date such as 2025-07-01",
         "поле '{field}' — дата: сравнивайте его с датой, например 2025-07-01"),
        ("field '{field}' is {kind}: compare it with a number, not text",
         "поле '{field}' — {kind}: сравнивайте его с числом, а не с текстом"),
        ("field '{field}' is {kind}, not money", "поле '{field}' — {kind}, а не деньги"),
        ("write the number without a currency", "пишите число без валюты"),
        ("e.g. {example}", "например, {example}"),
        ("{example}", "{example}"),
    ),
    "KPI645": (
        ("'in order of … key', but source '{name}' has no key column",
         "'in order of … key', но у источника '{name}' нет столбца ключа"),
        ("write: key column \"ID\"", "напишите: key column \"ID\""),
        ("payment '{pay}' splits each {noun} across tiers, but curve '{curve}' is {kind}",
         "выплата '{pay}' делит каждую сделку ({noun}) по ступеням, но шкала '{curve}' — "
         "{kind}"),
        ("a per-deal payment uses a curve of 'tiers marginal'",
         "выплата по сделкам использует шкалу 'tiers marginal'"),
        ("the running {running} of '{kpi}' must add up the {noun}s paid: '{kpi2}' must be a "
         "fact = total of {source}.FIELD",
         "нарастающий {running} по '{kpi}' должен складывать оплаченные {noun}: '{kpi2}' "
         "должен быть фактом = total of {source}.ПОЛЕ"),
        ("fact {kpi} money = total of {source}.amount where …",
         "fact {kpi} money = total of {source}.amount where …"),
        ("'running attainment of {kpi}': KPI '{kpi2}' has no plan",
         "'running attainment of {kpi}': у KPI '{kpi2}' нет плана"),
        ("give it a plan (kpi {kpi} plan …), or pay on the running total of {kpi2}",
         "задайте план (kpi {kpi} plan …) или платите по нарастающему итогу {kpi2}"),
        ("curve '{curve}' has bounds in {units}, but the running {running} is {unit}",
         "у шкалы '{curve}' границы в {units}, а нарастающий {running} — {unit}"),
        ("on the running attainment write the bounds in % of the plan; on the running "
         "total, in money",
         "для нарастающего выполнения пишите границы в % от плана, для нарастающего итога — "
         "в деньгах"),
    ),
    # ---- KPI7xx method
    "KPI701": (
        ("grade '{grade}' sets {what:noun} '{name}' to what it already is",
         "грейд '{grade}' задаёт для {what:gen} '{name}' то же, что уже есть"),
        ("remove the statement, it changes nothing", "уберите объявление: оно ничего не меняет"),
        ("grade '{grade}' sets the {field:field} to what it already is ({text})",
         "грейд '{grade}' задаёт {field} то же значение, что уже есть ({text})"),
        ("leave it out: the grade inherits it", "уберите это: грейд и так его наследует"),
    ),
    "KPI702": (
        ("'{pay}' pays on {n} KPIs; the method advises at most {limit}",
         "'{pay}' платит по {n} KPI; методика советует не больше {limit}"),
        ("more KPIs dilute focus; merge or drop the weakest",
         "чем больше KPI, тем слабее фокус: объедините или уберите самые слабые"),
    ),
    "KPI703": (
        ("fact '{fact}' is never used", "факт '{fact}' нигде не используется"),
        ("remove it or use it in a KPI", "удалите его или используйте в KPI"),
    ),
    "KPI704": (
        ("{who:who} is paid on {n} KPIs; the method advises at most {limit}",
         "{who} получает выплату по {n} KPI; методика советует не больше {limit}"),
    ),
    "KPI705": (
        ("'{pay}' pays on no result KPI (revenue, margin, new clients...)",
         "'{pay}' не платит ни по одному KPI результата (выручка, маржа, новые клиенты...)"),
        ("results should weigh more than activity",
         "вес результата должен быть больше веса активности"),
    ),
    "KPI706": (
        ("the team part is {share}% of the bonus; the method advises 10–20%",
         "командная часть — {share}% премии; методика советует 10–20%"),
        ("keep 80–90 % of the bonus individual",
         "оставьте 80–90 % премии за личный результат"),
    ),
    "KPI707": (
        ("KPI '{kpi}' counts activity; an info-business scheme pays for conversions and "
         "results, not for calls, messages or meetings",
         "KPI '{kpi}' считает активность, а схема инфобизнеса платит за конверсии и "
         "результат, а не за звонки, сообщения или встречи"),
        ("pay on lead-to-paid conversion, repeat purchases or satisfaction instead",
         "платите вместо этого за конверсию лида в оплату, повторные покупки или "
         "удовлетворённость"),
    ),
    # ---- KPI8xx examples
    "KPI801": (
        ("'{name}' is not a fact", "'{name}' — не факт"),
    ),
    "KPI802": (
        ("example '{example}' does not give required fact '{fact}'",
         "в примере '{example}' не задан обязательный факт '{fact}'"),
        ("add {fact} = ... after 'given'", "добавьте {fact} = ... после 'given'"),
    ),
    "KPI803": (
        ("'{name}' is neither a payment nor a KPI", "'{name}' — не выплата и не KPI"),
        ("'{name}' is not a KPI", "'{name}' — не KPI"),
        ("'{name}' is not a payment", "'{name}' — не выплата"),
        ("'{name}' has no line for '{kpi}'", "у '{name}' нет строки для '{kpi}'"),
    ),
    "KPI804": (
        ("example '{example}' names unknown grade '{grade}'",
         "пример '{example}' называет неизвестный грейд '{grade}'"),
    ),
    # ---- KPI9xx run time
    "KPI901": (
        ("{what:runtime} while computing employee '{employee}'",
         "{what} при расчёте сотрудника '{employee}'"),
        ("say what the division gives when the plan or denominator is zero",
         "укажите, что даёт деление, когда план или знаменатель равен нулю (otherwise)"),
    ),
    "KPI902": (
        ("budget {name}: the amounts need more than {n} significant digits (the decimal "
         "context)",
         "бюджет {name}: суммам нужно больше {n} значащих цифр (десятичный контекст)"),
        ("{what:runtime} while computing employee '{employee}'",
         "{what} при расчёте сотрудника '{employee}'"),
    ),
    "KPI903": (
        ("{what:runtime} while computing employee '{employee}'",
         "{what} при расчёте сотрудника '{employee}'"),
    ),
    "KPI904": (
        ("{error}: {text} while computing employee '{employee}'",
         "сбой {error} ({text}) при расчёте сотрудника '{employee}'"),
        ("{error} while computing employee '{employee}'",
         "сбой {error} при расчёте сотрудника '{employee}'"),
    ),
    "KPI905": (
        ("employee '{employee}' is not paid: {needs:needs} {team:team}, whose {lost:members} "
         "failed",
         "сотруднику '{employee}' ничего не начислено: {needs} {team:gen}, а "
         "{lost} не рассчитан(ы)"),
        ("employee '{employee}' is not paid: {needs:needs} among everyone evaluated, and "
         "{lost:who failed} failed",
         "сотруднику '{employee}' ничего не начислено: {needs} между всеми рассчитанными, а "
         "{lost} не рассчитан(ы)"),
        ("{team:team} is not paid (row of '{employee}'): the scheme is paid per team, and its "
         "{lost:members} failed",
         "{team:dat} ничего не начислено (строка '{employee}'): схема платит за команду, а "
         "{lost} не рассчитан(ы)"),
        ("fix the failed row and evaluate again: a team result needs every member's row",
         "исправьте строку с ошибкой и рассчитайте снова: командному результату нужны строки "
         "всех участников"),
    ),
    # ---- KPI95x SQL
    "KPI950": (
        ("{what}: this expression could need more than 38 digits in SQL",
         "{what}: этому выражению в SQL может понадобиться больше 38 цифр"),
        ("the SQL engines compute with 38-digit integers; simplify the expression or evaluate "
         "with the Python engine (--engine python)",
         "движки SQL считают 38-значными целыми: упростите выражение или считайте движком "
         "Python (--engine python)"),
    ),
    "KPI951": (
        ("unknown SQL dialect '{name}'", "неизвестный диалект SQL '{name}'"),
        ("choose one of {names}", "выберите один из: {names}"),
    ),
    "KPI952": (
        ("fact '{fact}' has a different 'if missing' in grade '{grade}' than in grade "
         "'{other}', and a team aggregate reads it over every grade: not compiled to SQL",
         "у факта '{fact}' в грейде '{grade}' другое 'if missing', чем в грейде '{other}', а "
         "командный агрегат читает его по всем грейдам: в SQL не переводится"),
        ("evaluate it with the Python engine (--engine python)",
         "считайте движком Python (--engine python)"),
    ),
}
