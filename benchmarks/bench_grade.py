"""How long grading a class takes, as a multiple of grading one submission.

A class of generated homework-1 submissions is written to a temporary directory: each
student writes every answer in one of the forms students use (the key's LaTeX and
plain strings, ``L = 4``, ``(2, 8, 9)^T``, ``[2; 8; 9]``, ``6,000 min``,
``20 x 20 x 2``, decimals to 3 or 4 figures, TOML numbers and arrays) or makes a
typical slip (a transposed gradient, a dropped sign, a power of ten, an off-by-one
count, a rounded decimal, a missing channel dimension, a slip in ``a2`` carried
through the rest of Problem 1), or leaves it out. The seed fixes the class.

Every command runs as a cold subprocess (a new interpreter, the derivation included),
interleaved round by round so a slow spell on a shared machine hits all alike; each
row is the median of the rounds. Target: grading 1,000 submissions with the default
workers takes at most 4x grading one.

It also measures what the time budget costs per answer: ``equivalent`` from the main
thread (an alarm) and from another thread (a killable worker process, one round trip).

    python benchmarks/bench_grade.py                 # 1,000 submissions, 3 rounds: benchmarks/GRADE.md
    python benchmarks/bench_grade.py --class-size 200 --rounds 1
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import random
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from fractions import Fraction
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_build import environment, seconds  # noqa: E402 - cold runs, timed the way the build's are

TARGET = 4.0
"""Grading the class may take at most this many times grading one submission."""
CORES = os.cpu_count() or 1


# --------------------------------------------------------------------------
# A generated class
# --------------------------------------------------------------------------


def _decimal(value: Fraction, figures: int) -> str:
    return f"{float(value):.{figures}g}"


def _plain(value) -> str:
    """A key value (JSON) as a student types it: a column as a flat list."""
    if isinstance(value, list) and all(isinstance(row, list) and len(row) == 1 for row in value):
        return "[" + ", ".join(str(row[0]) for row in value) + "]"
    return json.dumps(value)


def right_forms(answer_id: str, entry: dict) -> list[object]:
    """Ways to write the right answer."""
    forms: list[object] = [entry["latex"], entry["exact"]]
    value = entry.get("value")
    if value is None:
        return forms
    forms.append(_plain(value))
    if isinstance(value, list) and all(isinstance(row, list) and len(row) == 1 for row in value):
        column = [row[0] for row in value]
        forms += [column, "(" + ", ".join(map(str, column)) + ")^T", "[" + "; ".join(map(str, column)) + "]"]
    elif isinstance(value, list) and not isinstance(value[0], list):  # a tuple: an output shape
        forms += [value, " x ".join(map(str, value)), r" \times ".join(map(str, value))]
    elif isinstance(value, list):
        forms.append(value)
    else:
        exact = Fraction(entry["exact"]) if "/" in entry["exact"] or entry["exact"].lstrip("-").isdigit() else None
        forms += [value, f"{answer_id.rsplit('.', 1)[-1].split('_')[0]} = {entry['exact']}"]
        if exact is not None and exact.denominator != 1:
            forms += [_decimal(exact, 3), _decimal(exact, 4)]
        if exact is not None and exact.denominator == 1 and abs(exact) >= 1000:
            forms.append(f"{int(exact):,}" + (" min" if answer_id.endswith("minutes") else ""))
    return forms


def wrong_forms(entry: dict) -> list[object]:
    """Typical slips, made from the key's value."""
    value = entry.get("value")
    if value is None:
        return ["0", entry["exact"] + " + 1"]
    if isinstance(value, list) and isinstance(value[0], list):
        transposed = [list(col) for col in zip(*value)]
        negated = [[-v for v in row] for row in value]
        tenfold = [[10 * v for v in row] for row in value]
        return [transposed, negated, tenfold]
    if isinstance(value, list):
        return [value[:-1], value[:-1] + [value[-1] + 1]]
    exact = Fraction(entry["exact"]) if "/" in entry["exact"] or entry["exact"].lstrip("-").isdigit() else None
    forms: list[object] = [-value if value else 1, value * 10]
    if exact is not None and exact.denominator == 1:
        forms.append(int(exact) - 1)
    elif exact is not None:
        forms.append(_decimal(exact, 2))
    return forms


def carried_slip(sheet) -> dict[str, object]:
    """Problem 1 with a slip in a2 carried, correctly, through every later number."""
    from symderiv.check.carry import cached_recomputer

    problem = sheet.problems[0]
    a2 = sheet.answer("1.1.a2").value
    wrong = a2 + type(a2)([[0], [4]])
    found = cached_recomputer(problem)
    values = found.recompute({"1.1.a2": wrong})
    return {i: _json_value(v) for i, v in values.items()}


def _json_value(value):
    from symderiv.render.key import numeric

    return numeric(value)


