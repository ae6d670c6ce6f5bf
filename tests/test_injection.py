"""Injection: nothing a scheme says reaches generated code except through repr() or a mangled
identifier, the code runs with only the builtins it needs, and it can neither import, open
files, nor reach attributes of its own choosing."""

from __future__ import annotations

import ast as pyast
import io
import re
import tokenize
from decimal import Decimal
from pathlib import Path

import pytest
from fuzz.oracle import foreign_names
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import kpidsl
from kpidsl import runtime
from kpidsl.loader import SAFE_BUILTINS
from kpidsl.parser import RESERVED_WORDS

ROOT = Path(__file__).resolve().parent.parent

# ---------------------------------------------------------------- a scheme with every kind of
# user text: the scheme, fact, constant, curve, KPI, payment, example and grade names, labels

TEMPLATE = """\
scheme {n0} {l0}
  currency RUB
fact {n1} money {l1}
fact {n2} count {l2} if missing 0
constant {n3} {l3} = 2%
curve {n4} {l4}
  below 80% pays 0
  from 80% through 100% pays attainment
  above 100% pays attainment × 1.2
  cap 200%
kpi {n1} {l5} plan 1_000 RUB
kpi {n5} {l6} = {n2} / {n2} otherwise 0 plan 1
pay {n6} {l7} = {n1} × {n3}
pay {n7} {l8} pool 1_000 RUB
  for {n1} weight 60% curve {n4}
  for {n5} weight 40% curve {n4} cap 100% unless attainment of {n1} >= 120%
example {n8} {l9}
  given {n1} = 1_100 RUB, {n2} = 3
  expect {n6} = 22 RUB, {n7} for {n1} = 792 RUB, total = 1_214 RUB
grade {n9} {l0}
  kpi {n1} plan 2_000 RUB
"""
PLAIN = [f"name{i}" for i in range(10)]

HOSTILE_NAMES = (
    "__import__", "__class__", "__builtins__", "__globals__", "__subclasses__", "_", "__",
    "eval", "exec", "open", "compile", "getattr", "globals", "rt", "Decimal", "decimal",
    "facts", "month", "x", "value", "band", "D0", "k0", "c1", "v0_curve0", "evaluate_0",
    "SCHEME", "CURRENCY", "EVALUATORS", "None", "True", "False", "lambda", "import", "class",
    "yield", "await", "print", "os", "sys", "subprocess", "выручка", "ＡＢＣ", "ǅ", "µ", "名前",
    "Ⅻ", "ﬁ", "ℌ", "ｅｖａｌ",
)
BIDI = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f"
HOSTILE_TEXT = (
    '"', "\\", "\\n", "'", "'''", '"""', "\n", "\r", "\t", "\x00", "\x1b[2J", "\u2028",
    "\u2029", "\ufeff", BIDI, "__import__('os').system('echo pwned')", "'); import os #",
    "\"); open('/etc/passwd') #", "{__import__}", "%(x)s", "{0!r}", "# comment", "\\x00",
    "\\u202e", "😀", "выручка",
)

name_strategy = st.one_of(
    st.sampled_from(HOSTILE_NAMES),
    st.from_regex(r"[^\W\d]\w{0,8}", fullmatch=True),
).filter(lambda n: n not in RESERVED_WORDS)
names_strategy = st.lists(name_strategy, min_size=10, max_size=10, unique=True)
text_strategy = st.one_of(
    st.lists(st.sampled_from(HOSTILE_TEXT), max_size=5).map("".join),
    st.text(max_size=15),
)


def quote(text: str) -> str:
    """A label as a scheme author writes it: quotes and backslashes escaped, no raw newline."""
    text = text.replace("\x00", "").replace("\n", " ")
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def scheme(names: list[str], labels: list[str]) -> str:
    values = {f"n{i}": n for i, n in enumerate(names)}
    values.update({f"l{i}": quote(t) for i, t in enumerate(labels)})
    return TEMPLATE.format(**values)


def code_shape(source: str) -> list[tuple[int, str]]:
    """The generated code's tokens with every string literal and comment blanked out."""
    out = []
    for tok in tokenize.generate_tokens(io.StringIO(source).readline):
        if tok.type == tokenize.STRING:
            out.append((tok.type, "<string>"))
        elif tok.type != tokenize.COMMENT:
            out.append((tok.type, tok.string))
    return out


PLAIN_SCHEME = scheme(PLAIN, ["label"] * 10)


