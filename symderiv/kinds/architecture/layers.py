"""The layers of a stack as rows of a table: what each type does to a shape, and its formulas.

A layer type is one :class:`LayerType` row (as an activation is one row of the calculus
table): which input it needs (an image C x H x W or a flat vector), whether it slides a
window, and its parameter and multiply-accumulate formulas as SymPy expressions with
the numbers that go into them. Adding a layer type is one row, not a branch in every
question.

Conventions (PyTorch's): a conv2d filter spans the C_in/g channels of its group; a
batch-norm layer has a scale and a shift per channel (its running mean and variance are
buffers, not trained parameters); multiply-accumulates (MACs) are counted for the
weight layers only, one per weight use, bias additions not counted, as PyTorch's
``FlopCounterMode`` counts 2 FLOPs per MAC.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import sympy as sp

from symderiv.kinds.conv.size import Axis

#: A shape without the batch axis: (C, H, W) for an image, (F,) for a flat vector.
Shape = tuple[int, ...]


def _sym(name: str) -> sp.Symbol:
    return sp.Symbol(name, integer=True, positive=True)


C_IN, C_OUT, F_IN, F_OUT, G, KH, KW = (_sym(x) for x in ("C_in", "C_out", "F_in", "F_out", "g", "k_h", "k_w"))
H_OUT, W_OUT, BATCH, BYTES, CH = (_sym(x) for x in ("H_out", "W_out", "B", "b", "C"))
ELEMENTS = _sym("N")     # entries of one example's output


def product(*factors: sp.Expr) -> sp.Expr:
    """A product kept in the order written (``C_out C_in k_h k_w``), as a student reads it."""
    return sp.Mul(*factors, evaluate=False) if len(factors) > 1 else factors[0]


def total(*terms: sp.Expr) -> sp.Expr:
    return sp.Add(*terms, evaluate=False) if len(terms) > 1 else terms[0]


@dataclass(frozen=True)
class Window:
    """The sliding window of a conv2d or pooling layer: per axis (height, width) sizes.

    ``padding`` holds (before, after) per axis; ``same`` records PyTorch's padding='same'.
    """

    kernel: tuple[int, int]
    stride: tuple[int, int]
    padding: tuple[tuple[int, int], tuple[int, int]]
    dilation: tuple[int, int] = (1, 1)
    same: bool = False

    def axes(self, height: int, width: int) -> tuple[Axis, Axis]:
        """The height and width axes over an input of ``height`` x ``width``."""
        return tuple(Axis(n, self.kernel[i], self.stride[i], self.dilation[i], *self.padding[i])
                     for i, n in enumerate((height, width)))  # type: ignore[return-value]

    @property
    def square(self) -> bool:
        """Both axes have the same kernel, stride, padding and dilation."""
        return len({(self.kernel[i], self.stride[i], self.padding[i], self.dilation[i]) for i in (0, 1)}) == 1


@dataclass(frozen=True)
class LayerSpec:
    """One layer as the spec gives it (``index`` counts from 1; ``source`` is the other operand of
    a residual add: an earlier layer's index, 0 for the stack's input)."""

    index: int
    type: str
    label: str
    width: int | None = None          # out_channels (conv2d) or out_features (linear)
    window: Window | None = None
    groups: int = 1
    bias: bool = True
    affine: bool = True
    source: int | None = None


@dataclass(frozen=True)
class Layer:
    """A layer placed in the stack: its input and output shapes (one example) and window axes."""

    spec: LayerSpec
    shape_in: Shape
    shape: Shape
    axes: tuple[Axis, Axis] | None = None

    @property
    def index(self) -> int:
        return self.spec.index

    @property
    def kind(self) -> LayerType:
        return TYPES[self.spec.type]

    @property
    def elements(self) -> int:
        """Entries of one example's output."""
        out = 1
        for side in self.shape:
            out *= side
        return out


#: A formula and the numbers it takes for one layer; ``None`` when the layer has none.
Worked = tuple[sp.Expr, dict[sp.Symbol, sp.Integer]] | None


def _numbers(**values: int) -> dict[sp.Symbol, sp.Integer]:
    names = {"C_in": C_IN, "C_out": C_OUT, "F_in": F_IN, "F_out": F_OUT, "g": G, "k_h": KH, "k_w": KW,
             "H_out": H_OUT, "W_out": W_OUT, "B": BATCH, "C": CH}
    return {names[k]: sp.Integer(v) for k, v in values.items()}


