"""symderiv: derivations done by a computer algebra system, shown step by step.

>>> import symderiv
>>> sheet = symderiv.derive_file("derivations/homework1.toml")   # doctest: +SKIP
>>> sheet.answer("1.1.y_hat").value                               # doctest: +SKIP
10

The public surface is small on purpose: load a spec, derive a sheet, render it.
Everything else lives in submodules (``symderiv.check``, ``symderiv.kernels``).
"""
from __future__ import annotations

from symderiv import render as _render  # noqa: F401  (gives the model its Jupyter display)
from symderiv.derive import derive_file as derive_file
from symderiv.derive import derive_sheet as derive_sheet
from symderiv.derive import derive_table as derive_table
from symderiv.derive import load_spec as load_spec
from symderiv.errors import AnswerError as AnswerError
from symderiv.errors import SpecError as SpecError
from symderiv.errors import SymderivError as SymderivError
from symderiv.model import Answer as Answer
from symderiv.model import Problem as Problem
from symderiv.model import Question as Question
from symderiv.model import Sheet as Sheet
from symderiv.model import Step as Step

__version__ = "0.1.0"
