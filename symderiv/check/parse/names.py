"""Names as the sheet prints them: find a quantity's spellings in an answer and mark them.

A sheet prints ``dL_da2`` as ``\\frac{\\partial L}{\\partial \\mathbf{a}^{(2)}}``, ``y_hat``
as ``\\hat{y}`` and ``g`` as ``\\frac{\\partial L}{\\partial z_n}`` (the problem's
*notation*), and students copy what they see. :func:`mark_names` finds such spellings in
an answer and replaces each by a marker the readers turn into the quantity itself.

Spellings are compared token by token (a command, one letter or digit, one other
character), ignoring what only changes the look: braces, spacing and sizing commands,
``\\mathbf``/``\\boldsymbol`` and the text-font commands. So
``\\frac{\\partial L}{\\partial a^{(2)}}`` matches the sheet's bold spelling, and
``\\text{ReLU}'(a^{(2)})`` matches ``\\operatorname{ReLU}'(\\mathbf{a}^{(2)})``. A spelling
that begins or ends with a letter or digit only matches as a whole word (``a2`` is not
found inside ``dL_da2``); at each place the longest spelling wins. The braces dropped
with a match must balance, so a match never breaks the grouping around it.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache

from symderiv.check.parse.source import SourceText

_TOKEN = re.compile(r"\\[A-Za-z]+|\\.|[A-Za-z0-9_]|\S", re.ASCII)
_WORD_CHAR = re.compile(r"[A-Za-z0-9_]", re.ASCII)
TRANSPARENT = frozenset({
    "{", "}", r"\mathbf", r"\boldsymbol", r"\bm", r"\mathrm", r"\mathit", r"\mathsf", r"\operatorname",
    r"\text", r"\textrm", r"\textbf", r"\textit", r"\mbox", r"\vec", r"\left", r"\right", r"\big", r"\Big",
    r"\bigl", r"\bigr", r"\Bigl", r"\Bigr", r"\,", r"\;", r"\:", r"\!", "\\ ", "~", r"\displaystyle",
})
"""Tokens that change how a name looks, not which name it is."""
SAME = {r"\dfrac": r"\frac", r"\tfrac": r"\frac"}


def spelling(text: str) -> tuple[str, ...]:
    """The tokens of a spelling that decide which name it is."""
    tokens = (SAME.get(m.group(), m.group()) for m in _TOKEN.finditer(text))
    return tuple(t for t in tokens if t not in TRANSPARENT)


@dataclass(frozen=True)
class Names:
    """Spellings (token tuples) of names, longest first."""

    spellings: tuple[tuple[tuple[str, ...], str], ...]

    def starting(self, token: str) -> list[tuple[tuple[str, ...], str]]:
        """The spellings that begin with ``token``, longest first."""
        return _index(self).get(token, [])

    @classmethod
    def of(cls, spelled: Mapping[str, Iterable[str]]) -> Names:
        """From ``{name: [spelling, ...]}``; empty spellings are dropped."""
        pairs = {spelling(text): name for name, texts in spelled.items() for text in texts}
        ordered = sorted(((k, v) for k, v in pairs.items() if k), key=lambda item: (-len(item[0]), item[0]))
        return cls(tuple(ordered))

    def __bool__(self) -> bool:
        return bool(self.spellings)


@dataclass(frozen=True)
class _Token:
    text: str
    start: int
    end: int

    @property
    def wordlike(self) -> bool:
        return bool(_WORD_CHAR.fullmatch(self.text))


def mark_names(source: SourceText, names: Names, marker: Callable[[str], str]) -> SourceText:
    """``source`` with every spelling of a name replaced by ``marker(name)``."""
    if not names:
        return source
    tokens = [_Token(SAME.get(m.group(), m.group()), m.start(), m.end()) for m in _TOKEN.finditer(source.text)]
    kept = [i for i, t in enumerate(tokens) if t.text not in TRANSPARENT]
    edits, position = [], 0
    while position < len(kept):
        found = _match_at(tokens, kept, position, names)
        if found is None:
            position += 1
            continue
        length, name, (first, last) = found
        edits.append((tokens[first].start, tokens[last].end, marker(name)))
        position += length
    return source.edit(edits)


@lru_cache(maxsize=64)
def _index(names: Names) -> dict[str, list[tuple[tuple[str, ...], str]]]:
    index: dict[str, list[tuple[tuple[str, ...], str]]] = {}
    for spelled, name in names.spellings:
        index.setdefault(spelled[0], []).append((spelled, name))
    return index


def _match_at(tokens: list[_Token], kept: list[int], position: int,
              names: Names) -> tuple[int, str, tuple[int, int]] | None:
    for spelled, name in names.starting(tokens[kept[position]].text):
        end = position + len(spelled)
        if end > len(kept) or any(tokens[kept[position + i]].text != t for i, t in enumerate(spelled)):
            continue
        span = _balanced_span(tokens, kept[position], kept[end - 1])
        if span is not None and _bounded(tokens, kept[position], kept[end - 1]):
            return len(spelled), name, span
    return None


def _bounded(tokens: list[_Token], first: int, last: int) -> bool:
    """A spelling that starts (ends) with a letter or digit must not continue a word."""
    before = tokens[first - 1] if first > 0 else None
    after = tokens[last + 1] if last + 1 < len(tokens) else None
    if tokens[first].wordlike and before is not None and before.wordlike and before.end == tokens[first].start:
        return False
    return not (tokens[last].wordlike and after is not None and after.wordlike and after.start == tokens[last].end)


def _balanced_span(tokens: list[_Token], first: int, last: int) -> tuple[int, int] | None:
    """The span from ``first`` to ``last``, widened over the braces (and other look-only
    tokens) that close groups it opened or open groups it closes; None if they do not balance."""
    net = sum((t.text == "{") - (t.text == "}") for t in tokens[first:last + 1])
    while net > 0 and last + 1 < len(tokens) and tokens[last + 1].text in TRANSPARENT:
        last += 1
        net += (tokens[last].text == "{") - (tokens[last].text == "}")
    while net < 0 and first > 0 and tokens[first - 1].text in TRANSPARENT:
        first -= 1
        net += (tokens[first].text == "{") - (tokens[first].text == "}")
    if first > 0 and tokens[first].text == "{" and tokens[first - 1].text.startswith("\\") \
            and tokens[first - 1].text in TRANSPARENT:
        first -= 1  # the command whose argument the brace opened goes too: \text{ReLU}
    return (first, last) if net == 0 else None
