"""SymPy expressions -> NumPy source: the only place code is generated. Placeholder."""
from __future__ import annotations

from symderiv.model import Sheet


def render_kernels(sheet: Sheet) -> str:
    """The kernels module of a sheet, as Python source (not implemented yet)."""
    return '"""Kernels: not generated yet."""\n'
