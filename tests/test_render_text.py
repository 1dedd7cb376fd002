"""Spec text is escaped: for LaTeX (no command can get through), Markdown and MathJax.

The LaTeX checks read the escaped text the way TeX's tokenizer would (control words,
control symbols, special characters) and check what TeX would see, rather than
comparing with our own escaping table. What the typeset text looks like is checked in
the PDF (tests/test_render_pdf.py).
"""
from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from symderiv.render.text import _char, escape, escape_mathjax, escape_md, paragraph_md

HOSTILE = [
    r"\input{/etc/passwd}", r"\write18{touch /tmp/pwned}", r"$\csname input\endcsname{/etc/passwd}$",
    r"}\end{document}", "100% of # & _ ~ ^", "^^5c^^5cinput{/etc/passwd}", "^^M^^J", r"\catcode`\^^5c=0",
    "a\nb\n\nc\t\x00\x1b[31m", "Łukasz ßa Ωmega Жук 中文 😀 €", "<script>alert(1)</script>", "--- ,, !` ?`",
    r"\def\x{\x}\x", "\\", "{", "}", "$$", "~~", "``''",
]

#: Every control word the escaper may produce: the text symbols it spells specials with,
#: and the accents, letters and math symbols latexcodec uses for non-ASCII characters.
ALLOWED_WORDS = {
    "textbackslash", "textasciicircum", "textasciitilde", "textless", "textgreater", "textbar",
    "textasciigrave", "H", "c", "k", "r", "u", "v", "b", "d", "t", "i", "j", "AA", "AE", "aa", "ae", "L", "l",
    "O", "o", "OE", "oe", "ss", "DH", "dh", "DJ", "dj", "TH", "th", "P", "S", "copyright", "dag", "ddag",
    "guillemotleft", "guillemotright", "ldots", "pounds", "textregistered", "neg", "quad", "hspace", "mathbb",
    "circ", "bullet", "cdot", "div", "ell", "geq", "leq", "infty", "pm", "times", "mu", "varphi", "rightarrow",
    "leftarrow", "Rightarrow", "Leftarrow", "Gamma", "Delta", "Theta", "Lambda", "Xi", "Pi", "Sigma",
    "Upsilon", "Phi", "Psi", "Omega", "alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta",
    "iota", "kappa", "lambda", "nu", "xi", "pi", "rho", "sigma", "tau", "upsilon", "phi", "chi", "psi", "omega",
    # math symbols the escaper spells itself (latexcodec has none for them)
    "odot", "otimes", "neq", "approx", "equiv", "in", "notin", "subset", "subseteq", "sum", "prod", "int",
    "partial", "nabla", "surd", "leftrightarrow", "Leftrightarrow", "forall", "exists", "wedge", "vee", "cap",
    "cup", "emptyset", "prime", "Vert", "lfloor", "rfloor", "lceil", "rceil", "langle", "rangle", "mp", "ll",
    "gg", "propto", "top", "mapsto",
}
#: Control symbols: escaped specials, and latexcodec's accents (\' \` \^ \" \~ \= \.) and \- .
ALLOWED_SYMBOLS = set("{}$&#_%") | set("'`^\"~=.-")


def tex_tokens(text: str) -> list[str]:
    """TeX's view of ``text`` with standard catcodes: ``\\word``, ``\\x``, or one character."""
    return re.findall(r"\\[A-Za-z]+|\\.|.", text, flags=re.S)


def check_tex_safe(text: str) -> None:
    escaped = escape(text)
    tokens = tex_tokens(escaped)
    words = {t[1:] for t in tokens if re.fullmatch(r"\\[A-Za-z]+", t)}
    symbols = {t[1:] for t in tokens if len(t) == 2 and t[0] == "\\" and not t[1].isalpha()}
    assert words <= ALLOWED_WORDS, (text, words - ALLOWED_WORDS)
    assert symbols <= ALLOWED_SYMBOLS, (text, symbols - ALLOWED_SYMBOLS)
    bare = [t for t in tokens if len(t) == 1]
    in_text = "".join(bare).split("$")[::2]  # outside latexcodec's $\alpha$, $^1$
    # % (comment), # (parameter), & (alignment), and ^ _ outside math: never bare; ^^ nowhere.
    assert not {"%", "#", "&", "\\"} & set(bare), (text, escaped)
    assert not set("^_") & set("".join(in_text)) and "^^" not in escaped, (text, escaped)
    assert all(ch.isprintable() and ch.isascii() for ch in escaped), (text, escaped)
    depth = 0
    for t in bare:  # groups balance, so no text can close an argument it sits in
        depth += {"{": 1, "}": -1}.get(t, 0)
        assert depth >= 0, (text, escaped)
    assert depth == 0
    assert bare.count("$") % 2 == 0  # latexcodec's $\alpha$: math opened is closed


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_text_reaches_tex_as_text_only(text):
    check_tex_safe(text)


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_any_text_reaches_tex_as_text_only(text):
    check_tex_safe(text)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(max_codepoint=300)) | st.text())
