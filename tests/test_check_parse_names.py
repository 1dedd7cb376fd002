"""symderiv.check.parse.names: the sheet's spellings of names, found in answers."""
from __future__ import annotations

import pytest

from symderiv.check.parse.names import Names, mark_names, spelling
from symderiv.check.parse.source import SourceText

NOTATION = Names.of({
    "dL_da2": [r"\frac{\partial L}{\partial \mathbf{a}^{(2)}}"],
    "a2": [r"\mathbf{a}^{(2)}", "a2"],
    "y_hat": [r"\hat{y}"],
    "relu'(a2)": [r"\operatorname{ReLU}'(\mathbf{a}^{(2)})"],
})


def marked(text: str) -> str:
    return mark_names(SourceText.of(text), NOTATION, lambda name: f"<{name}>").text


def test_spellings_ignore_what_only_changes_the_look() -> None:
    assert spelling(r"\frac{\partial L}{\partial \mathbf{a}^{(2)}}") == spelling(
        r"\dfrac{\partial L} {\partial {a}^{(2)}}")
    assert spelling(r"\text{ReLU}'(a^{(2)})") == spelling(r"\operatorname{ReLU}'(\mathbf{a}^{(2)})")
    assert spelling(r"\left( x \right)") == spelling("(x)")


@pytest.mark.parametrize("text, expected", [
    (r"\frac{\partial L}{\partial \mathbf{a}^{(2)}}", "<dL_da2>"),
    (r"\frac{\partial L}{\partial a^{(2)}} z", "<dL_da2> z"),          # not bold: the same name
    (r"2 \hat{y}", "2 <y_hat>"),
    (r"\text{ReLU}'(a^{(2)})", "<relu'(a2)>"),
    (r"{\mathbf{a}^{(2)}}^{\top}", "{\\mathbf{<a2>}}^{\\top}"),           # the braces around stay balanced
    ("dL_da2", "dL_da2"),                                                # a2 is not found inside a word
    ("a2 + a22", "<a2> + a22"),
    (r"\hat{y}_1", "<y_hat>_1"),
])
def test_names_are_marked_where_spelled(text: str, expected: str) -> None:
    assert marked(text) == expected


def test_the_longest_spelling_wins_and_offsets_follow() -> None:
    source = mark_names(SourceText.of(r"x + \hat{y}"), NOTATION, lambda name: "Q")
    assert source.text == "x + Q"
    assert source.origin(4) == 4        # the marker stands where the spelling began


def test_no_names_no_change() -> None:
    source = SourceText.of(r"\frac{1}{2}")
    assert mark_names(source, Names.of({}), str) is source
