"""A network spec, read and checked: the input, the layers in order, the target and loss.

Each layer type is a row of :data:`LAYER_TYPES`: the fields it takes and how it reads
them, given the shape of what flows into it; the shapes chain from ``x`` to the output,
and every mismatch is an error naming the field and both shapes. Shapes are PyTorch's:
an image is ``[channel][row][column]``, a kernel ``[filter][channel][row][column]``.
With ``batch = true``, ``x`` and ``y`` list the examples: a batch of vectors is carried as
a matrix with one column per example, a batch of images as ``[example][channel][row][column]``.

Size bounds (:data:`BOUNDS`) are checked before anything is derived, so a spec cannot
make the derivation explode.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np
import sympy as sp

from symderiv.calculus import ACTIVATIONS, LOSSES, Config, Settings, out_size
from symderiv.calculus.normalization import feature_axis
from symderiv.spec import Fields, to_rational

#: Limits on a spec, so that every derivation stays small (documented in the README).
BOUNDS = {
    "layers": 16,          # layers in a network
    "entries": 1024,       # entries of any one quantity (a batch counts all its examples)
    "examples": 10,        # examples in a batch (a batch of vectors prints as a matrix, one column each)
    "side": 16,            # rows or columns of an image, padded (printed as a matrix)
    "kernel": 7,           # rows or columns of a kernel or pooling window
    "width": 20,           # rows or columns of a dense layer's W (the sheet prints W and W^T)
    "products": 4000,      # multiply-adds of the forward pass, all layers together
    "outputs": 1024,       # entries of every layer's output, all layers together
}

SOFTMAX = "softmax"


@contextmanager
def relaxed_bounds(**limits: int) -> Iterator[None]:
    """Other size bounds for the duration (benchmarks of kernels for networks no sheet
    could print); the bounds are restored after."""
    saved = dict(BOUNDS)
    BOUNDS.update(limits)
    try:
        yield
    finally:
        BOUNDS.clear()
        BOUNDS.update(saved)


@dataclass(frozen=True)
class Layer:
    """One layer as the spec gives it: its type, parameters (exact numbers), constants
    (a dropout mask) and hyperparameters; ``shape`` is the shape of its output."""

    type: str
    params: tuple[tuple[str, Any], ...]
    activation: str
    config: Config
    shape: tuple[int, ...]
    constants: tuple[tuple[str, Any], ...] = ()

    def param(self, name: str) -> Any:
        return dict(self.params)[name]

    @property
    def W(self) -> Any:
        return self.param("W")

    @property
    def b(self) -> Any:
        return self.param("b")


@dataclass(frozen=True)
class NetworkSpec:
    x: Any
    y: Any
    layers: tuple[Layer, ...]
    loss: str
    settings: Settings
    batch: bool = False
    x_shape: tuple[int, ...] = ()
    y_shape: tuple[int, ...] = ()

    @property
    def widths(self) -> tuple[int, ...]:
        """Entries per example of the input and of every layer's output."""
        shapes = (self.x_shape,) + tuple(layer.shape for layer in self.layers)
        return tuple(self._per_example(s) for s in shapes)

    def _per_example(self, shape: tuple[int, ...]) -> int:
        if not self.batch:
            return int(np.prod(shape))
        return shape[0] if len(shape) <= 2 else int(np.prod(shape[1:]))

    @property
    def activations(self) -> tuple[str, ...]:
        return tuple(layer.activation for layer in self.layers)


# -- exact nested lists -------------------------------------------------------------------------

def read_tensor(f: Fields, name: str, rank: int, value: Any = ...) -> np.ndarray:
    """A nested list of exact numbers of the given rank (each level of equal length), as an
    object array; a number stands for a list of one at rank 1."""
    raw = f.raw(name) if value is ... else value
    if rank == 1 and not isinstance(raw, list):
        raw = [raw]
    shape = _shape_of(raw, rank, f, name)
    out = np.empty(shape, dtype=object)
    for index in np.ndindex(*shape):
        item = raw
        for i in index:
            item = item[i]
        out[index] = to_rational(item, f.fail, name + "".join(f"[{i + 1}]" for i in index))
    return out


