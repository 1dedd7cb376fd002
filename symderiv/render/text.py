"""Plain text into LaTeX (and Markdown, and MathJax), safely: spec text prints literally.

latexcodec turns non-ASCII characters into LaTeX (é -> \\'e) but passes ``\\ { } $ ^``
through untouched, so a title like ``\\input{/etc/passwd}`` would survive it. We
escape every ASCII special ourselves (``^`` too: TeX reads ``^^5c`` as a backslash)
and give latexcodec single non-ASCII characters only, keeping its answer only when
every command in it is one our preamble defines; control characters are dropped.
"""
from __future__ import annotations

import codecs
import re
from collections.abc import Callable

import latexcodec  # noqa: F401  (registers the "ulatex" codec)
import sympy as sp

_SPECIAL = {
    "\\": r"\textbackslash{}", "{": r"\{", "}": r"\}", "$": r"\$", "&": r"\&", "#": r"\#",
    "^": r"\textasciicircum{}", "_": r"\_", "%": r"\%", "~": r"\textasciitilde{}",
    "<": r"\textless{}", ">": r"\textgreater{}", "|": r"\textbar{}", "`": r"\textasciigrave{}",
}

#: Characters that form a ligature with a repeat of themselves (``--`` is a dash, ``,,``
#: a low quote in T1): an empty group between them keeps both characters.
_LIGATURE = "-,"

#: Commands latexcodec may emit that our preamble (T1 fonts, amssymb) defines. Anything
#: else (``\\Alpha``, ``\\yen``, ``\\textcommabelow``) would stop TeX: those print as ``?``.
_KNOWN = frozenset(
    "\" ' . = ^ ` ~ - H c k r u v b d t i j AA AE aa ae L l O o OE oe ss DH dh DJ dj TH th "
    "P S copyright dag ddag guillemotleft guillemotright ldots pounds textregistered neg "
    "quad hspace mathbb circ bullet cdot div ell geq leq infty pm times mu varphi "
    "rightarrow leftarrow Rightarrow Leftarrow Gamma Delta Theta Lambda Xi Pi Sigma Upsilon "
    "Phi Psi Omega alpha beta gamma delta epsilon zeta eta theta iota kappa lambda nu xi pi "
    "rho sigma tau upsilon phi chi psi omega".split())

_COMMAND = re.compile(r"\\([A-Za-z]+|.)")

#: Math symbols latexcodec has no spelling for, as amssymb math in ``$...$`` (as latexcodec
#: spells ``×``): prose may write ``window ⊙ kernel`` or ``x ≠ 0``.
_MATH_CHARS = {
    "⊙": r"\odot", "⊗": r"\otimes", "∘": r"\circ", "≠": r"\neq", "≈": r"\approx", "≡": r"\equiv",
    "∈": r"\in", "∉": r"\notin", "⊂": r"\subset", "⊆": r"\subseteq", "∑": r"\sum", "∏": r"\prod",
    "∫": r"\int", "∂": r"\partial", "∇": r"\nabla", "√": r"\surd", "↔": r"\leftrightarrow",
    "⇔": r"\Leftrightarrow", "∀": r"\forall", "∃": r"\exists", "∧": r"\wedge", "∨": r"\vee",
    "∩": r"\cap", "∪": r"\cup", "∅": r"\emptyset", "′": r"\prime", "‖": r"\Vert", "⌊": r"\lfloor",
    "⌋": r"\rfloor", "⌈": r"\lceil", "⌉": r"\rceil", "⟨": r"\langle", "⟩": r"\rangle", "∓": r"\mp",
    "≪": r"\ll", "≫": r"\gg", "∝": r"\propto", "⊤": r"\top", "↦": r"\mapsto",
    **{chr(0x2080 + d): f"_{d}" for d in range(10)},
}


def _unicode(ch: str) -> str:
    """latexcodec's spelling of one non-ASCII character (or ours, for math symbols it does not
    know), or ``?`` when neither has one we trust."""
    if ch in _MATH_CHARS:
        return f"${_MATH_CHARS[ch]}$"
    try:
        encoded = str(codecs.encode(ch, "ulatex"))  # the "ulatex" codec encodes str to str
    except (UnicodeEncodeError, LookupError):
        return "?"  # no LaTeX spelling known: a visible placeholder, never raw bytes
    if not encoded.isascii() or any(name not in _KNOWN for name in _COMMAND.findall(encoded)):
        return "?"
    # ``\ss`` followed by the next character's letters would be another command: end it.
    return encoded + "{}" if re.search(r"\\[A-Za-z]+$", encoded) else encoded


