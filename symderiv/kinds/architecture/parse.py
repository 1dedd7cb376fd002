"""Spec fields of an architecture problem -> a validated, placed stack of layers.

Layers are read in order with the running shape, so every error names the layer field
that does not fit what comes in (``layer[3].kernel_size``: the window does not fit the
padded 2 x 2 input). Field names are PyTorch's (``out_channels``, ``kernel_size``,
``groups``, ``out_features``, ``num_features``, ``affine``, ``bias``).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from symderiv.kinds.architecture.layers import TYPES, Layer, LayerSpec, Shape, Window
from symderiv.kinds.architecture.receptive import ReachError, Reaches, reaches
from symderiv.kinds.conv import MAX_SIDE, per_axis, whole
from symderiv.kinds.conv.size import Axis, same_padding
from symderiv.spec import Fields

#: Most layers in a stack (each is a printed step in every question).
MAX_LAYERS = 40
#: Largest channel or feature count, and batch size.
MAX_WIDTH = 1_000_000

#: Bytes per entry of each data type PyTorch names.
DTYPES = {"float64": 8, "float32": 4, "float16": 2, "bfloat16": 2}

#: What people write for a layer, and PyTorch's name for it.
ALIASES = {"conv": "conv2d", "dense": "linear", "fc": "linear", "maxpool": "maxpool2d", "avgpool": "avgpool2d",
           "batchnorm": "batchnorm2d (or batchnorm1d after flatten)", "residual": "add", "pool": "maxpool2d"}

_LABEL = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,23}")


@dataclass(frozen=True)
class ArchitectureSpec:
    """The input shape (C, H, W), batch size, bytes per entry, and the placed layers with their reaches."""

    input: Shape
    batch: int
    dtype: str
    layers: tuple[Layer, ...]
    reaches: Reaches

    @property
    def bytes(self) -> int:
        return DTYPES[self.dtype]


def parse(f: Fields) -> ArchitectureSpec:
    """Validate the input, batch, dtype and every ``[[problem.layer]]`` in order."""
    f.check_known({"input", "batch", "dtype", "layer"})
    shape = _input(f)
    layers: list[Layer] = []
    tables = list(f.subs("layer"))
    if len(tables) > MAX_LAYERS:
        raise f.fail("layer", f"at most {MAX_LAYERS} layers (each is a printed step), got {len(tables)}")
    for index, lf in enumerate(tables, start=1):
        layers.append(_layer(lf, index, layers, shape))
    stack = tuple(layers)
    try:
        found = reaches(stack)
    except ReachError as exc:
        raise tables[exc.index - 1].fail("from", str(exc)) from None
    return ArchitectureSpec(shape, f.integer("batch", 1, low=1, high=MAX_WIDTH),
                            f.str("dtype", "float32", choices=DTYPES), stack, found)


def _input(f: Fields) -> Shape:
    raw = f.raw("input")
    if not isinstance(raw, list) or len(raw) != 3:
        raise f.fail("input", "expected [channels, height, width] (PyTorch's C, H, W)")
    channels = whole(f, "input[1]", raw[0], 1, MAX_WIDTH)
    return (channels,) + tuple(whole(f, f"input[{i}]", v, 1, MAX_SIDE) for i, v in ((2, raw[1]), (3, raw[2])))


def _type(f: Fields) -> str:
    name = f.str("type")
    if name not in TYPES:
        hint = f" (PyTorch's name: {ALIASES[name]})" if name in ALIASES else ""
        raise f.fail("type", f"unknown layer type {name!r}{hint}; expected one of {', '.join(sorted(TYPES))}")
    return name


def _label(f: Fields, index: int, kind: str, earlier: list[Layer]) -> str:
    label = f.str("name", "")
    if not label:
        return ""
    if not _LABEL.fullmatch(label):
        raise f.fail("name", "must be a letter, then up to 23 letters, digits or '_'")
    if any(layer.spec.label == label for layer in earlier):
        raise f.fail("name", f"the name {label!r} is already used by an earlier layer")
    return label


def _layer(f: Fields, index: int, earlier: list[Layer], first: Shape) -> Layer:
    kind = _type(f)
    f.check_known(set(TYPES[kind].fields) | {"type", "name"})
    label = _label(f, index, kind, earlier)
    shape = earlier[-1].shape if earlier else first
    _needs(f, kind, shape)
    return READERS.get(kind, _plain)(f, LayerSpec(index, kind, label), shape, earlier, first)


def _needs(f: Fields, kind: str, shape: Shape) -> None:
    needs = TYPES[kind].needs
    if needs == "image" and len(shape) != 3:
        raise f.fail("type", f"{kind} needs a C x H x W input, but its input is a flat vector of {shape[0]} "
                             "features (after flatten)")
    if needs == "flat" and len(shape) != 1:
        raise f.fail("type", f"{kind} needs a flat input, but its input is {_shape_text(shape)}: put a flatten "
                             "layer before it (PyTorch's Linear would act on the last axis only)")


def _shape_text(shape: Shape) -> str:
    return " x ".join(str(v) for v in shape)


def _flag(f: Fields, name: str, default: bool) -> bool:
    value = f.raw(name, default)
    if not isinstance(value, bool):
        raise f.fail(name, f"expected true or false, got {value!r}")
    return value


def _matches(f: Fields, name: str, actual: int, what: str) -> None:
    """An optional field that restates the input size (``in_channels``...) must agree with it."""
    if f.has(name):
        given = whole(f, name, f.raw(name), 1, MAX_WIDTH)
        if given != actual:
            raise f.fail(name, f"is {given}, but the input to this layer has {actual} {what}")


# --- the window of a conv2d or pooling layer --------------------------------------------------

def _padding(f: Fields, kernel: tuple[int, int], dilation: tuple[int, int], stride: tuple[int, int],
             pooling: bool) -> tuple[tuple[tuple[int, int], tuple[int, int]], bool]:
    """Per axis (before, after): a number, ``[height, width]``, ``"valid"`` (0) or ``"same"``."""
    raw = f.raw("padding", 0)
    if isinstance(raw, str) and not pooling and raw in ("same", "valid"):
        if raw == "valid":
            return ((0, 0), (0, 0)), False
        if stride != (1, 1):
            raise f.fail("padding", f"'same' padding needs stride 1 (as PyTorch's), got stride {list(stride)}")
        axes = [same_padding(Axis(1, kernel[i], 1, dilation[i])) for i in (0, 1)]
        return ((axes[0].before, axes[0].after), (axes[1].before, axes[1].after)), True
    if isinstance(raw, str):
        allowed = "a number or [height, width]" + ("" if pooling else ", \"same\" or \"valid\"")
        raise f.fail("padding", f"expected {allowed}, got {raw!r}")
    pad = per_axis(f, "padding", 0, 0)
    if pooling and any(2 * pad[i] > kernel[i] for i in (0, 1)):
        raise f.fail("padding", f"pooling pads at most half the window on each side (PyTorch's rule): padding "
                                f"{list(pad)} with kernel_size {list(kernel)}")
    return ((pad[0], pad[0]), (pad[1], pad[1])), False


def _window(f: Fields, kind: str, shape: Shape) -> Window:
    kernel = per_axis(f, "kernel_size", ..., 1)
    pooling = kind != "conv2d"
    stride = per_axis(f, "stride", list(kernel) if pooling else 1, 1)
    dilation = per_axis(f, "dilation", 1, 1) if "dilation" in TYPES[kind].fields else (1, 1)
    padding, same = _padding(f, kernel, dilation, stride, pooling)
    window = Window(kernel, stride, padding, dilation, same)
    for axis, side in zip(window.axes(shape[1], shape[2]), ("height", "width")):
        if axis.padded > MAX_SIDE:
            raise f.fail("padding", f"the padded input's {side} ({axis.padded}) must be <= {MAX_SIDE}")
        if axis.k_eff > axis.padded:
            raise f.fail("kernel_size", f"the window's {side} ({axis.k_eff}, dilation included) does not fit the "
                                        f"padded input's {side} ({axis.before} + {axis.n} + {axis.after} = "
                                        f"{axis.padded})")
    return window


def _windowed(f: Fields, spec: LayerSpec, shape: Shape, channels: int) -> Layer:
    """A conv2d or pooling layer: the window's axes give the output's height and width."""
    window = _window(f, spec.type, shape)
    height, width = window.axes(shape[1], shape[2])
    spec = LayerSpec(spec.index, spec.type, spec.label, spec.width, window, spec.groups, spec.bias)
    return Layer(spec, shape, (channels, height.size, width.size), (height, width))


# --- one reader per layer type ----------------------------------------------------------------

def _conv(f: Fields, spec: LayerSpec, shape: Shape, earlier: list[Layer], first: Shape) -> Layer:
    _matches(f, "in_channels", shape[0], "channels")
    out = f.integer("out_channels", low=1, high=MAX_WIDTH)
    groups = f.integer("groups", 1, low=1, high=MAX_WIDTH)
    for name, value in (("in_channels", shape[0]), ("out_channels", out)):
        if value % groups:
            raise f.fail("groups", f"{groups} groups do not divide {name} = {value} (each group takes an equal "
                                   "share of the channels)")
    spec = LayerSpec(spec.index, spec.type, spec.label, out, None, groups, _flag(f, "bias", True))
    return _windowed(f, spec, shape, out)


def _pool(f: Fields, spec: LayerSpec, shape: Shape, earlier: list[Layer], first: Shape) -> Layer:
    return _windowed(f, spec, shape, shape[0])


def _norm(f: Fields, spec: LayerSpec, shape: Shape, earlier: list[Layer], first: Shape) -> Layer:
    _matches(f, "num_features", shape[0], "channels" if len(shape) == 3 else "features")
    return Layer(LayerSpec(spec.index, spec.type, spec.label, affine=_flag(f, "affine", True)), shape, shape)


def _linear(f: Fields, spec: LayerSpec, shape: Shape, earlier: list[Layer], first: Shape) -> Layer:
    _matches(f, "in_features", shape[0], "features")
    out = f.integer("out_features", low=1, high=MAX_WIDTH)
    return Layer(LayerSpec(spec.index, spec.type, spec.label, out, bias=_flag(f, "bias", True)), shape, (out,))


def _flatten(f: Fields, spec: LayerSpec, shape: Shape, earlier: list[Layer], first: Shape) -> Layer:
    size = 1
    for side in shape:
        size *= side
    return Layer(spec, shape, (size,))


def _add(f: Fields, spec: LayerSpec, shape: Shape, earlier: list[Layer], first: Shape) -> Layer:
    source = _source(f, earlier)
    other = earlier[source - 1].shape if source else first
    if other != shape:
        raise f.fail("from", f"adds {_operand(source, earlier)} ({_shape_text(other)}) to this layer's input "
                             f"({_shape_text(shape)}): a residual add needs equal shapes")
    return Layer(LayerSpec(spec.index, spec.type, spec.label, source=source), shape, shape)


def _operand(source: int, earlier: list[Layer]) -> str:
    return "the stack's input" if source == 0 else f"the output of layer {source} ({earlier[source - 1].spec.label})"


def _source(f: Fields, earlier: list[Layer]) -> int:
    """The other operand of an add: an earlier layer by number (0: the input) or by name."""
    raw: Any = f.raw("from")
    if isinstance(raw, str):
        found = [layer.index for layer in earlier if raw and layer.spec.label == raw]
        if not found:
            raise f.fail("from", f"no earlier layer is called {raw!r}")
        return found[0]
    return whole(f, "from", raw, 0, len(earlier))


def _plain(f: Fields, spec: LayerSpec, shape: Shape, earlier: list[Layer], first: Shape) -> Layer:
    return Layer(spec, shape, shape)


READERS = {"conv2d": _conv, "maxpool2d": _pool, "avgpool2d": _pool, "batchnorm2d": _norm, "batchnorm1d": _norm,
           "linear": _linear, "flatten": _flatten, "add": _add}
