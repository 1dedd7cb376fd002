"""Generated hostile and careless specs: whatever the values and the text, a build ends in
success or in one line naming the file and the field (exit 2), never in a traceback, and a
valid spec typesets.

Two strategies, beside the table of cases in ``test_hostile.py``:

* :data:`VALUES`: what a spec value can be in TOML (ints of any size, hex, decimals, floats
  past the range, NaN and infinity, fraction strings with zero or huge denominators, words,
  booleans, dates, tables, nested arrays), put into every field of a ``search`` problem;
* :func:`texts` and :func:`sheets`: titles, authors and names of any characters (TeX's and
  Markdown's specials, controls, accents, right-to-left text, emoji) on ``search``, ``conv``
  and ``gradflow`` problems whose numbers are within bounds; a handful go through TeX.

Examples are derandomized (the same cases on every run, so CI is stable); run with
``--hypothesis-seed=N`` and without ``derandomize`` to explore.
"""
from __future__ import annotations

import contextlib
import io
import json
import shutil
import tempfile
import time
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sympy.printing.latex import modifier_dict

from symderiv import cli
from symderiv.render import pdf

FAST = settings(max_examples=40, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
NEED_TEX = pytest.mark.skipif(shutil.which("pdflatex") is None, reason=f"TeX not installed: {pdf.INSTALL}")
#: A hang detector, not a benchmark: every generated spec is small.
SECONDS = 60


def toml_string(text: str) -> str:
    """``text`` as a TOML basic string: quotes, backslashes and control characters escaped."""
    out = []
    for ch in text:
        if ch in '"\\':
            out.append("\\" + ch)
        elif ord(ch) < 32 or ord(ch) == 127:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def _toml_float(x: float) -> str:
    return {"nan": "nan", "inf": "inf", "-inf": "-inf"}.get(repr(x), repr(x))


SCALARS = st.one_of(
    st.integers(-10**6, 10**6).map(str),
    st.floats(0, 1).map(repr),                                     # plausible probabilities and rates
    st.fractions(0, 1, max_denominator=10**6).map(lambda q: toml_string(f"{q.numerator}/{q.denominator}")),
    st.integers(1, 6000).map(lambda n: "9" * n),                     # past Python's 4,300 digits
    st.integers(1, 1200).map(lambda n: "0x" + "f" * n),
    st.floats().map(_toml_float),                                  # 0.05, 1e-300, 1e308, inf, nan
    st.fractions().map(lambda q: toml_string(f"{q.numerator}/{q.denominator}")),
    st.tuples(st.integers(-10**40, 10**40), st.integers(-3, 10**40)).map(lambda t: toml_string(f"{t[0]}/{t[1]}")),
    st.decimals(allow_nan=False, allow_infinity=False).map(lambda d: toml_string(str(d))),
    st.sampled_from(['"NaN"', '"Infinity"', '"-inf"', '"1e5"', '"0x10"', '"\u0661\u0662"', '"\uff11\uff12"',
                     '" 1 / 3 "', '"1/0"', '""', "true", "1979-05-27", "{a = 1}", '"abc"', "-0.0", "1e-400"]),
)
#: A TOML value: a scalar above or arrays of them, nested.
VALUES = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=4).map(lambda xs: "[" + ", ".join(xs) + "]"),
                      max_leaves=10)


#: The search problem's fields, in the order they are read, with a sensible value each.
SEARCH_FIELDS = {"epochs_per_combination": "10", "minutes_per_epoch": "2", "values": "5", "success_rate": "0.05",
                 "confidence": "[0.95, 0.995]"}


def _search_spec(values: dict[str, str]) -> str:
    v = {**SEARCH_FIELDS, **values}
    return (f'[[problem]]\nkind = "search"\n[problem.grid]\nepochs_per_combination = {v["epochs_per_combination"]}\n'
            f'minutes_per_epoch = {v["minutes_per_epoch"]}\n[[problem.grid.hyperparameter]]\nname = "lr"\n'
            f'values = {v["values"]}\n[problem.random]\nsuccess_rate = {v["success_rate"]}\n'
            f'confidence = {v["confidence"]}\n')


#: One or two fields of a search problem given any value, the others sensible ones (so every
#: field is reached: the first error stops the reading).
SEARCH_VALUES = st.dictionaries(st.sampled_from(sorted(SEARCH_FIELDS)), VALUES, min_size=1, max_size=2) \
    .map(_search_spec)


@contextlib.contextmanager
def built(spec_text: str, pdf_too: bool = False):
    """Build ``spec_text`` in a fresh directory: (status, stderr, output directory, seconds)."""
    with tempfile.TemporaryDirectory(prefix="symderiv-fuzz-") as tmp:
        spec, out = Path(tmp) / "spec.toml", Path(tmp) / "out"
        spec.write_text(spec_text, encoding="utf-8")
        err = io.StringIO()
        start = time.monotonic()
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
            status = cli.main(["build", str(spec), "-o", str(out)] + ([] if pdf_too else ["--no-pdf"]))
        # the message names the spec by its path: the same for any directory it was built in
        yield status, err.getvalue().replace(tmp, "<dir>"), out, time.monotonic() - start


