"""Plain text into LaTeX, safely: every character of spec text is printed literally.

latexcodec turns non-ASCII characters into LaTeX (é -> \\'e) but passes ``\\ { } $ ^``
through untouched, so a title like ``\\input{/etc/passwd}`` would survive it. We
escape every ASCII special ourselves and give latexcodec single non-ASCII characters
only; control characters are dropped.
"""
from __future__ import annotations

import codecs
from typing import Callable

import latexcodec  # noqa: F401  (registers the "ulatex" codec)
import sympy as sp

_SPECIAL = {
    "\\": r"\textbackslash{}", "{": r"\{", "}": r"\}", "$": r"\$", "&": r"\&", "#": r"\#",
    "^": r"\textasciicircum{}", "_": r"\_", "%": r"\%", "~": r"\textasciitilde{}",
    "<": r"\textless{}", ">": r"\textgreater{}", "|": r"\textbar{}",
}


def _char(ch: str) -> str:
    if ch in _SPECIAL:
        return _SPECIAL[ch]
    if ch in "\n\t":
        return " "
    if ord(ch) < 32 or ord(ch) == 127:
        return ""
    if ord(ch) < 128:
        return ch
    try:
        encoded = codecs.encode(ch, "ulatex")
    except (UnicodeEncodeError, LookupError):
        return "?"  # no LaTeX spelling known: a visible placeholder, never raw bytes
    return encoded if encoded.isascii() else "?"


def escape(text: str) -> str:
    """``text`` as LaTeX that typesets exactly these characters and does nothing else."""
    return "".join(_char(ch) for ch in text)


def prose(parts, math: Callable[[sp.Basic], str], text: Callable[[str], str] = escape) -> str:
    """Render prose: strings through ``text``, SymPy objects through ``math``."""
    if isinstance(parts, str):
        return text(parts)
    return "".join(text(p) if isinstance(p, str) else math(p) for p in parts)
