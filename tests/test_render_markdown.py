"""The Markdown sheet and the Jupyter displays: same structure as the typeset sheet, math in
``$``/``$$`` delimiters that pair up, spec text that cannot become markup or HTML."""
from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import pytest
import reference_mathjax

from symderiv.build import render_all
from symderiv.render.key import key_entries
from symderiv.render.markdown import markdown_of, render_handout_markdown, render_markdown
from symderiv.render.text import escape_md

ROOT = Path(__file__).resolve().parent.parent
HOSTILE = r"<script>alert(1)</script> *bold* [link](javascript:x) $\input{/etc/passwd}$ | # & ~~x~~ `code`"


@pytest.fixture(scope="module")
def markdown(homework1) -> str:
    return render_markdown(homework1)


def outside_math(text: str) -> str:
    """The Markdown with every ``$$`` block and ``$...$`` span removed (escaped ``\\$`` kept)."""
    text = re.sub(r"^\s*\$\$\n.*?\n\s*\$\$$", "", text, flags=re.S | re.M)
    return re.sub(r"(?<!\\)\$(?:[^$\\]|\\.)+?(?<!\\)\$", "", text)


def test_structure_follows_the_sheet(markdown, homework1):
    for p in homework1.problems:
        assert f"\n## Problem {p.number}: " in markdown
        for q in p.questions:
            assert f"\n### Q{q.id}. " in markdown, q.id
    assert markdown.count("**Conclusion.**") == sum(1 for p in homework1.problems for q in p.questions if q.answers)


def test_every_answer_is_listed_with_its_id_and_printed_value(markdown, homework1):
    key = key_entries(homework1)
    for a in homework1.answers():
        line = next(l for l in markdown.splitlines() if l.startswith(f"- `{a.id}`: "))
        assert key[a.id]["display"] in line


def test_math_delimiters_pair_up(markdown):
    blocks = [l for l in markdown.splitlines() if l.strip() == "$$"]
    assert len(blocks) % 2 == 0 and blocks
    assert "$" not in outside_math(markdown).replace(r"\$", "")


def test_steps_are_numbered_and_their_math_is_inside_the_item(markdown):
    for block in re.finditer(r"^( *)\$\$\n(.*?)\n *\$\$$", markdown, re.S | re.M):
        indent = block.group(1)
        assert all(line.startswith(indent) for line in block.group(2).splitlines())
        assert "\n\n" not in block.group(2)  # a blank line would end the math block


def hostile_sheet(homework1):
    p = homework1.problems[0]
    q = replace(p.questions[0], title=HOSTILE, prompt=("- " + HOSTILE,), notes=(HOSTILE,))
    return replace(homework1, title=HOSTILE, author=HOSTILE, problems=(replace(p, title=HOSTILE, questions=(q,)),))


def test_hostile_text_is_escaped_wherever_it_appears(homework1):
    md = render_markdown(hostile_sheet(homework1))
    safe = escape_md(HOSTILE)  # lossless and markup-free: tests/test_render_text.py
    for line in (f"# {safe}", f"*{safe}*", f"## Problem 1: {safe}", f"### Q1.1. {safe}", f"\\- {safe}",
                 f"*Note.* {safe}"):
        assert f"\n{line}\n" in f"\n{md}\n", line
    assert re.search(r"(?<!\\)(<script|\]\(javascript)", md) is None


def test_build_writes_markdown(tmp_path):
    files = render_all([ROOT / "derivations" / "homework1.toml"], {"md"})
    assert list(files) == ["homework1.md"] and files["homework1.md"].startswith("# ")


def test_figures_become_tables(markdown, homework1):
    captions = [f.caption for p in homework1.problems for q in p.questions for f in q.figures]
    assert markdown.count("*Figure: ") == len(captions)


def test_jupyter_markdown_is_the_markdown(homework1):
    assert homework1._repr_markdown_() == render_markdown(homework1)
    problem = homework1.problems[0]
    assert problem._repr_markdown_() == markdown_of(problem) and problem._repr_markdown_().startswith("## Problem")
    assert problem.questions[0]._repr_markdown_().startswith("### Q")


def jupyter_blocks(latex: str) -> list[str]:
    """The ``$$...$$`` blocks of a ``_repr_latex_``."""
    return re.findall(r"\$\$(.*?)\$\$", latex, re.S)


def test_jupyter_latex_is_one_math_block_per_question_with_every_answer(homework1):
    for item in (homework1, homework1.problems[0], homework1.problems[0].questions[-1]):
        latex = item._repr_latex_()
        blocks = jupyter_blocks(latex)
        assert latex.startswith("$$") and latex.endswith("$$") and len(unescaped_dollars(latex)) == 4 * len(blocks)
        for block in blocks:
            assert block.count(r"\begin{") == block.count(r"\end{")
            depth = 0
            for token in re.findall(r"\\.|[{}]", block):
                depth += {"{": 1, "}": -1}.get(token, 0)
                assert depth >= 0
            assert depth == 0
    assert len(jupyter_blocks(homework1.problems[0].questions[-1]._repr_latex_())) == 1
    latex = homework1._repr_latex_()
    for a in homework1.answers():
        assert r"\texttt{[" + a.id.replace("_", r"}\_\texttt{") + "]}" in latex


def test_jupyter_latex_of_hostile_text_is_inert(homework1):
    latex = hostile_sheet(homework1)._repr_latex_()
    assert r"\input" not in latex and "%" not in latex and "<" not in latex
    assert len(unescaped_dollars(latex)) == 4 * len(jupyter_blocks(latex))


def unescaped_dollars(text: str) -> list[str]:
    return re.findall(r"(?<!\\)\$", text)


# --- MathJax 3, the real renderer: every formula must typeset -------------------------

NEED_MATHJAX = pytest.mark.skipif(reference_mathjax.missing() is not None,
                                  reason=f"MathJax unavailable: {reference_mathjax.missing()}")


@NEED_MATHJAX
def test_every_formula_of_the_homework_markdown_typesets_in_mathjax(markdown, homework1):
    items = reference_mathjax.formulas(markdown) + [(b, True) for b in jupyter_blocks(homework1._repr_latex_())]
    items += reference_mathjax.formulas(render_handout_markdown(homework1))
    assert len(items) > 500
    assert reference_mathjax.typeset_errors(items) == []


@NEED_MATHJAX
def test_mathjax_oracle_catches_what_github_would_not_typeset():
    broken = "$$\nx &= 1\n$$\n\nand $\\frac{1}{$ and $\\undefinedmacro$"
    errors = reference_mathjax.typeset_errors(reference_mathjax.formulas(broken))
    assert [e.split()[0] for _, e in errors] == ["Misplaced", "Missing", "Undefined"]