def test_the_plain_scheme_pays_what_its_example_says() -> None:
    ruleset = kpidsl.loads(PLAIN_SCHEME)
    result = ruleset.evaluate({"name1": "1100", "name2": 3})
    assert result.components == {"name6": Decimal("22.00"), "name7": Decimal("1192.00")}
    assert result.total == Decimal("1214.00")


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(names=names_strategy, labels=st.lists(text_strategy, min_size=10, max_size=10))
def test_user_text_reaches_code_only_as_string_literals(names: list[str],
                                                        labels: list[str]) -> None:
    """Hostile names and labels change only string literals and comments: the code's tokens,
    with those blanked, are the same as for a scheme named name0 ... name9."""
    text = scheme(names, labels)
    ruleset = kpidsl.loads(text)
    source = ruleset.python_source
    assert foreign_names(source) == []
    assert code_shape(source) == code_shape(kpidsl.loads(PLAIN_SCHEME).python_source)
    # And it computes the same thing: names and labels are data, never code.
    result = ruleset.evaluate({names[1]: "1100", names[2]: 3}, employee=labels[0])
    assert result.total == Decimal("1214.00")
    assert result.employee == labels[0]
    label = labels[5].replace("\x00", "").replace("\n", " ")
    assert result.kpis[names[1]].label == (label or names[1])  # no label: the name stands


def test_no_user_name_is_a_name_in_the_generated_code() -> None:
    names = ["__import__", "__class__", "eval", "open", "os", "getattr", "exec", "globals",
             "compile", "subprocess"]
    source = kpidsl.loads(scheme(names, ["x"] * 10)).python_source
    tokens = {t.string for t in tokenize.generate_tokens(io.StringIO(source).readline)
              if t.type == tokenize.NAME}
    assert tokens.isdisjoint(names)
    assert "__" not in "".join(
        t.string for t in tokenize.generate_tokens(io.StringIO(source).readline)
        if t.type not in (tokenize.STRING, tokenize.COMMENT))


def test_names_in_comments_are_plain_ascii_only() -> None:
    labels = ["\u202e" + "evil\nimport os", *["x"] * 9]
    names = ["ǅ", "выручка", *PLAIN[2:]]
    source = kpidsl.loads(scheme(names, labels)).python_source
    comments = [t.string for t in tokenize.generate_tokens(io.StringIO(source).readline)
                if t.type == tokenize.COMMENT]
    assert all(c.isascii() and c.isprintable() for c in comments)
    assert "# Evaluator for scheme (non-ASCII name) (generated from <string>)." not in source
    assert any("(non-ASCII name)" in c for c in comments)
    assert "'выручка'" in source  # the fact's name, as a repr'd key into the facts


def test_a_file_name_cannot_end_the_header_comment() -> None:
    for name in ("evil.kpi\nimport os", "evil.kpi\n", "x\r\nprint(1)", "ok\u2028os"):
        source = kpidsl.loads(PLAIN_SCHEME, name).python_source
        assert foreign_names(source) == []
        assert source.splitlines()[0] == \
            "# Evaluator for scheme name0 (generated from (non-ASCII name))."


# ---------------------------------------------------------------- numbers


@pytest.mark.parametrize("digits", ["1" * 20, "9" * 19 + ".5", "0." + "0" * 19 + "1"])
def test_long_numbers_reach_code_only_inside_decimal_strings(digits: str) -> None:
    text = PLAIN_SCHEME.replace("pay name7 \"label\" pool 1_000 RUB",
                                f"pay name7 \"label\" pool {digits} RUB")
    source = kpidsl.loads(text).python_source
    assert foreign_names(source) == []
    literal = str(Decimal(digits))
    assert f"Decimal({literal!r})" in source


@pytest.mark.parametrize(("literal", "message"), [
    ("1" * 29, "the number " + "1" * 29 + " is about 10^28; numbers must stay below 10^20"),
    ("1" * 19 + ".1234567890", "the number 1111111111111111111.1234567890 has 29 significant "
     "digits; at most 28 are allowed"),
    ("0." + "0" * 20 + "1", "the number 0." + "0" * 20 + "1 has 21 decimal places; at most 20 "
     "are allowed"),
])
def test_a_literal_beyond_the_number_bounds_is_refused(literal: str, message: str) -> None:
    text = PLAIN_SCHEME.replace("pay name7 \"label\" pool 1_000 RUB",
                                f"pay name7 \"label\" pool {literal} RUB")
    [d] = [d for d in kpidsl.check(text) if d.is_error]
    assert (d.code, d.message) == ("KPI005", message)


