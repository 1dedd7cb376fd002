"""Problem kind ``architecture``: shapes, parameters, MACs, memory and receptive fields of a layer stack.

Spec fields (see README, "Spec format")::

    kind = "architecture"
    input = [3, 32, 32]          # channels, height, width (PyTorch's C, H, W)
    batch = 1                    # optional, default 1: MACs and memory are for the whole batch
    dtype = "float32"            # optional: float64, float32 (default), float16, bfloat16
    [[problem.layer]]            # one per layer, input side first
    type = "conv2d"              # conv2d, maxpool2d, avgpool2d, batchnorm2d, batchnorm1d, flatten,
                                 # linear, add, relu, gelu, sigmoid, tanh
    name = "conv1"               # optional label
    out_channels = 16            # then PyTorch's fields: kernel_size, stride, padding, dilation,
    kernel_size = 3              # groups, bias (conv2d); out_features, bias (linear); affine
                                 # (batch norm); from (add: an earlier layer's number or name,
                                 # 0 = the input)

Six questions: Q.1 output shapes, Q.2 parameters, Q.3 multiply-accumulates, Q.4
activation memory, Q.5 the receptive field and jump (the recurrence derived, then every
layer), Q.6 a summary table.
"""
from __future__ import annotations

from symderiv.kinds.architecture.counts import macs_question, memory_question, params_question
from symderiv.kinds.architecture.fields import NOTATION as FIELD_NOTATION
from symderiv.kinds.architecture.fields import field_question
from symderiv.kinds.architecture.parse import ArchitectureSpec, parse
from symderiv.kinds.architecture.questions import shape_question, shape_tex
from symderiv.kinds.architecture.summary import summary_question
from symderiv.kinds.architecture.verify import verify
from symderiv.kinds.registry import Kind, register
from symderiv.model import Problem

_NAMES = ("C_in", "C_out", "F_in", "F_out", "H_out", "W_out", "H_in")


def notation(spec: ArchitectureSpec) -> tuple[tuple[str, str], ...]:
    """Roman subscripts for in/out, and each layer's shape symbol."""
    out = [(x, f"{x[0]}_{{\\mathrm{{{x[2:]}}}}}") for x in _NAMES]
    out += [(f"shape{layer.index}", shape_tex(layer.index, len(layer.shape) == 1)) for layer in spec.layers]
    return tuple(out) + FIELD_NOTATION


def derive(spec: ArchitectureSpec, number: int, title: str) -> Problem:
    """Shapes, parameters, MACs, memory, receptive fields, then the summary."""
    q = lambda index: f"{number}.{index}"  # noqa: E731
    questions = [shape_question(spec, q(1)), params_question(spec, q(2)), macs_question(spec, q(3)),
                 memory_question(spec, q(4)), field_question(spec, q(5))]
    questions.append(summary_question(spec, tuple(questions), q(6)))
    return Problem(number, title, "architecture", tuple(questions), intro=_INTRO, notation=notation(spec), data=spec)


_INTRO = ("A stack of layers turns its input into ever smaller, deeper maps and finally into a vector. For each "
          "layer we work out the shape of its output, how many parameters it trains, how many multiply-accumulates "
          "a forward pass costs, how much memory its output takes, and how much of the input one of its outputs "
          "can see.")

KIND = register(Kind("architecture", "Architecture arithmetic", parse, derive, doc=__doc__ or "", verify=verify))