def _shape_of(raw: Any, rank: int, f: Fields, name: str) -> tuple[int, ...]:
    levels = ["numbers", "lists of numbers", "lists of lists", "lists of lists of lists"]
    shape: list[int] = []
    level = [raw]
    for depth in range(rank):
        if any(not isinstance(item, list) or not item for item in level):
            raise f.fail(name, f"expected a {rank}-level nested list ({levels[rank - 1]} inside), "
                               f"with no empty lists, got a different nesting at level {depth + 1}")
        if len({len(item) for item in level}) != 1:
            lengths = sorted({len(item) for item in level})
            raise f.fail(name, f"lists at level {depth + 1} must have equal lengths, got {lengths}")
        shape.append(len(level[0]))
        level = [inner for item in level for inner in item]
    if any(isinstance(item, list) for item in level):
        raise f.fail(name, f"expected a {rank}-level nested list, got deeper nesting")
    return tuple(shape)


def shape_text(shape: tuple[int, ...]) -> str:
    return "x".join(str(n) for n in shape) if shape else "a number"


# -- the input and the target ----------------------------------------------------------------------

def _rank_of(raw: Any) -> int:
    rank = 0
    while isinstance(raw, list) and raw:
        rank, raw = rank + 1, raw[0]
    return rank


def read_input(f: Fields, batch: bool) -> np.ndarray:
    """``x``: a vector, an image, or (batch) a list of either, carried as the rules want it."""
    raw = f.raw("x")
    rank = max(_rank_of(raw), 1)
    if rank not in ((2, 4) if batch else (1, 3)):
        what = ("a list of examples, each a vector or an image" if batch
                else "a vector or an image [channel][row][column]")
        raise f.fail("x", f"expected {what}, got a {rank}-level nested list")
    x = read_tensor(f, "x", rank)
    if batch and x.shape[0] > BOUNDS["examples"]:
        raise f.fail("x", f"at most {BOUNDS['examples']} examples, got {x.shape[0]}")
    if rank >= 3 and max(x.shape[-2:]) > BOUNDS["side"]:
        raise f.fail("x", f"images are at most {BOUNDS['side']} a side, got {shape_text(x.shape[-2:])}")
    if x.size > BOUNDS["entries"]:
        raise f.fail("x", f"at most {BOUNDS['entries']} entries in all, got {x.size}")
    return x.T.copy() if batch and rank == 2 else x


def read_target(f: Fields, batch: bool, shape: tuple[int, ...]) -> np.ndarray:
    """``y``: like the network's output (a vector; with a batch, one per example)."""
    if not batch:
        y = read_tensor(f, "y", 1)
        if y.shape != shape:
            raise f.fail("y", f"has {y.shape[0]} entries but the network outputs {shape[0]}")
        return y
    raw = f.raw("y")
    rows = [item if isinstance(item, list) else [item] for item in raw] if isinstance(raw, list) else None
    if rows is None:
        raise f.fail("y", "with batch = true, y lists one target per example")
    y = read_tensor(f, "y", 2, rows).T.copy()
    if y.shape != shape:
        raise f.fail("y", f"has {y.shape[1]} targets of {y.shape[0]} entries, but the network outputs "
                          f"{shape[0]} entries for each of {shape[1]} examples")
    return y


# -- layers -----------------------------------------------------------------------------------------

def is_image(shape: tuple[int, ...], batch: bool) -> bool:
    return len(shape) == (4 if batch else 3)


def _need_vector(f: Fields, shape: tuple[int, ...], batch: bool, what: str) -> int:
    if is_image(shape, batch):
        raise f.fail("type", f"{what} needs a vector input, got a {shape_text(shape[-3:])} image (add a flatten layer)")
    return shape[0]


