"""`kpidsl check` and `fmt` work, this checkout against another revision, as ratios.

    python bench/check_fmt.py [--baseline main] [--rounds 7] [--repeat 20]

The baseline revision's `kpidsl/` and `grammars/` are exported (`git archive`) into a
temporary directory; each candidate then runs in its own process (the package has one
name), taking turns A, B, A, B … `--rounds` times. A round times, in CPU time of the child,
parse + check (`api.check_source`, what `kpidsl check` does after reading the file) and
`formatter.format_source` over every bundled scheme (rulesets/*.kpi) and over a generated
scheme of 1 000 KPIs (bench/scaling.py's), each repeated `--repeat` times after a warm-up;
each candidate keeps its best round. Both candidates must give the same diagnostics and the
same formatted text, checked before timing. A last column times `python -m kpidsl check
rulesets/b2b_manager.kpi` as a fresh process (CPU time of the child, start-up included),
interleaved the same way.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tarfile
import tempfile
from io import BytesIO
from pathlib import Path

from harness import ROOT, RULESETS, ms, ratio, table
from scaling import generated_scheme

CHILD = r"""
import decimal, gc, hashlib, json, sys, time
from kpidsl.api import check_source
from kpidsl.formatter import format_source
from kpidsl.source import SourceFile

texts = json.load(sys.stdin)
repeat = int(sys.argv[1])

def check_all():
    return [[d.code + d.message for d in check_source(SourceFile(n, t))[1]]
            for n, t in texts.items()]

def fmt_all():
    return [format_source(t, n) for n, t in texts.items()]

def best(run):
    run()  # warm-up: Lark's parser, caches
    times = []
    for _ in range(repeat):
        gc.collect()
        start = time.process_time()
        run()
        times.append(time.process_time() - start)
    return min(times)

digest = hashlib.sha256(json.dumps([check_all(), fmt_all()]).encode()).hexdigest()
print(json.dumps({"check": best(check_all), "fmt": best(fmt_all), "digest": digest}))
"""


def export(revision: str, into: Path) -> None:
    """The revision's package and grammar, as files under `into`."""
    archive = subprocess.run(["git", "archive", "--format=tar", revision, "kpidsl", "grammars"],
                             cwd=ROOT, capture_output=True, check=True).stdout
    with tarfile.open(fileobj=BytesIO(archive)) as tar:
        tar.extractall(into, filter="data")


def run_child(path: Path, texts: str, repeat: int) -> dict[str, float | str]:
    env = dict(os.environ, PYTHONPATH=str(path))
    out = subprocess.run([sys.executable, "-c", CHILD, str(repeat)], input=texts, text=True,
                         capture_output=True, check=False, env=env, cwd=tempfile.gettempdir())
    if out.returncode:
        sys.exit(f"the candidate under {path} failed:\n{out.stderr}")
    result: dict[str, float | str] = json.loads(out.stdout)
    return result


def command_cpu(path: Path) -> float:
    """CPU seconds of one fresh `kpidsl check` of the reference scheme."""
    env = dict(os.environ, PYTHONPATH=str(path))
    process = subprocess.Popen([sys.executable, "-m", "kpidsl", "check",
                                str(RULESETS / "b2b_manager.kpi")], env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(process.pid, 0)
    if os.waitstatus_to_exitcode(status) not in (0, 1):
        raise RuntimeError(f"kpidsl check failed under {path}")
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--baseline", default="main", help="git revision to compare with")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    schemes = {p.name: p.read_text(encoding="utf-8") for p in sorted(RULESETS.glob("*.kpi"))}
    schemes["generated_1000.kpi"] = generated_scheme(1000)
    texts = json.dumps(schemes)
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        export(args.baseline, base)
        candidates = {f"baseline ({args.baseline})": base, "this checkout": ROOT}
        best: dict[str, dict[str, float]] = {n: {"check": 1e9, "fmt": 1e9, "command": 1e9}
                                             for n in candidates}
        for path in candidates.values():
            command_cpu(path)  # warm-up: bytecode and Lark's tables cached
        digests = set()
        for _ in range(args.rounds):
            for name, path in candidates.items():
                result = run_child(path, texts, args.repeat)
                digests.add(result["digest"])
                for stage in ("check", "fmt"):
                    best[name][stage] = min(best[name][stage], float(result[stage]))
                for _ in range(3):
                    best[name]["command"] = min(best[name]["command"], command_cpu(path))
    if len(digests) != 1:
        sys.exit("the candidates disagree on diagnostics or formatted text")
    baseline = best[f"baseline ({args.baseline})"]
    rows = [(name, ms(b["check"]), ratio(b["check"], baseline["check"]), ms(b["fmt"]),
             ratio(b["fmt"], baseline["fmt"]), ms(b["command"]),
             ratio(b["command"], baseline["command"])) for name, b in best.items()]
    print(table(f"check and fmt over {len(schemes)} schemes ({', '.join(schemes)})",
                ("candidate", "check", "ratio", "fmt", "ratio", "`kpidsl check` process",
                 "ratio"), rows,
                [f"CPU time of the child, best of {args.rounds} interleaved rounds of "
                 f"{args.repeat} repetitions; same diagnostics and formatted text "
                 f"(sha256 {next(iter(digests))[:12]})."]))


if __name__ == "__main__":
    main()
