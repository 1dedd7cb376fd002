"""Text clean-up before either reader runs: syntax choice, Unicode, bounds on the raw text.

Students paste Greek letters, ``×``, ``−`` and ``⌊⌋`` from their notes; those are
spelled in ASCII here, and every other character outside printable ASCII is
refused, so that neither reader ever sees look-alike characters or control codes.
The length and the bracket depth are checked on the raw text, before any
parser could recurse on it.
"""
from __future__ import annotations

from typing import Literal

from symderiv.check.parse.errors import too_large, unparseable_at
from symderiv.check.parse.limits import Limits
from symderiv.check.parse.source import SourceText

Syntax = Literal["auto", "plain", "latex"]

GREEK_UNICODE = {
    "α": "alpha", "β": "beta", "γ": "gamma", "δ": "delta", "ε": "epsilon",
    "ζ": "zeta", "η": "eta", "θ": "theta", "κ": "kappa", "λ": "lambda", "μ": "mu",
    "ν": "nu", "ξ": "xi", "π": "pi", "ρ": "rho", "σ": "sigma", "τ": "tau",
    "φ": "phi", "χ": "chi", "ψ": "psi", "ω": "omega", "Δ": "Delta", "Σ": "Sigma",
}
SYMBOL_UNICODE = {  # character: (plain spelling, LaTeX spelling)
    "−": ("-", "-"), "×": ("*", "\\times "), "·": ("*", "\\cdot "), "⋅": ("*", "\\cdot "),
    "÷": ("/", "\\div "), "∞": (" oo ", "\\infty "), "²": ("^2", "^2"), "³": ("^3", "^3"),
    "⌊": (" floor(", "\\lfloor "), "⌋": (")", "\\rfloor "),
    "⌈": (" ceiling(", "\\lceil "), "⌉": (")", "\\rceil "),
    "⊙": (" \\odot ", "\\odot "), "∘": (" \\odot ", "\\circ "), "⊤": ("**T", "^{\\top}"), "′": ("'", "'"),
    "\u2009": (" ", "\\,"), "\u202f": (" ", "\\,"), "\u00a0": (" ", "~"),
}
SPELLINGS: dict[str, dict[str, str]] = {
    "plain": {**{k: f" {v} " for k, v in GREEK_UNICODE.items()},
              **{k: v[0] for k, v in SYMBOL_UNICODE.items()}},
    "latex": {**{k: f"\\{v} " for k, v in GREEK_UNICODE.items()},
              **{k: v[1] for k, v in SYMBOL_UNICODE.items()}},
}
"""ASCII spellings of the Unicode a student may type, for each reader."""


def choose_syntax(text: str) -> Syntax:
    """LaTeX needs a backslash, braces, ``&``, ``$`` or ``|``; plain math never uses them.

    (``|x|`` goes to the LaTeX reader because Python's ``|`` means something else.)
    """
    return "latex" if any(c in text for c in "\\{}&$|") else "plain"


def checked_text(text: str | SourceText, syntax: Syntax, limits: Limits) -> SourceText:
    """The raw answer held to the length bound, cleaned, then held to the depth bound."""
    length = len(text.text if isinstance(text, SourceText) else text)
    if length > limits.length:
        raise too_large(f"the answer has {length} characters; the limit is {limits.length}")
    source = clean_characters(text, syntax)
    depth = bracket_depth(source.text)
    if depth > limits.depth:
        raise too_large(f"brackets are nested {depth} deep; the limit is {limits.depth}")
    return source


def clean_characters(text: str | SourceText, syntax: Syntax) -> SourceText:
    """Spell common Unicode math (Greek letters, ×, −, ⌊⌋) in ASCII, refuse the rest.

    Only printable ASCII and ordinary whitespace remain afterwards.  Characters
    are checked before they are spelled out, so a refused one is reported where
    the student typed it.
    """
    spellings = SPELLINGS["plain" if syntax == "plain" else "latex"]
    source = text if isinstance(text, SourceText) else SourceText.of(text)
    for index, char in enumerate(source.text):
        if not (" " <= char <= "~" or char in "\t\n\r" or char in spellings):
            raise unparseable_at(source.origin(index), repr(char), " is not allowed")
    return source.translate(spellings)


def bracket_depth(text: str) -> int:
    """Deepest nesting of ( [ { in the raw text, measured before any parser runs."""
    depth = deepest = 0
    for char in text:
        if char in "([{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in ")]}":
            depth = max(depth - 1, 0)
    return deepest