def _filter_size(layer: Layer) -> tuple[sp.Expr, dict]:
    """Weights of one conv2d filter: C_in k_h k_w, or (C_in/g) k_h k_w with groups."""
    kh, kw = layer.spec.window.kernel if layer.spec.window else (1, 1)
    channels = C_IN if layer.spec.groups == 1 else sp.Mul(C_IN, sp.Pow(G, -1), evaluate=False)
    values = _numbers(C_in=layer.shape_in[0], g=layer.spec.groups, k_h=kh, k_w=kw)
    return product(channels, KH, KW), values


def conv_params(layer: Layer) -> Worked:
    taps, values = _filter_size(layer)
    weights = product(C_OUT, taps)
    values |= _numbers(C_out=layer.shape[0])
    return (total(weights, C_OUT) if layer.spec.bias else weights), values


def conv_macs(layer: Layer, batch: int) -> Worked:
    taps, values = _filter_size(layer)
    outputs = (BATCH,) if batch != 1 else ()
    values |= _numbers(C_out=layer.shape[0], H_out=layer.shape[1], W_out=layer.shape[2], B=batch)
    return product(*outputs, C_OUT, H_OUT, W_OUT, taps), values


def linear_params(layer: Layer) -> Worked:
    weights = product(F_OUT, F_IN)
    values = _numbers(F_out=layer.shape[0], F_in=layer.shape_in[0])
    return (total(weights, F_OUT) if layer.spec.bias else weights), values


def linear_macs(layer: Layer, batch: int) -> Worked:
    values = _numbers(F_out=layer.shape[0], F_in=layer.shape_in[0], B=batch)
    return product(*((BATCH,) if batch != 1 else ()), F_OUT, F_IN), values


def norm_params(layer: Layer) -> Worked:
    """A scale gamma and a shift beta per channel (with ``affine``, PyTorch's default)."""
    return (product(sp.Integer(2), CH), _numbers(C=layer.shape[0])) if layer.spec.affine else None


def no_weights(layer: Layer, batch: int = 1) -> Worked:
    return None


@dataclass(frozen=True)
class LayerType:
    """One row of the layer table.

    ``needs``: ``"image"`` (C x H x W), ``"flat"`` (a vector) or ``"any"``; ``fields``: the
    spec fields beyond ``type`` and ``name``; ``params``/``macs``: the formulas (or None);
    ``what``: how the sheet describes the layer's effect.
    """

    name: str
    needs: str
    fields: frozenset[str]
    params: Callable[[Layer], Worked]
    macs: Callable[[Layer, int], Worked]
    what: str


_WINDOW = frozenset({"kernel_size", "stride", "padding", "dilation"})

TYPES: dict[str, LayerType] = {t.name: t for t in (
    LayerType("conv2d", "image", _WINDOW | {"in_channels", "out_channels", "groups", "bias"}, conv_params,
              conv_macs, "slides its filters over every position"),
    LayerType("maxpool2d", "image", _WINDOW, no_weights, no_weights, "takes the largest entry of each window"),
    LayerType("avgpool2d", "image", _WINDOW - {"dilation"}, no_weights, no_weights,
              "averages the entries of each window"),
    LayerType("batchnorm2d", "image", frozenset({"num_features", "affine"}), norm_params, no_weights,
              "normalises each channel, then scales and shifts it"),
    LayerType("batchnorm1d", "flat", frozenset({"num_features", "affine"}), norm_params, no_weights,
              "normalises each feature, then scales and shifts it"),
    LayerType("flatten", "any", frozenset(), no_weights, no_weights, "lays the C x H x W entries out as one vector"),
    LayerType("linear", "flat", frozenset({"in_features", "out_features", "bias"}), linear_params, linear_macs,
              "multiplies the vector by its weight matrix"),
    LayerType("add", "any", frozenset({"from"}), no_weights, no_weights,
              "adds an earlier output to its input (a residual connection)"),
    *(LayerType(name, "any", frozenset(), no_weights, no_weights, "acts on each entry by itself")
      for name in ("relu", "gelu", "sigmoid", "tanh")),
)}


def count(worked: Worked) -> int:
    """The number a formula gives at its layer's numbers (0 for a layer without one)."""
    return 0 if worked is None else int(worked[0].xreplace(worked[1]))


def memory_formula(layer: Layer, batch: int, size: int) -> tuple[sp.Expr, dict]:
    """Bytes of the layer's output: B N b, with N its entries per example and b bytes per entry."""
    values = {ELEMENTS: sp.Integer(layer.elements), BYTES: sp.Integer(size), BATCH: sp.Integer(batch)}
    return product(*((BATCH,) if batch != 1 else ()), ELEMENTS, BYTES), values
