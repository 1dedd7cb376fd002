"""Tokens of the LaTeX reader: numbers, letters, known words, commands and characters.

Spacing and sizing commands (``\\left``, ``\\,``, ``\\displaystyle``) are dropped
here, so the parser never sees them.  A run of letters is a product of one-letter
symbols (``lr`` is ``l*r``) except whole known words: function names (``max``,
``log``...) and Greek names (``alpha``...).
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from symderiv.check.parse.errors import unparseable_at
from symderiv.check.parse.functions import FUNCTIONS
from symderiv.check.parse.source import SourceText

GREEK = frozenset({
    "alpha", "beta", "gamma", "delta", "epsilon", "varepsilon", "zeta", "eta", "theta",
    "vartheta", "iota", "kappa", "lambda", "mu", "nu", "xi", "pi", "rho", "varrho", "sigma",
    "varsigma", "tau", "upsilon", "phi", "varphi", "chi", "psi", "omega", "Gamma", "Delta",
    "Theta", "Lambda", "Xi", "Pi", "Sigma", "Upsilon", "Phi", "Psi", "Omega",
})
WORDS = frozenset(FUNCTIONS) | GREEK
"""Letter runs read as one word even without a backslash."""

_IGNORED_COMMANDS = frozenset({
    "left", "right", "big", "Big", "bigg", "Bigg", "bigl", "bigr", "Bigl", "Bigr",
    "biggl", "biggr", "Biggl", "Biggr", ",", ";", ":", "!", " ", "quad", "qquad",
    "displaystyle", "textstyle", "mathbf", "boldsymbol", "bm", "vec",
})
_LATEX_LEXEME = re.compile(r"""
    (?P<space>\s+|~)
  | (?P<num>\d+(?:\.\d+)?|\.\d+)
  | (?P<word>[A-Za-z]+)
  | \\(?P<env>begin|end)\s*\{\s*(?P<envname>[A-Za-z]+\*?)\s*\}
  | \\(?:text|textrm|mathrm|mathit|operatorname|mbox|mathbf|boldsymbol|bm|mathsf|vec)
      \s*\{\s*(?P<text>[A-Za-z][A-Za-z0-9_]*)\s*\}
  | \\(?P<cmd>[A-Za-z]+|.)
  | (?P<char>[-+*/^_()\[\]{}&,|'])
""", re.VERBOSE | re.DOTALL | re.ASCII)


@dataclass(frozen=True)
class Token:
    """One LaTeX token: kind is num, letter, word, text, cmd, begin, end, char or eof.

    ``pos`` is the offset in the text the lexer read (see :meth:`SourceText.origin`
    for the offset in the answer as typed).
    """

    kind: str
    text: str
    pos: int


def latex_tokens(source: SourceText) -> list[Token]:
    """Split LaTeX into tokens, dropping spacing and sizing commands (``\\left``, ``\\,``)."""
    text = source.text
    tokens: list[Token] = []
    pos = 0
    while pos < len(text):
        match = _LATEX_LEXEME.match(text, pos)
        if match is None:
            raise unparseable_at(source.origin(pos), f"unexpected character {text[pos]!r}")
        tokens.extend(_tokens_of(match))
        pos = match.end()
    tokens.append(Token("eof", "", len(text)))
    return tokens


def _tokens_of(match: re.Match[str]) -> list[Token]:
    kind, pos = match.lastgroup or "char", match.start()
    if kind == "word":
        return word_tokens(match.group("word"), pos)
    if kind == "envname":  # \begin{...} or \end{...}
        return [Token(match.group("env"), match.group("envname"), pos)]
    if kind == "space" or (kind == "cmd" and match.group("cmd") in _IGNORED_COMMANDS):
        return []
    return [Token(kind, match.group(kind), pos)]


def word_tokens(word: str, pos: int) -> list[Token]:
    """A known word (``max``, ``alpha``) stays whole; other runs are single letters."""
    if word in WORDS:
        return [Token("word", word, pos)]
    return [Token("letter", char, pos + offset) for offset, char in enumerate(word)]


def describe(token: Token) -> str:
    """A token as a student would recognise it in a message."""
    if token.kind == "eof":
        return "the end of the answer"
    if token.kind == "cmd":
        return f"\\{token.text}"
    if token.kind in ("begin", "end"):
        return f"\\{token.kind}{{{token.text}}}"
    return repr(token.text)
