"""Safe parsing of untrusted answer strings into SymPy objects.

Students type answers such as ``floor((n+2*p-k)/s)+1``, ``[[32,16],[24,12]]``,
``0.05`` or ``\\frac{\\alpha g}{1-\\beta}``.  Those strings come from people we do
not control, so this package never hands them to anything that can execute code:
no ``eval``/``exec``, no ``sympify``/``parse_expr``/``S(str)`` and no
``sympy.parsing.latex``.  One module per step:

* :mod:`.answer` -- :func:`parse_answer`, the entry point;
* :mod:`.clean` -- syntax choice, Unicode spelled in ASCII, bounds on the raw text;
* :mod:`.source` -- rewritten text that remembers where each character was typed;
* :mod:`.plain` -- plain syntax: :func:`ast.parse` and a whitelist walker;
* :mod:`.latex_lexer` and :mod:`.latex` -- LaTeX: a tokenizer and a recursive-descent
  parser that knows a fixed list of commands and refuses every other one;
* :mod:`.builder`, :mod:`.functions`, :mod:`.sizes`, :mod:`.limits` -- the bounded
  builder both readers use, the whitelisted functions, size estimates and the bounds;
* :mod:`.values` -- numbers passed directly, and the shape of the returned answer;
* :mod:`.matexpr` -- the reader of matrix-expression answers (``dL_da2 @ z1.T``);
* :mod:`.errors` -- :class:`ParseError`, with its verdict and position.

Conventions (decided here, relied on by the graders):

* Decimal literals are exact: ``0.05`` is ``Rational(1, 20)``, never a float.
* ``e`` is Euler's number and ``pi``/``\\pi`` is π; ``E`` is an ordinary symbol
  (it often means "epochs").  Pass ``symbols={"e": Symbol("e")}`` to override.
* Symbols are created without assumptions, ``Symbol("n")``; pass ``symbols`` to
  map names to the grader's own symbols.  Greek names are spelled out
  (``\\alpha``, ``alpha`` and ``α`` all give ``Symbol("alpha")``, ``\\lambda``
  gives ``Symbol("lambda")``); ``var`` forms fold to the plain letter.
* ``x_{out}`` and ``x_out`` both give ``Symbol("x_out")``; a parenthesised
  superscript label ``W^{(1)}`` gives ``Symbol("W^(1)")``, not a power.
* A flat list or tuple is a column vector (n x 1), as gradients are in this
  project; a list of lists is a matrix given row by row.  Both are returned as
  :class:`sympy.ImmutableMatrix`.  Ragged rows are refused.
* Infinity and NaN (``oo``, ``inf``, ``nan``, ``1e999``, ``\\infty``, ``1/0``)
  give the verdict ``"not_finite"``.
* Juxtaposition multiplies in both syntaxes: ``2p``, ``p(1-p)``, ``\\alpha g``.
  Only whitelisted names are functions, so an unknown ``f(x)`` reads as ``f*x``
  and ``\\sigma(z)`` as ``sigma*z`` (write ``sigmoid(z)`` for the logistic).
* In LaTeX a run of letters is a product of one-letter symbols (``lr`` is
  ``l*r``), except whole known words: function names (``max``, ``log``...) and
  Greek names (``alpha``...).  Use ``\\text{lr}`` or ``lr`` in plain syntax
  for a multi-letter symbol.  ``|x|`` is an absolute value; a bar inside bars
  needs its own parentheses, ``|(|x|+1)|``, or ``abs(...)``.
* A :class:`ParseError` from reading a string says where reading failed:
  ``position`` is the 0-based offset in the answer as typed, and the reason
  says "at character N" (counting from 1).

Limits are module constants (``MAX_*``) and keyword overrides of
:func:`parse_answer`; exceeding one gives the verdict ``"too_large"``.
"""
from symderiv.check.parse.answer import Expect as Expect
from symderiv.check.parse.answer import Reading as Reading
from symderiv.check.parse.answer import Side as Side
from symderiv.check.parse.answer import parse_answer as parse_answer
from symderiv.check.parse.answer import read_answer as read_answer
from symderiv.check.parse.answer import read_float as read_float
from symderiv.check.parse.builder import Precision as Precision
from symderiv.check.parse.clean import Syntax as Syntax
from symderiv.check.parse.errors import ParseError as ParseError
from symderiv.check.parse.forms import UNITS as UNITS
from symderiv.check.parse.forms import Unit as Unit
from symderiv.check.parse.forms import unit_of as unit_of
from symderiv.check.parse.functions import FUNCTIONS as FUNCTIONS
from symderiv.check.parse.limits import MAX_CALL_ARGS as MAX_CALL_ARGS
from symderiv.check.parse.limits import MAX_DEPTH as MAX_DEPTH
from symderiv.check.parse.limits import MAX_DIGITS as MAX_DIGITS
from symderiv.check.parse.limits import MAX_EXPONENT as MAX_EXPONENT
from symderiv.check.parse.limits import MAX_LENGTH as MAX_LENGTH
from symderiv.check.parse.limits import MAX_RESULT_DIGITS as MAX_RESULT_DIGITS
from symderiv.check.parse.limits import MAX_SECONDS as MAX_SECONDS
from symderiv.check.parse.limits import Limits as Limits
from symderiv.check.parse.matexpr import MAX_NODES as MAX_NODES
from symderiv.check.parse.matexpr import (
    read_matrix_expression as read_matrix_expression,
)
from symderiv.check.parse.names import Names as Names
from symderiv.check.verdicts import ParseVerdict as ParseVerdict
