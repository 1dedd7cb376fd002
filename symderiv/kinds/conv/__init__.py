"""Problem kind ``conv``: convolution arithmetic (output sizes) and a 2-D convolution.

Spec fields (see README, "Spec format")::

    kind = "conv"
    [[problem.size]]            # one per size question, in order (Q.1, Q.2, ...)
    input = [36, 36, 3]         # height, width, channels
    filters = 1                 # number of filters (= output channels); default 1
    kernel = [3, 3]             # or 3, or [3, 3, 3] with the depth (must equal the channels)
    stride = 1                  # or [stride_h, stride_w]; default 1
    padding = 0                 # or [pad_h, pad_w] (each side), or "same" (stride 1); default 0
    dilation = 1                # or [dil_h, dil_w]; default 1
    [problem.apply]             # optional: the convolution itself, every window shown
    input = [[6, 0, 1], [3, 4, 1], [4, 7, 0]]   # 2-D (one channel) or 3-D [C][H][W]
    kernel = [[1, 0], [0, -1]]                  # 2-D (one filter), or 4-D [F][C][kh][kw]
    stride = 1                  # padding, dilation as above

Questions, numbered as homework 1 does: the k size questions first (Q.1 .. Q.k), the
general derivation of the output size next (Q.k+1), the convolution last (Q.k+2).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sympy as sp

from symderiv.kinds.conv.apply import ApplySpec, apply_question
from symderiv.kinds.conv.apply import notation as apply_notation
from symderiv.kinds.conv.kernels import problem_kernels
from symderiv.kinds.conv.size import NOTATION, Axis, SizeSpec, general_question, same_padding, size_question
from symderiv.kinds.registry import Kind, register
from symderiv.model import Problem
from symderiv.spec import Fields, to_rational

#: Largest input side, padding, stride, dilation and kernel side in a size question, and the
#: largest padded side (n + p_before + p_after): the counts stay small exact integers.
MAX_SIDE = 10_000
#: Largest padded side in the convolution question: its padded input is printed and drawn in full.
MAX_APPLY_SIDE = 32
#: Most output entries in the convolution question (each is one printed step).
MAX_WINDOWS = 400
#: Most products the convolution question prints in all (output entries x channels x kernel
#: taps): each is written out in the sheet and the Markdown, about 0.3 ms and 60 bytes each.
MAX_PRODUCTS = 5_000
#: Most size questions in one problem (each is a question with a figure).
MAX_SIZES = 20
GEOMETRY = {"stride", "padding", "dilation"}


@dataclass(frozen=True)
class ConvSpec:
    sizes: tuple[SizeSpec, ...]
    apply: ApplySpec | None


def whole(f: Fields, name: str, value: Any, low: int, high: int | None = None) -> int:
    """One whole number from the spec, within bounds: ``name`` is its field path."""
    number = to_rational(value, f.fail, name)
    if not number.is_integer:
        raise f.fail(name, f"expected a whole number, got {number}")
    if number < low or (high is not None and number > high):
        raise f.fail(name, f"must be >= {low}" + (f" and <= {high}" if high is not None else "") + f", got {number}")
    return int(number)


def per_axis(f: Fields, name: str, default: Any, low: int) -> tuple[int, int]:
    """A whole number for both axes, or ``[height, width]``, each within ``low`` .. MAX_SIDE."""
    raw = f.raw(name, default)
    if not isinstance(raw, list):
        value = whole(f, name, raw, low, MAX_SIDE)
        return value, value
    if len(raw) != 2:
        raise f.fail(name, f"expected a number or [height, width], got {len(raw)} entries")
    return whole(f, f"{name}[1]", raw[0], low, MAX_SIDE), whole(f, f"{name}[2]", raw[1], low, MAX_SIDE)


def geometry(f: Fields, n: tuple[int, int], k: tuple[int, int], most: int = MAX_SIDE) -> tuple[Axis, Axis, bool]:
    """Height and width axes from stride, padding and dilation; the kernel must fit, and the
    padded input be at most ``most`` a side (its size bounds everything the sheet shows)."""
    stride, dilation = per_axis(f, "stride", 1, 1), per_axis(f, "dilation", 1, 1)
    same = f.raw("padding", 0) == "same"
    if isinstance(f.raw("padding", 0), str) and not same:
        raise f.fail("padding", f"expected a number, [height, width] or \"same\", got {f.raw('padding')!r}")
    if same and stride != (1, 1):
        raise f.fail("padding", f"'same' padding needs stride 1 (as PyTorch's padding='same'), got stride {stride}")
    pad = (0, 0) if same else per_axis(f, "padding", 0, 0)
    axes = tuple(Axis(n[i], k[i], stride[i], dilation[i], pad[i], pad[i]) for i in (0, 1))
    if same:
        axes = tuple(same_padding(a) for a in axes)
    for axis, side in zip(axes, ("height", "width")):
        if axis.padded > most:
            raise f.fail("padding" if axis.padded > axis.n else "input",
                         f"the padded input's {side} ({axis.before} + {axis.n} + {axis.after} = {axis.padded}) "
                         f"must be <= {most}")
        if axis.k_eff > axis.padded:
            raise f.fail("kernel", f"the kernel's {side} ({axis.k_eff} with dilation) exceeds the padded "
                                   f"input's {side} ({axis.padded}): no position fits")
    return axes[0], axes[1], same


def _kernel_size(f: Fields, channels: int) -> tuple[int, int]:
    """``3``, ``[3, 3]``, or ``[3, 3, depth]`` with the depth equal to the input's channels."""
    raw = f.raw("kernel")
    if not isinstance(raw, list):
        return per_axis(f, "kernel", raw, 1)
    if len(raw) not in (2, 3):
        raise f.fail("kernel", f"expected a size, [height, width] or [height, width, depth], got {len(raw)} entries")
    sizes = [whole(f, f"kernel[{i}]", v, 1, MAX_SIDE) for i, v in enumerate(raw, start=1)]
    if len(sizes) == 3 and sizes[2] != channels:
        raise f.fail("kernel[3]", f"filter depth {sizes[2]} does not match the input's {channels} channels")
    return sizes[0], sizes[1]


