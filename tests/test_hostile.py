"""The hostile and careless corpus: every case gets a clear answer, no traceback, no hang,
and a failed command leaves every file as it was.

Each :class:`Case` is a command line run through ``symderiv.cli.main`` in process, with
the files it needs; it states the exit status, a pattern the one-line message must
match, and a generous bound on its time (a hang detector, not a benchmark). Add a row
for every new way of breaking the tool.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from symderiv import cli

SEARCH = """[[problem]]
kind = "search"
[problem.grid]
epochs_per_combination = {epochs}
minutes_per_epoch = 1
[[problem.grid.hyperparameter]]
name = "{name}"
values = 2
"""


def search_spec(epochs: str = "2", name: str = "a", head: str = "") -> str:
    return head + SEARCH.format(epochs=epochs, name=name)


@dataclass(frozen=True)
class Case:
    """A command and the files it reads; what it must answer.

    ``check`` looks at the standard output of a successful command; ``env`` runs the command
    in a real process with these variables (where the process matters: stream encodings);
    ``needs`` names a program the case needs (skipped without it).
    """

    name: str
    argv: tuple[str, ...]
    files: dict[str, str | bytes] = field(default_factory=dict)
    status: int = 2
    message: str = ""
    seconds: float = 30.0
    output: Callable[[Path], Path] | None = None
    check: Callable[[str], object] | None = None
    env: dict[str, str] | None = None
    needs: str | None = None


def spec_case(name: str, text: str | bytes, message: str, status: int = 2, command: str = "build",
              **options) -> Case:
    argv = ("build", "spec.toml", "-o", "out", "--no-pdf") if command == "build" else (command, "spec.toml")
    return Case(name, argv, {"spec.toml": text}, status, message, **options)


def problem(kind: str, body: str) -> str:
    return f'[[problem]]\nkind = "{kind}"\n{body}'


def strict_json(text: str) -> None:
    """Parses as strict JSON (no Infinity or NaN) with a number beyond float64 in it."""
    def reject(constant: str):
        raise AssertionError(f"not JSON: {constant}")
    values = re.findall(r'"value": (-?[0-9.]+e[+-]\d+)', text)
    assert json.loads(text, parse_constant=reject) and values, text[:200]


def verified(out: str) -> None:
    """``symderiv verify``: every entry agrees."""
    assert " 0 differ" in out and "DIFFERS" not in out, out


def verified_past_float64(out: str) -> None:
    """Every entry agrees; float64 overflowed and the report says so (no false DIFFERS)."""
    verified(out)
    assert "float64 overflows for 11; checked at" in out, out


def kernels_run(out: str) -> None:
    """The kernels module of the build imports and runs (beyond float64: inf, as float64 holds it)."""
    code = ("import warnings, spec_kernels as k; warnings.simplefilter('ignore'); "
            "print(sorted(k.problem1_gradients()))")
    done = subprocess.run([sys.executable, "-c", code], cwd="out", capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and "dL_dW1" in done.stdout, done.stderr


def matrix(rows: int, cols: int) -> str:
    return "[" + ", ".join("[" + ", ".join(str((r * cols + c) % 7 - 3) for c in range(cols)) + "]"
                           for r in range(rows)) + "]"


def hyperparameters(count: int, values: str = "2") -> str:
    return "".join(f'[[problem.grid.hyperparameter]]\nname = "h{i}"\nvalues = {values}\n' for i in range(count))


GRID = "[problem.grid]\nepochs_per_combination = 2\nminutes_per_epoch = 1\n"
RANDOM = "[problem.random]\nsuccess_rate = {q}\nconfidence = {p}\n"
SIZE = '[[problem.size]]\ninput = [9, 9, 1]\nkernel = 3\n'
GRADFLOW = ("[problem.chain]\nupstream = {u}\nlocal = [{d}, {d}]\n[problem.residual]\nupstream = {u}\n"
            "[problem.depths]\nupstream = {u}\nlocal = {d}\nplain = [1, 3]\nresidual = [2]\nblock = 1\n")
NETWORK = ('x = {x}\ny = 1\n[[problem.layer]]\nW = [[{w}, 2], [3, 1]]\nb = [0, 1]\nactivation = "{act}"\n'
           '[[problem.layer]]\nW = [[1, 1]]\nb = 0\nactivation = "identity"\n')
HUGE_NETWORK = problem("network", NETWORK.format(x="[1e200, 2]", w="1e150", act="relu"))
def dense(widths: list[int], activation: str = "sigmoid") -> str:
    """A network of dense layers of these widths (input first), weights of 17 digits."""
    def entries(n: int, seed: int) -> str:
        return "[" + ", ".join(repr(((seed + 7 * i) % 13 - 6) / 7.3) for i in range(n)) + "]"
    shapes = enumerate(zip(widths, widths[1:]))
    layers = "".join(f'[[problem.layer]]\nW = [{", ".join(entries(n, i + r) for r in range(m))}]\n'
                     f'b = {entries(m, i)}\nactivation = "{activation}"\n' for i, (n, m) in shapes)
    return problem("network", f"x = {entries(widths[0], 1)}\ny = {entries(widths[-1], 2)}\n{layers}")


IMAGE = "[[" + ", ".join("[" + ", ".join(str((r + c) % 5) for c in range(16)) + "]" for r in range(16)) + "]]"
NESTED = "sin(cos(" * 12 + "w1 + w2" + "))" * 12


CASES = [
    spec_case("integer over 4,300 digits", search_spec("9" * 5000),
              r"epochs_per_combination: line \d+: .*5,000 digits"),
    spec_case("hex integer over 4,300 digits", search_spec("0x" + "f" * 4000), r"epochs_per_combination.*digits"),
    spec_case("integer of 200 digits", search_spec("9" * 200),
              r"problem\[1\]\.grid\.epochs_per_combination: .*200 digits"),
    spec_case("huge integer, key command", search_spec("9" * 5000), r"digits", command="key"),
    spec_case("byte-order mark", b"\xef\xbb\xbf" + search_spec().encode(), "", status=0),
    spec_case("title of 300 characters", search_spec(head=f'[sheet]\ntitle = "{"x" * 300}"\n'), r"sheet\.title: 300"),
    spec_case("spec over a megabyte", search_spec(head=f'# {"x" * 1_100_000}\n'), r"larger than 1,000,000 bytes"),
    spec_case("name with control characters", search_spec(head='[sheet]\nname = "x\\u001b[2J"\n'), r"sheet\.name"),
    spec_case("not UTF-8", b"\xff\xfe title", r"not UTF-8"),
    spec_case("invalid TOML", "[[problem]\n", r"invalid TOML"),
    spec_case("nested 3,000 deep", "x = " + "[" * 3000 + "]" * 3000 + "\n", r"problem|nested|invalid"),
    spec_case("unknown kind", '[[problem]]\nkind = "nope"\n', r"problem\[1\]\.kind: unknown problem kind"),
    spec_case("NaN number", search_spec("nan"), r"epochs_per_combination: expected a finite number"),
    Case("missing spec file", ("build", "missing.toml", "-o", "out"), {}, 2, r"missing\.toml: \(file\)"),
    Case("output path is a file", ("build", "spec.toml", "-o", "plain.txt", "--no-pdf"),
         {"spec.toml": search_spec(), "plain.txt": "keep"}, 2, r"plain\.txt: cannot write the output"),
    Case("output path under a file", ("build", "spec.toml", "-o", "plain.txt/sub", "--no-pdf"),
         {"spec.toml": search_spec(), "plain.txt": "keep"}, 2, r"cannot write the output: Not a directory"),
    Case("output name too long", ("build", "spec.toml", "-o", "x" * 300, "--no-pdf"),
         {"spec.toml": search_spec()}, 2, r"File name too long"),
    # numbers that are not ASCII digits, or not numbers
    spec_case("Arabic-Indic digits", search_spec('"\u0661\u0662"'), r"epochs_per_combination: expected a number"),
    spec_case("full-width digits", search_spec('"\uff11\uff12"'), r"epochs_per_combination: expected a number"),
    spec_case("NaN as a string", search_spec('"NaN"'), r"epochs_per_combination: expected a number"),
    spec_case("a float past 1e300 as a count", search_spec("1e300"), r"grid: the total time C E t would have"),
    # unbounded work: every documented bound is reachable in a stated time (README, "Bounds")
    spec_case("conv: 48,400 printed products", problem("conv", f"[problem.apply]\ninput = {matrix(30, 30)}\n"
                                                               f"kernel = {matrix(11, 11)}\n"),
              r"apply\.kernel: the steps would print 48,400 products .* at most 5,000"),
    spec_case("conv: 21 size questions", problem("conv", SIZE * 21), r"problem\[1\]\.size: at most 20 size questions"),
    spec_case("search: 21 hyperparameters", problem("search", GRID + hyperparameters(21)),
              r"grid\.hyperparameter: at most 20 hyperparameters"),
    spec_case("search: 21 confidences", problem("search", RANDOM.format(q=0.5, p=[k / 100 for k in range(1, 22)])),
              r"random\.confidence: at most 20 confidences"),
    spec_case("search: a grid total of 2,000 digits", problem("search", GRID + hyperparameters(20, "9" * 99)),
              r"problem\[1\]\.grid: the total time C E t would have \d+ digits; at most 200"),
    spec_case("search: 900,000 trials of a 30-digit rate", problem("search", RANDOM.format(
        q='"767500000000000000000001/100000000000000000000000000000"', p='[0.95, "999/1000"]')), "", status=0),
    spec_case("optimizers: steps * batch_size over 10^7", problem("optimizers", "[problem.demo]\nsteps = 100000\n"
                                                                                "batch_size = 101\nsamples = 1000\n"),
              r"demo\.steps: steps \* batch_size must be <= 10\^7"),
    spec_case("optimizers: draws * batch_size over 10^6", problem("optimizers", "[problem.demo]\ndraws = 200000\n"
                                                                                 "batch_size = 8\n"),
              r"demo\.draws: draws \* batch_size must be <= 10\^6"),
    spec_case("optimizers: 100,000 steps", problem("optimizers", "[problem.demo]\nsteps = 100000\n"), "", status=0),
    spec_case("optimizer_steps: a gradient of 600 nodes", problem("optimizer_steps", (
        f'start = [1, 2]\nobjective = "{NESTED}"\nvariables = ["w1", "w2"]\nsteps = 2\n'
        '[[problem.optimizer]]\nmethod = "sgd"\nlr = 0.1\n')), r"objective: its gradient has \d+ nodes"),
    spec_case("21 problems", problem("search", GRID + hyperparameters(1)) * 21, r"problem: at most 20 problems"),
    Case("a file name that is no sheet name", ("build", "\u00dcbung 1.toml", "-o", "out", "--no-pdf"),
         {"\u00dcbung 1.toml": search_spec()}, 2,
         r"sheet\.name: .*the file's name '.bung 1' is used: set \[sheet\] name"),
    spec_case("network: a 3x4 sigmoid network", dense([3, 4]), "", status=0, command="key", check=json.loads),
    spec_case("network: a dense layer of 21 inputs", dense([21, 2]),
              r"layer\[1\]\.W: is 2x21; a dense layer is at most 20x20"),
    spec_case("network: 4,400 multiply-adds", dense([20] * 12),
              r"layer\[11\]\.type: the forward pass up to here needs 4,400 multiply-adds; at most 4,000"),
    spec_case("network: 2,048 layer outputs", problem("network", (
        f'x = {IMAGE}\ny = [1]\n[[problem.layer]]\ntype = "conv2d"\n'
        'W = [[[[0.5]]], [[[-0.5]]], [[[0.25]]], [[[2]]]]\nactivation = "tanh"\n'
        '[[problem.layer]]\ntype = "flatten"\n[[problem.layer]]\nW = [[1]]\nb = 0\n')),
              r"layer\[2\]\.type: the layers up to here output 2,048 entries together; at most 1,024"),
    # beyond float range: the key stays strict JSON, the kernels import
    spec_case("key: values beyond float64", problem("gradflow", GRADFLOW.format(u=1e300, d=1e50)), "", status=0,
              command="key", check=strict_json),
    spec_case("key: values below float64", problem("gradflow", GRADFLOW.format(u=1e-300, d=1e-50)), "", status=0,
              command="key", check=strict_json),
    # verify and the kernels where float64 overflows: exact values agree, checked at high precision
    spec_case("verify: a network beyond float64", HUGE_NETWORK, "", status=0, command="verify",
              check=verified_past_float64),
    spec_case("verify: huge tanh weights", problem("network", NETWORK.format(x="[0.5, 2]", w="1e300", act="tanh")),
              "", status=0, command="verify", check=verified),
    spec_case("kernels of a network beyond float64", HUGE_NETWORK, "", status=0, check=kernels_run),
    # text that reaches a document: a name SymPy would print as \mathscr{x}, through TeX
    Case("hyperparameter named xscr, typeset", ("build", "spec.toml", "-o", "out"), {"spec.toml": search_spec(
        name="xscr")}, 0, needs="pdflatex", seconds=120),
    # a terminal that takes ASCII only: non-ASCII text is escaped, never a UnicodeEncodeError
    Case("ASCII terminal: build with a non-ASCII title", ("build", "spec.toml", "-o", "out", "--no-pdf"),
         {"spec.toml": search_spec(head='[sheet]\ntitle = "\u00dcbung \u03bb \u6f22\u5b57 \U0001f600"\n')}, 0,
         env={"PYTHONIOENCODING": "ascii", "LC_ALL": "C"}),
    Case("ASCII terminal: the key", ("key", "spec.toml"), {"spec.toml": search_spec(
        head='[sheet]\ntitle = "\u00dcbung"\n', name="lambda1")}, 0, env={"PYTHONIOENCODING": "ascii", "LC_ALL": "C"},
         check=lambda out: json.loads(out)),
    Case("ASCII terminal: an error naming a non-ASCII file", ("build", "sp\u00e9c.toml", "-o", "out"),
         {"sp\u00e9c.toml": search_spec("0", head='[sheet]\nname = "x"\n')}, 2,
         r"sp\\xe9c\.toml: problem\[1\]\.grid\.epochs_per_combination: must be >= 1",
         env={"PYTHONIOENCODING": "ascii"}),
]


# ---------------------------------------------------------------------- grading submissions

HOMEWORK1 = str(Path(__file__).resolve().parent.parent / "derivations" / "homework1.toml")
FORGED = "\\u001b[2J\\u0007\\rscore: 65/65 (100.0%)"
#: 100 entries, each about 0.06 s to read: 6 s unbounded, past the 2 s budget (a symbol of its
#: own each, so that SymPy's cache makes no entry cheaper; each within the 2,000 characters).
SLOW_ENTRIES = ", ".join(repr("+".join(f"x{k}^{i}" for i in range(200))) for k in range(100))


def submission(answers: str, student: str = "") -> str:
    return (f"[student]\n{student}\n" if student else "") + f"[answers]\n{answers}\n"


def grade_case(name: str, text: str | bytes, message: str = "", status: int = 0, report: str = "text",
               **options) -> Case:
    return Case(name, ("grade", "sub.toml", "--spec", HOMEWORK1, "--report", report), {"sub.toml": text}, status,
                message, **options)


def verdicts(expected: dict[str, str]) -> Callable[[str], None]:
    """The text report gives each answer id its verdict, and one score line."""
    def check(out: str) -> None:
        for answer_id, verdict in expected.items():
            shown = [line for line in out.splitlines() if line.startswith(answer_id + " ")]
            assert re.search(rf"^{re.escape(answer_id)} +{verdict} ", out, re.M), (answer_id, shown, out[-300:])
        assert len(re.findall(r"^score: ", out, re.M)) == 1, out
    return check


def within_budget(out: str) -> None:
    """The slow array gets a verdict (cut at the budget where reading it takes longer, which
    depends on the machine; else read whole and refused for its shape or its names), and
    grading goes on to the score line. The row's time bound is what catches a hang."""
    line = re.search(r"^1\.3\.dL_dx +(\w+) ", out, re.M)
    assert line and line.group(1) in ("too_large", "wrong_shape", "unparseable"), out[-500:]
    if line.group(1) == "too_large":
        assert "the answer could not be checked within 2 s" in out, out[-500:]
    assert re.search(r"^score: 0/65 ", out, re.M), out[-300:]