def test_a_ten_thousand_digit_number_is_refused() -> None:
    text = PLAIN_SCHEME.replace("= 2%", "= " + "1" * 10_000 + "%")
    [d] = [d for d in kpidsl.check(text) if d.is_error]
    assert (d.code, d.message, d.line) == ("KPI005", "a number with more than 60 digits", 5)


# ---------------------------------------------------------------- the generated module's shape

ALLOWED_NODES = (
    pyast.Module, pyast.ImportFrom, pyast.alias, pyast.Assign, pyast.FunctionDef,
    pyast.arguments, pyast.arg, pyast.If, pyast.Return, pyast.Tuple, pyast.Compare,
    pyast.BinOp, pyast.UnaryOp, pyast.BoolOp, pyast.IfExp, pyast.NamedExpr, pyast.Call,
    pyast.Attribute, pyast.Subscript, pyast.Dict, pyast.Constant, pyast.Name, pyast.Load,
    pyast.Store, pyast.operator, pyast.unaryop, pyast.boolop, pyast.cmpop, pyast.expr_context,
    pyast.Try, pyast.Expr,
)
ATTRIBUTES = frozenset({"quantize", "get", *runtime.exported})


@pytest.mark.parametrize("path", sorted((ROOT / "rulesets").rglob("*.kpi")),
                         ids=lambda p: p.stem)
def test_generated_modules_use_no_loops_classes_or_foreign_attributes(path: Path) -> None:
    source = kpidsl.load(path).python_source
    assert foreign_names(source) == []
    for node in pyast.walk(pyast.parse(source)):
        assert isinstance(node, ALLOWED_NODES), pyast.dump(node)[:80]
        if isinstance(node, pyast.ImportFrom):
            assert (node.module, [a.name for a in node.names]) in (
                ("decimal", ["Decimal"]), ("kpidsl", ["runtime"]))
        if isinstance(node, pyast.Attribute):
            assert node.attr in ATTRIBUTES, node.attr
        if isinstance(node, pyast.Name):
            assert not node.id.startswith("__"), node.id


def test_the_compiled_namespace_has_only_the_builtins_it_needs() -> None:
    ruleset = kpidsl.loads(PLAIN_SCHEME)
    namespace = ruleset.compiled.namespace
    assert sorted(namespace["__builtins__"]) == ["__import__", "abs", "max", "min"]
    code = compile(ruleset.python_source, "<test>", "exec")
    used: set[str] = set()
    stack = [code]
    while stack:
        current = stack.pop()
        used |= set(current.co_names)
        stack += [c for c in current.co_consts if hasattr(c, "co_names")]
    builtins_used = {n for n in used if n not in namespace and n not in ATTRIBUTES}
    assert builtins_used <= {"min", "max", "abs", "Decimal", "runtime", "kpidsl", "decimal"}


# ---------------------------------------------------------------- the closed namespace


def closed_namespace() -> dict[str, object]:
    """The namespace the loader executes generated code in."""
    return {"__builtins__": dict(SAFE_BUILTINS), "__name__": "kpidsl_scheme"}


@pytest.mark.parametrize("snippet, error", [
    ("open('/etc/passwd')", NameError),
    ("__import__('os')", ImportError),
    ("__import__('os.path')", ImportError),
    ("__import__('kpidsl.api')", ImportError),
    ("__import__('kpidsl', fromlist=['api'])", ImportError),
    ("__import__('decimal', level=1)", ImportError),
    ("import os", ImportError),
    ("import subprocess", ImportError),
    ("from kpidsl import api", ImportError),
    ("from kpidsl import loader", ImportError),
    ("from . import runtime", ImportError),
    ("eval('1')", NameError),
    ("exec('x = 1')", NameError),
    ("compile('1', '', 'eval')", NameError),
    ("getattr((), '__class__')", NameError),
    ("type(())", NameError),
    ("vars()", NameError),
    ("globals()", NameError),
    ("dir()", NameError),
    ("print('x')", NameError),
    ("input()", NameError),
    ("breakpoint()", NameError),
    ("class C: pass", NameError),  # no __build_class__
    ("object.__subclasses__()", NameError),
])
def test_the_closed_namespace_cannot_import_open_or_introspect(snippet: str,
                                                               error: type) -> None:
    with pytest.raises(error):
        exec(snippet, closed_namespace())