def test_escape_is_the_character_rule_applied_to_every_character(text):
    # escape finds the characters to change with a regular expression; it must agree with
    # the rule applied character by character (each with the one that follows it).
    assert escape(text) == "".join(_char(ch, text[i + 1:i + 2]) for i, ch in enumerate(text))


def test_caret_notation_cannot_spell_a_backslash():
    assert "^^" not in escape("^^5c^^5c") and "^" not in escape("^^5c").replace(r"\textasciicircum", "")


def test_command_names_are_closed_before_following_letters():
    # \ss followed by "a" must not become \ssa (undefined: TeX would stop).
    assert tex_tokens(escape("ßa"))[:1] == [r"\ss"] and "ssa" not in escape("ßa")


def test_dash_and_quote_ligatures_are_kept_apart():
    assert escape("a--b") != "a--b" and escape(",,") != ",,"


def test_unknown_unicode_is_a_visible_placeholder():
    assert escape("中") == "?" and escape("Ж") == "?"


def test_math_symbols_in_prose_typeset():
    """⊙ and friends (latexcodec has no spelling for them) print as math, never as "?"."""
    for ch in "⊙⊗∘≠≈∈∑∂∇⌊⌋⌈⌉₁":
        assert "?" not in escape(ch) and escape(ch).startswith("$"), ch


def md_unescape(text: str) -> str:
    """CommonMark's backslash escapes undone (any ASCII punctuation may be escaped)."""
    return re.sub(r"\\([!-/:-@\[-`{-~])", r"\1", text)


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_markdown_escaping_is_lossless_and_leaves_no_markup(text):
    escaped = escape_md(text)
    expected = "".join(" " if ch in "\n\t" else ch for ch in text
                       if not (ord(ch) < 32 or 127 <= ord(ch) < 160) or ch in "\n\t")
    assert md_unescape(escaped) == expected
    unescaped_specials = re.findall(r"(?<!\\)(?:\\\\)*[`*_\[\]<>#|$~&]", escaped)
    assert not unescaped_specials, (text, escaped)


@pytest.mark.parametrize("text, start", [("- item", r"\-"), ("+ item", r"\+"), ("1. one", r"1\."),
                                         ("12) twelve", r"12\)"), ("   - x", r"\-"), ("=== x", r"\=")])
def test_a_paragraph_cannot_start_a_list_or_code_block(text, start):
    assert paragraph_md(escape_md(text)).startswith(start)


def test_markdown_has_no_raw_html():
    out = escape_md("<script>alert(1)</script> &lt; <img src=x onerror=y>")
    assert re.search(r"(?<!\\)<", out) is None and re.search(r"(?<!\\)&", out) is None


@pytest.mark.parametrize("text", HOSTILE)
def test_mathjax_text_has_no_active_characters(text):
    out = escape_mathjax(text)
    runs = re.findall(r"\\text\{([^{}]*)\}", out)
    rest = re.sub(r"\\text\{[^{}]*\}", "", out)
    for run in runs:  # inside \text: letters, digits, plain punctuation, non-ASCII only
        assert not set(run) & set("\\{}$%&#_^~<>|`"), (text, run)
    for token in tex_tokens(rest):  # outside: only the math spellings of the specials
        assert token in {r"\backslash", r"\{", r"\}", r"\$", r"\%", r"\&", r"\#", r"\_", r"\hat", "{",
                         r"\ ", "}", r"\sim", r"\lt", r"\gt", r"\vert", r"\grave", " "}, (text, token)