def terminal_clean(out: str) -> None:
    """No control character reaches the terminal; the one score line is the real one."""
    assert not any(ord(ch) < 32 and ch != "\n" for ch in out), repr(out[:500])
    assert re.findall(r"^score: .*$", out, re.M) == ["score: 0/65 (0.0%)"], out
    assert "\\x1b[2J" in out and "\\x07" in out and "\\r" in out


def typesets(out: str) -> None:
    """The TeX feedback sheet escapes what students typed; pdflatex (shell escape off) builds it."""
    assert "\\input{/etc" not in out and "\\write18{" not in out
    if shutil.which("pdflatex") is None:
        return
    Path("report.tex").write_text(out, encoding="utf-8")
    done = subprocess.run(["pdflatex", "-no-shell-escape", "-interaction=nonstopmode", "-halt-on-error", "report.tex"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and Path("report.pdf").exists(), done.stdout[-2000:]


NOT_FINITE = submission('"1.1.loss" = "1e400"\n"1.1.a3" = "-1e400"\n"1.3.dL_db3" = "1e-400"\n"1.1.y_hat" = "nan"\n'
                        '"2.1.combinations" = "inf"\n"1.3.dL_dx" = ["1e400", "nan"]\n'
                        '"1.3.dL_dW3" = [["inf", "-1e400"]]\n"1.3.dL_db1" = [1e300, 1e-300, -1e308]\n'
                        '"1.3.dL_dW1" = [["1e-400", 1], [1, 1], [1, 1]]')
GRADE_CASES = [
    grade_case("grade: byte-order mark", b"\xef\xbb\xbf" + submission('"1.1.loss" = 4').encode(),
               check=verdicts({"1.1.loss": "correct"})),
    grade_case("grade: an integer answer of 4,400 digits", submission(f'"1.1.loss" = {"9" * 4400}'),
               r"sub\.toml: answers\.1\.1\.loss: line 2: an integer of 4,400 digits", status=2),
    grade_case("grade: a string answer of 4,400 digits", submission(f'"1.1.loss" = "{"9" * 4400}"'),
               check=verdicts({"1.1.loss": "too_large"})),
    grade_case("grade: control characters in names and answers", submission(
        f'"1.1.loss" = "{FORGED}"\n"2.1.epochs" = "3000\\u001b[1A\\rscore: 65/65"',
        f'name = "Eve{FORGED}"\nid = "s\\u001b[31m1\\u0007"'), check=terminal_clean),
    grade_case("grade: control characters, in a real terminal process", submission(
        f'"1.1.loss" = "{FORGED}"', f'name = "Eve{FORGED}"'), env={}, check=terminal_clean),
    grade_case("grade: numbers beyond float64, NaN and infinity", NOT_FINITE, check=verdicts({
        "1.1.loss": "not_finite", "1.1.a3": "not_finite", "1.3.dL_db3": "(too_large|incorrect)",
        "1.1.y_hat": "not_finite", "2.1.combinations": "not_finite", "1.3.dL_dx": "not_finite",
        "1.3.dL_dW3": "not_finite", "1.3.dL_db1": "incorrect", "1.3.dL_dW1": "(too_large|incorrect)"})),
    grade_case("grade: numbers beyond float64, in a real process", NOT_FINITE, env={},
               check=verdicts({"1.1.loss": "not_finite", "1.3.dL_dW3": "not_finite"})),
    grade_case("grade: 100 slow entries within the budget", submission(
        f'"1.3.dL_dx" = [{SLOW_ENTRIES}]'), check=within_budget),
    grade_case("grade: TeX commands and names in the TeX report", submission(
        '"2.1.minutes" = \'\\input{/etc/passwd}\'\n"3.1.cost_gd" = "xscr"\n"3.1.cost_sgd" = "exec"\n'
        '"3.2.cost" = \'\\write18{rm -rf /}\'\n"1.1.loss" = "\\u001b[2J"',
        'name = "\\\\input{/etc/passwd} xscr $ & # ^ _ % ~"'), report="tex", check=typesets, seconds=120),
    grade_case("grade: a boolean answer", submission('"1.1.loss" = true'), r'answers\."1\.1\.loss": .*not a boolean',
               status=2),
]
CASES += GRADE_CASES


def _write(tmp: Path, files: dict[str, str | bytes]) -> dict[Path, bytes]:
    """Write the case's files and a sentinel output directory; their bytes, to compare after."""
    (tmp / "out").mkdir()
    (tmp / "out" / "spec.tex").write_text("an earlier build")
    for name, content in files.items():
        data = content if isinstance(content, bytes) else content.encode("utf-8")
        (tmp / name).write_bytes(data)
    return {p: p.read_bytes() for p in tmp.rglob("*") if p.is_file()}


def _in_a_process(case: Case, tmp: Path) -> tuple[int, str, str]:
    """Run the case's command as ``python -m symderiv`` with its environment."""
    root = str(Path(__file__).resolve().parent.parent)
    env = {**os.environ, **(case.env or {}), "PYTHONPATH": os.pathsep.join([root, os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run([sys.executable, "-m", "symderiv", *case.argv], cwd=tmp, env=env, capture_output=True,
                          timeout=case.seconds)
    return done.returncode, done.stdout.decode("ascii"), done.stderr.decode("ascii")


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_corpus(case: Case, tmp_path, monkeypatch, capsys):
    if case.needs and shutil.which(case.needs) is None:
        pytest.skip(f"{case.needs} is not installed")
    before = _write(tmp_path, case.files)
    monkeypatch.chdir(tmp_path)
    start = time.monotonic()
    if case.env is not None:
        status, out, err = _in_a_process(case, tmp_path)
    else:
        status = cli.main(list(case.argv))
        out, err = capsys.readouterr()
    elapsed = time.monotonic() - start
    assert status == case.status, err
    assert elapsed < case.seconds
    assert "Traceback" not in err
    if case.status == 0 and case.check is not None:
        case.check(out)
    if case.argv[0] in ("grade", "key", "verify"):   # commands that write nothing
        assert _files(tmp_path, "report.") == before, "the command changed files"
    if case.status == 2:
        assert len(err.strip().splitlines()) == 1, err
        assert re.search(case.message, err), err
        assert "Traceback" not in err and all(ch.isprintable() for ch in err.strip())
        assert _files(tmp_path) == before, "a failed command changed files"


def _files(tmp: Path, skip: str = ".") -> dict[Path, bytes]:
    """Every file under ``tmp`` and its bytes (but hidden ones and those the check wrote)."""
    return {p: p.read_bytes() for p in tmp.rglob("*") if p.is_file() and not p.name.startswith((".", skip))}