def _need_image(f: Fields, shape: tuple[int, ...], batch: bool, what: str) -> tuple[int, int, int]:
    if not is_image(shape, batch):
        raise f.fail("type", f"{what} needs an image input [channel][row][column], got a vector of {shape[0]}")
    return shape[-3], shape[-2], shape[-1]


def _pair(f: Fields, name: str, default: Any, low: int) -> tuple[int, int]:
    raw = f.raw(name, default)
    values = raw if isinstance(raw, list) else [raw, raw]
    if len(values) != 2:
        raise f.fail(name, f"expected one whole number or [height, width], got {len(values)} numbers")
    out = []
    for i, v in enumerate(values, start=1):
        r = to_rational(v, f.fail, name if not isinstance(raw, list) else f"{name}[{i}]")
        if not r.is_integer or r < low or r > BOUNDS["side"]:
            raise f.fail(name, f"expected a whole number from {low} to {BOUNDS['side']}, got {r}")
        out.append(int(r))
    return out[0], out[1]


def _activation(f: Fields, default: Any = ...) -> str:
    return f.str("activation", default, choices=set(ACTIVATIONS) | {SOFTMAX})


def _dense(f: Fields, shape: tuple[int, ...], cfg: Config) -> Layer:
    f.check_known({"type", "W", "b", "activation"})
    n = _need_vector(f, shape, cfg.batch, "a dense layer")
    W = read_tensor(f, "W", 2, _as_rows(f.raw("W")))
    if W.shape[1] != n:
        raise f.fail("W", f"has {W.shape[1]} columns but its input has {n} entries (W must be {W.shape[0]}x{n})")
    if max(W.shape) > BOUNDS["width"]:
        raise f.fail("W", f"is {W.shape[0]}x{W.shape[1]}; a dense layer is at most {BOUNDS['width']}x"
                          f"{BOUNDS['width']} (the sheet prints W, its transpose and its gradient, and a wider "
                          "matrix of decimals does not fit a printed page)")
    b = read_tensor(f, "b", 1)
    if b.shape[0] != W.shape[0]:
        raise f.fail("b", f"has {b.shape[0]} entries but W has {W.shape[0]} rows")
    out = (W.shape[0],) + shape[1:]
    return Layer("dense", (("W", W), ("b", b)), _activation(f), cfg, out)


def _as_rows(raw: Any) -> Any:
    """A matrix as rows: a bare number is 1x1 and a flat list one row (as before)."""
    if not isinstance(raw, list):
        return [[raw]]
    return [raw] if raw and not isinstance(raw[0], list) else raw


def _conv(f: Fields, shape: tuple[int, ...], cfg: Config) -> Layer:
    f.check_known({"type", "W", "b", "stride", "padding", "dilation", "activation"})
    C, H, Wd = _need_image(f, shape, cfg.batch, "a conv2d layer")
    W = read_tensor(f, "W", 4)
    F, Cw, kh, kw = W.shape
    if Cw != C:
        raise f.fail("W", f"has {Cw} channels but its input has {C} (W is [filter][channel][row][column], "
                          f"so it must be {F}x{C}x{kh}x{kw})")
    if max(kh, kw) > BOUNDS["kernel"]:
        raise f.fail("W", f"kernels are at most {BOUNDS['kernel']}x{BOUNDS['kernel']}, got {kh}x{kw}")
    cfg = Config(cfg.settings, cfg.batch, stride=_pair(f, "stride", 1, 1), padding=_pair(f, "padding", 0, 0),
                 dilation=_pair(f, "dilation", 1, 1), examples=cfg.examples)
    params: list[tuple[str, Any]] = [("W", W)]
    if f.has("b"):
        b = read_tensor(f, "b", 1)
        if b.shape[0] != F:
            raise f.fail("b", f"has {b.shape[0]} entries but W has {F} filters (one bias per filter)")
        params.append(("b", b))
    sizes = _conv_sizes(f, (H, Wd), (kh, kw), cfg)
    return Layer("conv2d", tuple(params), _activation(f, "identity"), cfg, shape[:-3] + (F,) + sizes)