def parse_size(f: Fields) -> SizeSpec:
    """One size question: input [H, W, C], filters, kernel, stride, padding, dilation."""
    f.check_known({"input", "filters", "kernel"} | GEOMETRY)
    raw = f.raw("input")
    if not isinstance(raw, list) or len(raw) != 3:
        raise f.fail("input", "expected [height, width, channels]")
    h, w, ch = (whole(f, f"input[{i}]", v, 1, MAX_SIDE) for i, v in enumerate(raw, start=1))
    height, width, same = geometry(f, (h, w), _kernel_size(f, ch))
    return SizeSpec(height, width, ch, f.integer("filters", 1, low=1, high=MAX_SIDE), same)


def nested(f: Fields, name: str, value: Any) -> tuple[tuple[int, ...], Any]:
    """Shape and exact entries of a rectangular nested list of numbers."""
    if not isinstance(value, list):
        return (), to_rational(value, f.fail, name)
    if not value:
        raise f.fail(name, "expected a non-empty list")
    parts = [nested(f, f"{name}[{i}]", v) for i, v in enumerate(value, start=1)]
    for i, (shape, _) in enumerate(parts, start=1):
        if shape != parts[0][0]:
            raise f.fail(f"{name}[{i}]", f"has shape {list(shape)} but {name}[1] has {list(parts[0][0])}: "
                                         "the array must be rectangular")
    return (len(value),) + parts[0][0], [x for _, x in parts]


def _array(f: Fields, name: str, ranks: tuple[int, int], expected: str) -> tuple[int, list]:
    shape, entries = nested(f, name, f.raw(name))
    if len(shape) not in ranks:
        raise f.fail(name, f"expected {expected}, got a {len(shape)}-D array")
    return len(shape), entries


def parse_apply(f: Fields) -> ApplySpec:
    """The convolution: input 2-D or [C][H][W], kernel 2-D or [F][C][kh][kw], geometry."""
    f.check_known({"input", "kernel"} | GEOMETRY)
    rank, data = _array(f, "input", (2, 3), "a 2-D array (one channel) or a 3-D one [C][H][W]")
    channels = tuple(sp.ImmutableMatrix(m) for m in ([data] if rank == 2 else data))
    rank, data = _array(f, "kernel", (2, 4), "a 2-D array (one filter) or a 4-D one [F][C][kh][kw]")
    filters = ((sp.ImmutableMatrix(data),),) if rank == 2 else tuple(tuple(map(sp.ImmutableMatrix, fl)) for fl in data)
    if len(filters[0]) != len(channels):
        raise f.fail("kernel", f"filters have {len(filters[0])} channel(s) but the input has {len(channels)}")
    first, kern = channels[0], filters[0][0]
    height, width, same = geometry(f, first.shape, kern.shape, MAX_APPLY_SIDE)
    spec = ApplySpec(channels, filters, height, width, same)
    windows = spec.filters * height.size * width.size
    if windows > MAX_WINDOWS:
        raise f.fail("input", f"the output has {windows} entries, each shown as a step; at most {MAX_WINDOWS} "
                              "are allowed")
    taps = spec.channels * height.k * width.k
    if windows * taps > MAX_PRODUCTS:
        raise f.fail("kernel", f"the steps would print {windows * taps:,} products ({windows} output entries x "
                               f"{taps} kernel entries each); at most {MAX_PRODUCTS:,} are allowed")
    return spec


def parse(f: Fields) -> ConvSpec:
    """Validate a conv spec: up to MAX_SIZES size questions and an optional convolution."""
    f.check_known({"size", "apply"})
    f.at_most("size", MAX_SIZES, "size questions (each is a question with a figure)")
    sizes = tuple(parse_size(sf) for sf in f.subs("size", required=False))
    return ConvSpec(sizes, parse_apply(f.sub("apply")) if f.has("apply") else None)


def derive(spec: ConvSpec, number: int, title: str) -> Problem:
    """Size questions, then the general count they use, then the convolution."""
    general = f"{number}.{len(spec.sizes) + 1}"
    questions = [size_question(s, f"{number}.{i}", general) for i, s in enumerate(spec.sizes, start=1)]
    questions.append(general_question(general))
    if spec.apply is not None:
        questions.append(apply_question(spec.apply, f"{number}.{len(spec.sizes) + 2}", general))
    notation = NOTATION + (apply_notation(spec.apply) if spec.apply is not None else ())
    return Problem(number, title, "conv", tuple(questions), intro=_INTRO, notation=notation, data=spec)


_INTRO = ("A convolution layer slides each filter over the (zero-padded) input with a given stride; at every "
          "position the filter's entries multiply the input entries beneath and are summed. How many positions "
          "fit decides the output size; the sums are the output's entries.")

KIND = register(Kind("conv", "Convolution arithmetic", parse, derive, doc=__doc__ or "", kernels=problem_kernels))