def reject(constant: str):
    raise AssertionError(f"not JSON: {constant}")


def check_answer(status: int, err: str, out: Path, seconds: float) -> None:
    """Success with a strict-JSON key, or one printable line naming the spec, and nothing written."""
    assert seconds < SECONDS
    assert status in (0, 2), err
    if status == 2:
        lines = err.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("symderiv: ") and "spec.toml: " in lines[0], err
        assert all(ch.isprintable() for ch in lines[0]), err
        assert not out.exists() or not any(out.iterdir()), "a failed build wrote files"
    else:
        (key,) = out.glob("*.key.json")
        json.loads(key.read_text(encoding="utf-8"), parse_constant=reject, parse_float=Decimal)


@FAST
@given(SEARCH_VALUES)
def test_any_value_in_any_search_field(spec_text):
    with built(spec_text) as result:
        check_answer(*result)


# ---------------------------------------------------------------------- text and names

#: Characters that break documents and terminals, among ordinary ones.
HOSTILE = "\\{}$&#^_%~<>|`*[]-,'\"\n\t\x00\x07\x1b\u202e\u0301\u200b"


def texts(max_size: int = 60) -> st.SearchStrategy[str]:
    """Text a person or an attacker might type: any character but a lone surrogate."""
    return st.text(st.one_of(st.sampled_from(HOSTILE), st.characters(blacklist_categories=("Cs",)),
                             st.sampled_from("éßλ∑漢字😀ﷺ")), max_size=max_size)


#: Hyperparameter names: valid ones (every suffix SymPy reads as an accent or a font among
#: them), and text that is not a name.
NAMES = st.one_of(st.from_regex(r"[A-Za-z][A-Za-z0-9]{0,31}", fullmatch=True),
                  st.sampled_from(sorted(modifier_dict)).map(lambda s: "x" + s),
                  st.sampled_from(["lambda1", "rho", "xscr", "exec", "hat", "bold", "dot", "mathring"]),
                  texts(12))
SMALL = st.one_of(st.integers(-9, 9).map(str), st.sampled_from(["0.5", "-0.25", '"1/3"', '"-2/7"', "1.125"]))
NONZERO = st.sampled_from(["0.5", "-0.25", '"1/3"', "2", "-3", "0.9", "1.5"])


def _search(name: str) -> str:
    return (f'kind = "search"\n[problem.grid]\nepochs_per_combination = 3\nminutes_per_epoch = "5/2"\n'
            f'[[problem.grid.hyperparameter]]\nname = {toml_string(name)}\nvalues = 4\n'
            '[problem.random]\nsuccess_rate = 0.1\nconfidence = [0.9]\n')


def _conv(entries: list[str], size: int) -> str:
    rows = [entries[i * size:(i + 1) * size] for i in range(size)]
    matrix = "[" + ", ".join("[" + ", ".join(r) + "]" for r in rows) + "]"
    return f'kind = "conv"\n[[problem.size]]\ninput = [9, 7, 2]\nkernel = 3\n[problem.apply]\ninput = {matrix}\n' \
           'kernel = [[1, "1/2"], [0, -1]]\n'


def _gradflow(local: list[str]) -> str:
    return (f'kind = "gradflow"\n[problem.chain]\nupstream = 0.5\nlocal = [{", ".join(local)}]\n'
            '[problem.residual]\nupstream = 0.5\n[problem.depths]\nupstream = 1\nlocal = 0.5\n'
            'plain = [1, 2, 3]\nresidual = [2]\nblock = 2\n')


PROBLEMS = st.one_of(NAMES.map(_search),
                     st.integers(2, 3).flatmap(lambda n: st.lists(SMALL, min_size=n * n, max_size=n * n)
                                               .map(lambda e: _conv(e, n))),
                     st.lists(NONZERO, min_size=1, max_size=4).map(_gradflow))


def sheets(text: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    """A spec: a title and an author from ``text``, one to three problems with titles too."""
    problem = st.tuples(text, PROBLEMS).map(lambda tp: f"[[problem]]\ntitle = {toml_string(tp[0])}\n{tp[1]}")
    return st.builds(lambda title, author, problems: (f"[sheet]\nname = \"fuzz\"\ntitle = {toml_string(title)}\n"
                                                      f"author = {toml_string(author)}\n" + "".join(problems)),
                     text, text, st.lists(problem, min_size=1, max_size=3))


@settings(max_examples=25, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
@given(sheets(texts(max_size=250)))
def test_any_text_gives_a_sheet_or_one_line(spec_text):
    with built(spec_text) as result:
        check_answer(*result)


@NEED_TEX
@settings(max_examples=4, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
@given(sheets(texts(max_size=60)).filter(lambda s: "name = \"" in s))
def test_any_text_typesets(spec_text):
    """Valid specs (text within bounds) with hostile text: TeX builds the PDF."""
    with built(spec_text) as (status, err, out, _):
        with built(spec_text, pdf_too=True) as (typeset, tex_err, typeset_out, seconds):
            if status == 0:
                assert typeset == 0, tex_err
                assert list(typeset_out.glob("*.pdf")), "no PDF"
            else:
                assert typeset == 2 and tex_err.strip() == err.strip()
