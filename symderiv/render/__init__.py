"""Printers of the model: LaTeX and PDF, MathJax, Markdown, the answer key, figures.

Importing this package gives every record of :mod:`symderiv.model` its Jupyter display
(``_repr_latex_``, ``_repr_markdown_``): the model asks :data:`symderiv.model.DISPLAY`,
which is filled here, so the model never imports a printer.
"""
from __future__ import annotations

from symderiv.model import DISPLAY
from symderiv.render.markdown import markdown_of
from symderiv.render.mathjax import latex_of

DISPLAY.update(latex=latex_of, markdown=markdown_of)