def generate(folder: Path, size: int, seed: int = 0) -> None:
    """Write ``size`` submissions of homework 1 into ``folder``."""
    import symderiv
    from symderiv.render.key import key_entries

    sheet = symderiv.derive_file(ROOT / "derivations" / "homework1.toml")
    key = key_entries(sheet)
    carried = carried_slip(sheet)
    rng = random.Random(seed)
    for index in range(size):
        slipped = rng.random() < 0.15
        answers = {}
        for answer_id, entry in key.items():
            draw = rng.random()
            if slipped and answer_id in carried and answer_id.startswith("1."):
                answers[answer_id] = carried[answer_id]
            elif draw < 0.80:
                answers[answer_id] = rng.choice(right_forms(answer_id, entry))
            elif draw < 0.95:
                answers[answer_id] = rng.choice(wrong_forms(entry))
        (folder / f"s{index:04d}.toml").write_text(_toml(f"s{index:04d}", answers))


def _toml(student: str, answers: dict) -> str:
    lines = ["[student]", f'id = "{student}"', f'name = "Student {student}"', "", "[answers]"]
    lines += [f"{json.dumps(i)} = {json.dumps(v)}" for i, v in answers.items()]
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------
# Timing
# --------------------------------------------------------------------------


def measure(folder: Path, rounds: int) -> dict[str, list[float]]:
    py, env = sys.executable, environment()
    one = str(next(iter(sorted(folder.glob("*.toml")))))
    commands = {
        "grade one submission": [py, "-m", "symderiv", "grade", one, "--spec", "derivations/homework1.toml"],
        "grade the class, default workers": [py, "-m", "symderiv", "grade", str(folder), "--spec",
                                             "derivations/homework1.toml"],
        "grade the class, --workers 1": [py, "-m", "symderiv", "grade", str(folder), "--spec",
                                        "derivations/homework1.toml", "--workers", "1"],
        f"grade the class, --workers {CORES}": [py, "-m", "symderiv", "grade", str(folder), "--spec",
                                                "derivations/homework1.toml", "--workers", str(CORES)],
    }
    times: dict[str, list[float]] = {label: [] for label in commands}
    for _ in range(rounds):
        for label, argv in commands.items():
            times[label].append(seconds(argv, env))
    return times


def budget_overhead(calls: int = 300) -> tuple[float, float]:
    """Milliseconds per ``equivalent`` call: from the main thread, and from another thread."""
    import sympy as sp

    from symderiv.check import equivalent

    answers = [f"[{i}, {i + 1}, 9]" for i in range(calls)]
    reference = sp.Matrix([2, 8, 9])

    def run() -> float:
        start = time.perf_counter()
        for answer in answers:
            equivalent(answer, reference)
        return 1000 * (time.perf_counter() - start) / calls

    run()  # warm SymPy's caches
    main = run()
    with ThreadPoolExecutor(1) as pool:
        pool.submit(equivalent, "1", 1).result()  # start the thread's worker process
        other = pool.submit(run).result()
    return main, other


def report(times: dict[str, list[float]], size: int, overhead: tuple[float, float]) -> str:
    medians = {label: statistics.median(values) for label, values in times.items()}
    one = medians["grade one submission"]
    lines = [f"# Grading a class ({size} generated homework-1 submissions)", "",
             f"{platform.python_implementation()} {platform.python_version()}, {os.cpu_count()} cores; "
             f"medians of {len(next(iter(times.values())))} cold runs, interleaved.", "",
             "| command | seconds | x one | submissions/s | submissions/s after the first |",
             "| --- | --- | --- | --- | --- |"]
    for label, value in medians.items():
        count = 1 if label == "grade one submission" else size
        after = f"{(count - 1) / (value - one):.0f}" if count > 1 and value > one else ""
        lines.append(f"| {label} | {value:.2f} | {value / one:.2f} | {count / value:.1f} | {after} |")
    ratio = medians["grade the class, default workers"] / one
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    lines += ["", f"Target: the class with the default workers at most {TARGET:.0f}x one submission: "
                  f"{ratio:.2f}x ({'met' if ratio <= TARGET else 'NOT met'}). The default is one worker per "
                  f"idle core (load average {load:.1f} at the end of the run).", "",
              f"Time budget per answer (`equivalent` of a 3-vector, warm): {overhead[0]:.2f} ms from the main "
              f"thread (alarm), {overhead[1]:.2f} ms from another thread (worker process round trip): "
              f"{overhead[1] - overhead[0]:+.2f} ms."]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--class-size", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "GRADE.md"))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="symderiv-class-") as folder:
        generate(Path(folder), args.class_size, args.seed)
        times = measure(Path(folder), args.rounds)
    text = report(times, args.class_size, budget_overhead())
    Path(args.out).write_text(text)
    print(text)


if __name__ == "__main__":
    main()
