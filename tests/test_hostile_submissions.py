"""Generated hostile and careless submissions graded on homework 1: whatever a student (or an
attacker) puts in the file, reading it ends in a :class:`SubmissionError` (one line naming the
field: the CLI's exit 2) or in a report, never in another exception, and within the budget.

The strategy, beside the grade rows of the table in ``test_hostile.py``:

* :data:`ANSWERS`: answer strings from a grammar of hostile and near-valid text (the key's own
  forms, the same with a hostile token spliced in, soups of tokens students and attackers type:
  control characters, TeX commands, Python, huge powers, numbers beyond float64, other scripts);
* :data:`VALUES`: TOML values of every type (strings above, integers of any size, floats past
  the range, booleans, dates, inline tables, arrays nested and ragged);
* :func:`submissions`: files with real and unknown ids, ids as dotted keys and as nested
  tables, a ``[student]`` of odd types, unknown tables, ``answers`` that is not a table.

Examples are derandomized and few (40), so the test costs seconds.
"""
from __future__ import annotations

import time
from functools import cache
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_hostile_fuzz import toml_string

import symderiv
from symderiv.check.equivalence import MAX_SECONDS
from symderiv.check.grade import Grader, SubmissionError, load_submission
from symderiv.check.report import render

ROOT = Path(__file__).resolve().parent.parent
#: Seconds a graded answer may take beyond its budget on a loaded machine (a hang detector).
SLACK = 10.0

#: Answers in the forms the key and the README show (some right, most not).
NEAR_VALID = ["[2, 8, 9]", "(2, 8, 9)^T", "4", "L = 4", "8", "dL_da2 @ z1.T", "hadamard(dL_dz2, relu'(a2))",
              "W3.T @ dL_da3", "2*(y_hat - y)", "6,000 min", "300", "59", "ceil(log(1-P)/log(1-q))", "N/b",
              "sigma^2/b", "g*(1 - beta^t)/(1 - beta)", "10/3", "3.33", "34 x 34 x 1", "[[-152, -88]]",
              r"\begin{pmatrix} 16 \\ 12 \\ -4 \end{pmatrix}", r"\frac{\alpha g}{1-\beta}",
              r"\left\lfloor \frac{n+2p-k}{s} \right\rfloor + 1", "1/200000", "2001"]
#: What breaks parsers, terminals and documents.
HOSTILE = ["\x1b[2J", "\x07", "\r", "\n", "\x00", "\u202e", r"\input{/etc/passwd}", r"\write18{ls}", "xscr", "exec",
           "__import__('os')", "().__class__", "lambda: 1", "9^9^9^9", "10**10**10", "1e400", "-1e400", "1e-400",
           "nan", "inf", "oo", "(" * 60, ")" * 5, "[" * 20, "\u0661\u0662", "\uff11", "&", "\\\\", "%", "#", "$",
           "x" * 300, "+".join(["x^9"] * 40), "\\begin{pmatrix}", "@", ".T", "=", "'", "score: 65/65"]


def _splice(parts: tuple[str, int, str]) -> str:
    text, at, token = parts
    at %= len(text) + 1
    return text[:at] + token + text[at:]


ANSWERS = st.one_of(
    st.sampled_from(NEAR_VALID),
    st.tuples(st.sampled_from(NEAR_VALID), st.integers(0, 80), st.sampled_from(HOSTILE)).map(_splice),
    st.lists(st.sampled_from(HOSTILE + NEAR_VALID), min_size=1, max_size=6).map(" ".join),
    st.text(max_size=40),
)
SCALARS = st.one_of(
    ANSWERS.map(toml_string),
    st.integers(-10**6, 10**6).map(str),
    st.integers(1, 5000).map(lambda n: "9" * n),                    # past Python's 4,300 digits
    st.floats().map(lambda x: {"nan": "nan", "inf": "inf", "-inf": "-inf"}.get(repr(x), repr(x))),
    st.sampled_from(["true", "1979-05-27", "07:32:00", "{a = 1}", "{}", "[]", "1e-400", "0x7f", "-0.0"]),
)
VALUES = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=4).map(lambda xs: "[" + ", ".join(xs) + "]"),
                      max_leaves=12)
IDS = st.one_of(st.sampled_from(["1.1.a1", "1.1.loss", "1.3.dL_dW1", "1.3.dL_dx", "1.2.dL_dW2", "2.1.minutes",
                                 "2.2.formula", "3.3.gain", "4.1.output_shape", "4.3.n_out", "9.9.nope", ""]),
                texts := st.text(max_size=12))


def _answers(pairs: list[tuple[str, str]], dotted: bool) -> str:
    """Answer lines: quoted ids, or bare dotted keys where TOML allows them (nested tables)."""
    lines = []
    for answer_id, value in pairs:
        bare = dotted and answer_id and all(part.replace("_", "").isalnum() and part.isascii()
                                            for part in answer_id.split("."))
        lines.append(f"{answer_id if bare else toml_string(answer_id)} = {value}")
    return "\n".join(lines)


STUDENT = st.one_of(st.just(""), texts.map(lambda name: f"[student]\nname = {toml_string(name)}\nid = \"s1\"\n"),
                    VALUES.map(lambda v: f"[student]\nname = {v}\n"), st.just("student = 3\n"))
TAIL = st.sampled_from(["", "[extra]\nx = 1\n", "[answers.1.1]\na2 = [38, 22]\n", "[[answers]]\n", "answers = 4\n"])


@st.composite
def submissions(draw) -> str:
    """A submission file: a student table, answers (real and unknown ids), an odd tail."""
    pairs = draw(st.lists(st.tuples(IDS, VALUES), max_size=6, unique_by=lambda p: p[0]))
    body = _answers(pairs, draw(st.booleans()))
    return draw(STUDENT) + "[answers]\n" + body + "\n" + draw(TAIL)


@cache
def _grader() -> Grader:
    return Grader(symderiv.derive_file(ROOT / "derivations" / "homework1.toml"))


@settings(max_examples=40, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
@given(submissions())
def test_any_submission_is_graded_or_refused_in_one_line(tmp_path_factory, text):
    path = tmp_path_factory.mktemp("sub") / "sub.toml"
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    start = time.monotonic()
    try:
        submission = load_submission(path)
    except SubmissionError as error:
        assert str(error).startswith(str(path)) and "\n" not in str(error).strip(), error
        return
    report = _grader().grade(submission)
    shown = render(report, "text")
    assert not any(ord(ch) < 32 and ch != "\n" for ch in shown), repr(shown[:300])
    assert shown.count("\nscore: ") == 1
    assert time.monotonic() - start < (MAX_SECONDS + SLACK) * (len(submission.answers) + 1)