def test_the_closed_namespace_imports_what_generated_code_imports() -> None:
    namespace = closed_namespace()
    exec("from decimal import Decimal\nfrom kpidsl import runtime as rt\n"
         "value = rt.round_to(Decimal('2.345'), Decimal('0.01'), 'half up')", namespace)
    assert namespace["value"] == Decimal("2.35")
    assert not hasattr(namespace["rt"], "__path__")


def test_the_runtime_stand_in_exposes_only_the_runtime() -> None:
    namespace = closed_namespace()
    exec("from kpidsl import runtime", namespace)
    assert namespace["runtime"] is runtime
    exec("import kpidsl.runtime", namespace)  # binds 'kpidsl' to what the import gave
    assert namespace["kpidsl"] is runtime


# ---------------------------------------------------------------- hostile facts at run time


@pytest.mark.parametrize("value, message", [
    ("__import__('os').system('id')", "is not a number"),
    ("1; import os", "is not a number"),
    ("NaN", "is not a finite number"),
    ("Infinity", "is not a finite number"),
    ("=1+1", "formula"),
    ("1e5", "scientific notation"),
])
def test_hostile_fact_text_is_a_plain_error(value: str, message: str) -> None:
    ruleset = kpidsl.loads(PLAIN_SCHEME)
    with pytest.raises(kpidsl.KpiError) as caught:
        ruleset.evaluate({"name1": value, "name2": 1}, employee="e1")
    [d] = caught.value.diagnostics
    assert d.code == "KPI501"
    assert message in d.message
    assert re.search(r"Error|Traceback|<class", d.message) is None


def test_extra_fact_keys_never_reach_the_evaluator() -> None:
    ruleset = kpidsl.loads(PLAIN_SCHEME)
    result = ruleset.evaluate({"name1": "1100", "name2": 3, "__builtins__": "x",
                               "__import__": "os", "facts": "1"})
    assert result.total == Decimal("1214.00")
    assert set(result.facts) == {"name1", "name2"}


def test_crm_text_never_becomes_a_spreadsheet_formula(tmp_path: Path) -> None:
    """An id or name like '=1+2' or '=HYPERLINK(...)' is written to XLSX as text, not as a
    formula that Excel would run when the file is opened."""
    import openpyxl
    from click.testing import CliRunner

    from kpidsl.cli import main

    facts = tmp_path / "facts.csv"
    facts.write_text('employee,name,revenue,avg_check,conversion,calls\n'
                     '=1+2,"=HYPERLINK(""http://x"",""y"")",3300000,142500,2.1%,950\n',
                     encoding="utf-8")
    out = tmp_path / "out.xlsx"
    done = CliRunner().invoke(main, ["eval", str(ROOT / "rulesets" / "b2b_manager.kpi"),
                                     str(facts), "--format", "xlsx", "-o", str(out)])
    assert done.exit_code == 0, done.stderr
    sheet = openpyxl.load_workbook(out).active
    first = [(c.value, c.data_type) for c in next(sheet.iter_rows(min_row=2, max_row=2))][:2]
    assert first == [("=1+2", "s"), ('=HYPERLINK("http://x","y")', "s")]


@pytest.mark.parametrize("command", [["doc", "--format", "html", "--lang", "en"],
                                     ["statement", "-e", "ivanov", "--format", "html"]])
def test_labels_are_escaped_in_html_documents(command: list[str], tmp_path: Path) -> None:
    """A label is text in an HTML document: no tag, no template expression survives."""
    from click.testing import CliRunner

    from kpidsl.cli import main

    source = (ROOT / "rulesets" / "b2b_manager.kpi").read_text(encoding="utf-8")
    hostile = source.replace('"B2B sales manager"', '"<script>alert(1)</script> {{ 7*7 }}"') \
        .replace('kpi revenue     "Revenue"', 'kpi revenue     "<img src=x onerror=alert(2)>"')
    assert hostile.count("<script>") == 1 and hostile.count("<img") == 1
    scheme = tmp_path / "scheme.kpi"
    scheme.write_text(hostile, encoding="utf-8")
    args = [command[0], str(scheme)]
    if command[0] == "statement":
        args.append(str(ROOT / "rulesets" / "b2b_manager.facts.csv"))
    done = CliRunner().invoke(main, [*args, *command[1:]])
    assert done.exit_code == 0, done.stderr
    assert "<script>" not in done.stdout and "<img src=x" not in done.stdout
    assert "&lt;script&gt;alert(1)&lt;/script&gt; {{ 7*7 }}" in done.stdout
