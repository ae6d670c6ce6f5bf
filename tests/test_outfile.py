"""Files kpidsl writes: never over an input, whole or not at all, unwritable paths found first."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from kpidsl.cli import main
from kpidsl.outfile import OutputIsInput, check_output, output, write_text

ROOT = Path(__file__).resolve().parent.parent
B2B = ROOT / "rulesets" / "b2b_manager.kpi"
FACTS = ROOT / "rulesets" / "b2b_manager.facts.csv"


def run(*args: object) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, [str(a) for a in args])
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def work(tmp_path: Path) -> Path:
    shutil.copy(B2B, tmp_path / "s.kpi")
    shutil.copy(FACTS, tmp_path / "f.csv")
    return tmp_path


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


# ---------------------------------------------------------------- an output that is an input


@pytest.mark.parametrize("how", ["same name", "symlink", "hard link", "relative path"])
def test_eval_refuses_to_write_over_its_facts(work: Path, how: str,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    facts = work / "f.csv"
    before = facts.read_bytes()
    target: Path | str = facts
    if how == "symlink":
        target = work / "link.csv"
        os.symlink(facts, target)
    elif how == "hard link":
        target = work / "hard.csv"
        os.link(facts, target)
    elif how == "relative path":
        monkeypatch.chdir(work)
        target = "./sub/../f.csv"
        (work / "sub").mkdir()
    code, out, err = run("eval", work / "s.kpi", facts, "--format", "csv", "-o", target)
    assert code == 2 and out == ""
    assert err.startswith(f"error: {target}: this file is also an input of the command")
    assert err.endswith("; write the output to another file\n")
    assert facts.read_bytes() == before
    assert leftovers(work) == []


def test_every_command_refuses_to_write_over_its_scheme(work: Path) -> None:
    scheme = work / "s.kpi"
    before = scheme.read_bytes()
    for args in (["compile", scheme], ["doc", scheme],
                 ["statement", scheme, work / "f.csv", "-e", "ivanov"],
                 ["eval", scheme, work / "f.csv"]):
        code, _out, err = run(*args, "-o", scheme)
        assert code == 2, (args, err)
        assert "this file is also an input of the command" in err, args
        assert scheme.read_bytes() == before


def test_check_output_names_the_input_it_matched(tmp_path: Path) -> None:
    facts = tmp_path / "f.csv"
    facts.write_text("employee\n", encoding="utf-8")
    os.symlink(facts, tmp_path / "alias.csv")
    with pytest.raises(OutputIsInput) as caught:
        check_output(facts, [tmp_path / "alias.csv"])
    assert caught.value.filename == str(facts)
    assert caught.value.strerror == (f"this file is also an input of the command "
                                     f"({tmp_path / 'alias.csv'}); write the output to "
                                     "another file")
    assert check_output(tmp_path / "new.csv", [facts]) == tmp_path / "new.csv"
    with pytest.raises(IsADirectoryError, match="is a directory; give a file name"):
        check_output(tmp_path)


# ---------------------------------------------------------------- whole or not at all


def test_a_failure_mid_file_leaves_the_old_file(work: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    from kpidsl import fused
    from kpidsl.cli.render import csvfile

    target = work / "out.csv"
    target.write_text("the old results\n", encoding="utf-8")
    def breaking(real):  # type: ignore[no-untyped-def]
        def broken(stream, columns, rows):  # type: ignore[no-untyped-def]
            real(stream, columns, [next(iter(rows))])  # a header and one row written ...
            raise KeyboardInterrupt  # ... then Ctrl-C
        return broken

    for name in ("write_csv", "write_rows"):  # rows as dictionaries, or made cells
        monkeypatch.setattr(csvfile, name, breaking(getattr(csvfile, name)))
    real_fused = fused.write_results

    def broken_fused(source, fmt, stream):  # type: ignore[no-untyped-def]
        class Breaking:  # the fused loop (one CSV file): Ctrl-C after the first line
            def write(self, text: str) -> None:
                stream.write(text)
                if "\n" in text:
                    raise KeyboardInterrupt
        real_fused(source, fmt, Breaking())

    monkeypatch.setattr(fused, "write_results", broken_fused)
    code, _out, err = run("eval", work / "s.kpi", work / "f.csv", "--format", "csv",
                          "-o", target)
    assert code == 130 and err.endswith("interrupted\n")
    assert target.read_text(encoding="utf-8") == "the old results\n"
    assert leftovers(work) == []


def test_a_failure_before_the_first_write_creates_nothing(tmp_path: Path) -> None:
    target = tmp_path / "never.txt"
    with pytest.raises(ZeroDivisionError), output(target) as stream:
        stream.write("half")
        raise ZeroDivisionError
    assert not target.exists() and leftovers(tmp_path) == []


def test_an_output_replaces_the_file_whole_and_keeps_its_mode(tmp_path: Path) -> None:
    target = tmp_path / "out.txt"
    target.write_text("old", encoding="utf-8")
    os.chmod(target, 0o640)
    link = tmp_path / "link.txt"
    os.symlink(target, link)
    write_text(link, "new\n")
    assert target.read_text(encoding="utf-8") == "new\n"
    assert link.is_symlink() and oct(target.stat().st_mode & 0o777) == oct(0o640)
    assert leftovers(tmp_path) == []


def test_special_files_are_written_directly() -> None:
    write_text("/dev/null", "nothing to see\n")  # not replaced by a rename
    assert Path("/dev/null").exists() and not Path("/dev/null").is_file()


def test_an_unwritable_path_is_found_before_the_evaluation(work: Path) -> None:
    (work / "f.csv").write_text("employee,revenue,avg_check,conversion,calls\n"
                                "ivanov,lots,1,1%,1\n", encoding="utf-8")
    for target, reason in ((work / "missing" / "out.csv", "No such file or directory"),
                           (work / "f.csv" / "out.csv", "Not a directory")):
        code, out, err = run("eval", work / "s.kpi", work / "f.csv", "--format", "csv",
                             "-o", target)
        assert (code, out, err) == (2, "", f"error: {target}: {reason}\n")  # no row read


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write any file")
def test_a_read_only_file_is_not_replaced(tmp_path: Path) -> None:
    target = tmp_path / "out.txt"
    target.write_text("keep", encoding="utf-8")
    os.chmod(target, 0o444)
    with pytest.raises(PermissionError):
        write_text(target, "new")
    assert target.read_text(encoding="utf-8") == "keep"


def test_fmt_in_place_and_compile_leave_no_temporary_files(work: Path) -> None:
    scheme = work / "s.kpi"
    scheme.write_text(scheme.read_text(encoding="utf-8").replace("fact revenue     money",
                                                                   "fact revenue money"),
                      encoding="utf-8")
    code, _out, err = run("fmt", scheme)
    assert code == 0 and err == f"reformatted {scheme}\n"
    assert scheme.read_text(encoding="utf-8") == B2B.read_text(encoding="utf-8")
    code, _out, err = run("compile", scheme, "-o", work / "s.py")
    module = (work / "s.py").read_text(encoding="utf-8")
    assert code == 0 and module.startswith("# Evaluator for scheme b2b_manager")
    assert leftovers(work) == []


# ---------------------------------------------------------------- statements for any id


def test_statement_all_writes_a_file_for_every_id_however_long(work: Path) -> None:
    long_a, long_b = "a" * 300, "a" * 299 + "b"  # longer than a file name may be
    rows = ["employee,revenue,avg_check,conversion,calls"]
    for who in ("first", long_a, long_b, "../../etc/passwd", "CON", "last"):
        rows.append(f"{who},3000000,150000,2%,1000")
    (work / "f.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    code, _out, err = run("statement", work / "s.kpi", work / "f.csv", "--all",
                          "-o", work / "out")
    assert code == 0, err
    names = sorted(p.name for p in (work / "out").iterdir())
    assert len(names) == 6 and all(len(n.encode()) <= 130 for n in names), names
    assert {"first.md", "last.md", "etc_passwd.md", "CON_.md"} <= set(names)
    longs = [n for n in names if n.startswith("aaaa")]
    assert len(longs) == 2 and longs[0] != longs[1]
    text = (work / "out" / "last.md").read_text(encoding="utf-8")
    assert "last" in text


def test_compare_writes_to_a_file_and_refuses_its_inputs(work: Path) -> None:
    code, out, err = run("compare", work / "s.kpi", work / "s.kpi", work / "f.csv",
                         "--format", "csv", "-o", work / "cmp.csv")
    assert code == 0 and out == "" and err == f"wrote {work / 'cmp.csv'}\n"
    assert (work / "cmp.csv").read_text(encoding="utf-8").startswith("employee,grade,old_total")
    code, _out, err = run("compare", work / "s.kpi", work / "s.kpi", work / "f.csv",
                          "-o", work / "f.csv")
    assert code == 2 and "this file is also an input of the command" in err


def test_doc_refuses_to_write_over_its_own_template(work: Path) -> None:
    folder = work / "templates"
    folder.mkdir()
    template = folder / "plan.md.j2"
    template.write_text("# {{ title }}\n", encoding="utf-8")
    code, _out, err = run("doc", work / "s.kpi", "--template", folder, "-o", template)
    assert code == 2 and "this file is also an input of the command" in err
    assert template.read_text(encoding="utf-8") == "# {{ title }}\n"
