"""symderiv.check.verdicts: one list of verdicts for the parser, the comparison and grading."""
from __future__ import annotations

import typing

from symderiv.check import equivalence, grade
from symderiv.check.parse import ParseError
from symderiv.check.verdicts import VERDICTS, ParseVerdict, Verdict


def test_every_verdict_in_order() -> None:
    assert VERDICTS == ("correct", "carried_forward", "incorrect", "unparseable", "too_large", "not_finite",
                        "wrong_shape", "missing", "unknown_id", "not_gradable")
    assert VERDICTS == typing.get_args(Verdict)


def test_parse_verdicts_are_verdicts() -> None:
    assert set(typing.get_args(ParseVerdict)) <= set(VERDICTS)


def test_the_checking_modules_share_the_one_type() -> None:
    assert grade.VERDICTS is VERDICTS
    assert typing.get_type_hints(equivalence.Result)["verdict"] == Verdict
    assert typing.get_type_hints(grade.Graded)["verdict"] == Verdict
    assert typing.get_type_hints(ParseError.__init__)["verdict"] == ParseVerdict