def _char(ch: str, following: str) -> str:
    if ch in _SPECIAL:
        return _SPECIAL[ch]
    if ch in _LIGATURE and following == ch:
        return ch + "{}"
    if ch in "\n\t":
        return " "
    if ord(ch) < 32 or ord(ch) == 127:
        return ""
    if ord(ch) < 128:
        return ch
    return _unicode(ch)


#: Where :func:`_char` changes anything: a special, a control or non-ASCII character, or
#: a ligature character before its repeat. Every other character stands for itself.
_NEEDS_CHAR = re.compile("[" + re.escape("".join(_SPECIAL)) + "\x00-\x1f\x7f-\U0010ffff]|([" +
                         re.escape(_LIGATURE) + "])(?=\\1)")


def escape(text: str) -> str:
    """``text`` as LaTeX that typesets exactly these characters and does nothing else.

    Each character goes through :func:`_char`; a regular expression finds the few that
    need it, so the plain runs of a sheet's prose are copied instead of rebuilt.

    >>> escape(r"\\input{x} ^^5c 100%")
    '\\\\textbackslash{}input\\\\{x\\\\} \\\\textasciicircum{}\\\\textasciicircum{}5c 100\\\\%'
    """
    return _NEEDS_CHAR.sub(lambda m: _char(m.group(0), text[m.end():m.end() + 1]), text)


#: Markdown's markup characters, backslash-escaped wherever they appear (CommonMark lets
#: any ASCII punctuation be escaped). ``<`` and ``&`` too: no raw HTML, no entities.
_MARKDOWN = frozenset("\\`*_[]<>#|$~&")

#: Characters that start a block (list, heading underline) at the start of a paragraph.
_BLOCK_START = re.compile(r"^([-+=]|\d+(?=[.)]))")


#: escape_md in one ``str.translate`` pass: tab and newline become spaces, the other
#: control characters are dropped, markup characters get a backslash.
_MD_TABLE = {**dict.fromkeys((*range(32), *range(127, 160))), ord("\n"): " ", ord("\t"): " ",
             **{ord(ch): "\\" + ch for ch in _MARKDOWN}}


def escape_md(text: str) -> str:
    """``text`` as inline Markdown that shows exactly these characters: no markup, no HTML,
    no math (:func:`paragraph_md` also guards the start of a paragraph).

    >>> escape_md("<b>*x*</b> $5")
    '\\\\<b\\\\>\\\\*x\\\\*\\\\</b\\\\> \\\\$5'
    """
    return text.translate(_MD_TABLE)


def paragraph_md(text: str) -> str:
    """A Markdown paragraph that cannot turn into a list, a rule or a code block: no
    leading spaces, and a leading ``-``, ``+``, ``=`` or ``1.`` escaped."""
    return _BLOCK_START.sub(lambda m: m.group(0) + "\\" if m.group(0).isdigit() else "\\" + m.group(0),
                            text.lstrip())


#: Inside MathJax's ``\text{}`` only these are safe as they are; every other ASCII
#: character is spelled as math (``$`` would open math, ``%`` a comment, ``&`` a column).
_MATHJAX_SAFE = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 .,;:!?'\"()[]/-+=*@")
_MATHJAX = {
    "\\": r"\backslash ", "{": r"\{", "}": r"\}", "$": r"\$", "%": r"\%", "&": r"\&", "#": r"\#",
    "_": r"\_", "^": r"\hat{\ }", "~": r"\sim ", "<": r"\lt ", ">": r"\gt ", "|": r"\vert ",
    "`": r"\grave{\ }",
}


def escape_mathjax(text: str, style: str = "text") -> str:
    """``text`` for math mode in MathJax (Jupyter): runs of safe characters in ``\\text{}``
    (or ``\\textbf{}``, ``\\texttt{}``), everything else spelled as a math symbol."""
    out, run = [], []
    for ch in text.replace("\n", " ").replace("\t", " "):
        if ch in _MATHJAX_SAFE or (ord(ch) >= 160 and ch.isprintable()):
            run.append(ch)
        elif ch in _MATHJAX:
            out += [f"\\{style}{{{''.join(run)}}}" if run else "", _MATHJAX[ch]]
            run = []
    if run:
        out.append(f"\\{style}{{{''.join(run)}}}")
    return "".join(out)


def prose(parts, math: Callable[[sp.Basic], str], text: Callable[[str], str] = escape) -> str:
    """Render prose: strings through ``text``, SymPy objects through ``math``."""
    if isinstance(parts, str):
        return text(parts)
    return "".join(text(p) if isinstance(p, str) else math(p) for p in parts)