def _conv_sizes(f: Fields, hw: tuple[int, int], k: tuple[int, int], cfg: Config) -> tuple[int, int]:
    padded = tuple(hw[a] + 2 * cfg.padding[a] for a in (0, 1))
    reach = tuple(cfg.dilation[a] * (k[a] - 1) + 1 for a in (0, 1))
    if max(padded) > BOUNDS["side"]:
        raise f.fail("padding", f"the padded input is at most {BOUNDS['side']} a side, got {shape_text(padded)}")
    if reach[0] > padded[0] or reach[1] > padded[1]:
        raise f.fail("W", f"the {shape_text(k)} kernel (dilation {shape_text(cfg.dilation)}, reaching "
                          f"{shape_text(reach)}) is larger than the padded input {shape_text(padded)}")
    sizes = tuple(out_size(hw[a], k[a], cfg.stride[a], cfg.padding[a], cfg.dilation[a]) for a in (0, 1))
    return sizes[0], sizes[1]


def _pool(kind: str) -> Callable[[Fields, tuple[int, ...], Config], Layer]:
    def parse(f: Fields, shape: tuple[int, ...], cfg: Config) -> Layer:
        f.check_known({"type", "size", "stride", "remainder"})
        C, H, Wd = _need_image(f, shape, cfg.batch, f"a {kind} layer")
        size = _pair(f, "size", ..., 1)
        stride = _pair(f, "stride", 0, 1) if f.has("stride") else size
        if size[0] > H or size[1] > Wd:
            raise f.fail("size", f"the {shape_text(size)} window is larger than the {shape_text((H, Wd))} input")
        if max(size) > BOUNDS["kernel"]:
            raise f.fail("size", f"windows are at most {BOUNDS['kernel']} a side, got {shape_text(size)}")
        rest = ((H - size[0]) % stride[0], (Wd - size[1]) % stride[1])
        if f.str("remainder", "error", choices={"error", "drop"}) == "error" and any(rest):
            raise f.fail("size", f"{shape_text(size)} windows with stride {shape_text(stride)} do not cover the "
                                 f"{shape_text((H, Wd))} input exactly ({rest[0]} rows and {rest[1]} columns left "
                                 "over); set remainder = \"drop\" to drop them, as PyTorch does")
        sizes = ((H - size[0]) // stride[0] + 1, (Wd - size[1]) // stride[1] + 1)
        cfg = Config(cfg.settings, cfg.batch, size=size, stride=stride, examples=cfg.examples)
        return Layer(kind, (), "", cfg, shape[:-2] + sizes)
    return parse


def _flatten(f: Fields, shape: tuple[int, ...], cfg: Config) -> Layer:
    f.check_known({"type"})
    C, H, Wd = _need_image(f, shape, cfg.batch, "flatten")
    out = (C * H * Wd, shape[0]) if cfg.batch else (C * H * Wd,)
    return Layer("flatten", (), "", cfg, out)


def _batchnorm(f: Fields, shape: tuple[int, ...], cfg: Config) -> Layer:
    f.check_known({"type", "gamma", "beta", "eps"})
    if not cfg.batch or cfg.examples < 2:
        raise f.fail("type", "batch norm in training mode needs a batch of at least 2 examples (batch = true, "
                             f"x a list of examples), got {cfg.examples if cfg.batch else 'one'} example")
    features = shape[feature_axis(shape)]
    gamma = read_tensor(f, "gamma", 1) if f.has("gamma") else _filled(features, 1)
    beta = read_tensor(f, "beta", 1) if f.has("beta") else _filled(features, 0)
    for name, value in (("gamma", gamma), ("beta", beta)):
        if value.shape[0] != features:
            raise f.fail(name, f"has {value.shape[0]} entries but the input has {features} features "
                               f"({'channels' if len(shape) == 4 else 'rows'}: one per feature)")
    eps = f.number("eps", "1/100000", low=0, open_low=True)
    cfg = Config(cfg.settings, cfg.batch, eps=eps, examples=cfg.examples)
    return Layer("batchnorm", (("gamma", gamma), ("beta", beta)), "", cfg, shape)


def _filled(n: int, value: int) -> np.ndarray:
    out = np.empty(n, dtype=object)
    out[:] = [sp.Integer(value)] * n
    return out


def _dropout(f: Fields, shape: tuple[int, ...], cfg: Config) -> Layer:
    f.check_known({"type", "mask", "keep"})
    mask = read_tensor(f, "mask", len(shape), _spec_layout(f.raw("mask"), shape, cfg.batch))
    if mask.shape != shape:
        raise f.fail("mask", f"has shape {shape_text(_shown(mask.shape, cfg.batch))} but the layer's input has "
                             f"shape {shape_text(_shown(shape, cfg.batch))}")
    for index in np.ndindex(*mask.shape):
        if mask[index] not in (0, 1):
            raise f.fail("mask", f"entries are 0 (dropped) or 1 (kept), got {mask[index]}")
    keep = f.number("keep", low=0, high=1, open_low=True)
    cfg = Config(cfg.settings, cfg.batch, keep=keep, examples=cfg.examples)
    return Layer("dropout", (), "", cfg, shape, constants=(("mask", mask),))


def _spec_layout(raw: Any, shape: tuple[int, ...], batch: bool) -> Any:
    """A batch of vector masks is written one list per example; the rules carry columns."""
    if batch and len(shape) == 2 and isinstance(raw, list) and raw and isinstance(raw[0], list):
        return [list(col) for col in zip(*raw)] if len({len(r) for r in raw}) == 1 else raw
    return raw


def _shown(shape: tuple[int, ...], batch: bool) -> tuple[int, ...]:
    """A shape as the spec writes it (examples first)."""
    return (shape[1], shape[0]) if batch and len(shape) == 2 else shape


LAYER_TYPES: dict[str, Callable[[Fields, tuple[int, ...], Config], Layer]] = {
    "dense": _dense, "conv2d": _conv, "maxpool": _pool("maxpool"), "avgpool": _pool("avgpool"),
    "flatten": _flatten, "batchnorm": _batchnorm, "dropout": _dropout,
}


def dense_spec(widths: tuple[int, ...], activations: tuple[str, ...], loss: str = "squared_error",
               settings: Settings | None = None) -> NetworkSpec:
    """A dense network of the given widths with every number 0: for deriving the rules
    alone (benchmarks of the derivation, tests of its shapes), never for a sheet."""
    zeros = lambda *shape: np.full(shape, sp.Integer(0), dtype=object)  # noqa: E731
    settings = settings or Settings()
    cfg = Config(settings)
    layers = tuple(Layer("dense", (("W", zeros(m, n)), ("b", zeros(m))), act, cfg, (m,))
                   for n, m, act in zip(widths, widths[1:], activations))
    return NetworkSpec(_value(zeros(widths[0])), _value(zeros(widths[-1])), layers, loss, settings, False,
                       (widths[0],), (widths[-1],))


# -- the whole network ------------------------------------------------------------------------------

def parse(f: Fields) -> NetworkSpec:
    """Validate a network spec: shapes chain, names are known, the loss fits the output."""
    f.check_known({"x", "y", "loss", "layer", "relu_at_zero", "leaky_slope", "batch"})
    settings = Settings(f.number("relu_at_zero", 0, low=0, high=1),
                        f.number("leaky_slope", "1/100", low=0, high=1, open_high=True))
    batch = f.raw("batch", False)
    if not isinstance(batch, bool):
        raise f.fail("batch", f"expected true or false, got {batch!r}")
    x = read_input(f, batch)
    cfg = Config(settings, batch, examples=x.shape[0] if batch and x.ndim == 4 else x.shape[-1] if batch else 1)
    layers = _layers(f, x.shape, cfg)
    out = layers[-1].shape
    if is_image(out, batch):
        raise f.fail(f"layer[{len(layers)}]", f"the network must end in a vector for the loss (add flatten and a "
                                              f"dense layer), got a {shape_text(out[-3:])} image")
    y = read_target(f, batch, out)
    loss = _loss(f, layers)
    return NetworkSpec(_value(x), _value(y), layers, loss, settings, batch, x.shape, y.shape)


def _layers(f: Fields, shape: tuple[int, ...], cfg: Config) -> tuple[Layer, ...]:
    layers, products, outputs = [], 0, 0
    found = list(f.subs("layer"))
    if len(found) > BOUNDS["layers"]:
        raise f.fail("layer", f"at most {BOUNDS['layers']} layers, got {len(found)}")
    for i, lf in enumerate(found, start=1):
        kind = lf.str("type", "dense", choices=LAYER_TYPES)
        layer = LAYER_TYPES[kind](lf, shape, cfg)
        if layer.activation == SOFTMAX and i != len(found):
            raise lf.fail("activation", "softmax is only allowed on the output layer")
        if layer.activation == SOFTMAX and is_image(layer.shape, cfg.batch):
            raise lf.fail("activation", "softmax needs a vector (a dense layer's output)")
        products += _products(layer, shape)
        outputs += int(np.prod(layer.shape))
        _check_size(lf, layer.shape, products, outputs)
        layers.append(layer)
        shape = layer.shape
    return tuple(layers)


def _products(layer: Layer, shape: tuple[int, ...]) -> int:
    """Multiply-adds of a layer's forward pass (what the derivation's size grows with)."""
    weights = dict(layer.params).get("W")
    if weights is None:
        return int(np.prod(layer.shape))
    per_output = int(np.prod(weights.shape[1:])) if weights.ndim == 4 else weights.shape[1]
    return int(np.prod(layer.shape)) * per_output


def _check_size(f: Fields, shape: tuple[int, ...], products: int, outputs: int) -> None:
    """Every quantity, the forward pass's multiply-adds and the layers' outputs (each one an
    exact value, a gradient entry and a printed cell: what a build's time grows with) within
    the bounds, so that a build at the bounds takes seconds (README, "Bounds you can rely on")."""
    if int(np.prod(shape)) > BOUNDS["entries"]:
        raise f.fail("type", f"the layer's output has {int(np.prod(shape))} entries ({shape_text(shape)}); "
                             f"at most {BOUNDS['entries']}")
    if products > BOUNDS["products"]:
        raise f.fail("type", f"the forward pass up to here needs {products:,} multiply-adds; at most "
                             f"{BOUNDS['products']:,} (every one is derived exactly)")
    if outputs > BOUNDS["outputs"]:
        raise f.fail("type", f"the layers up to here output {outputs:,} entries together; at most "
                             f"{BOUNDS['outputs']:,} (every one is derived exactly)")


def _loss(f: Fields, layers: tuple[Layer, ...]) -> str:
    loss = f.str("loss", "squared_error", choices=LOSSES)
    allowed = LOSSES[loss].outputs
    last = layers[-1].activation or layers[-1].type
    if allowed is not None and last not in allowed:
        raise f.fail("loss", f"{loss} needs a {' or '.join(allowed)} output layer, not {last}")
    if loss == "cross_entropy":
        _check_probabilities(f)
    return loss


def _check_probabilities(f: Fields) -> None:
    """Cross-entropy targets are probabilities (soft targets need not sum to 1: then the
    derivation uses softmax's full Jacobian, not the shortcut ``y_hat - y``)."""
    raw = f.raw("y")
    flat = list(_leaves(raw))
    for i, v in enumerate(flat, start=1):
        value = to_rational(v, f.fail, f"y[{i}]")
        if not 0 <= value <= 1:
            raise f.fail(f"y[{i}]", f"a cross-entropy target is a probability in [0, 1], got {value}")


def _leaves(raw: Any):
    if isinstance(raw, list):
        for item in raw:
            yield from _leaves(item)
    else:
        yield raw


def _value(t: np.ndarray) -> Any:
    """An object array of exact numbers as the sheet holds it (matrix or N-d array)."""
    from symderiv.calculus.values import as_value

    return as_value(t)
