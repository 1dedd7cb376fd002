"""Independent references for layer stacks, used only by tests: PyTorch modules and brute force.

Nothing here imports symderiv. A stack is read from the same dicts a spec holds (the
``[[problem.layer]]`` tables) into ``torch.nn`` modules: output shapes come from a forward
pass, parameter counts from ``sum(p.numel())``, FLOPs from ``FlopCounterMode`` (which counts
2 FLOPs per multiply-accumulate of a convolution or linear layer), and receptive fields from
autograd: the input pixels whose gradient is nonzero for one output pixel, with every weight
positive so that nothing cancels. Max pooling routes a gradient to one pixel per window, so
for the receptive field it is replaced by average pooling of the same geometry (the field is
what *can* influence the output); batch norm runs in evaluation mode (per channel, no
mixing across positions).
"""
from __future__ import annotations


def _pair(value, default=None):
    value = default if value is None else value
    return tuple(value) if isinstance(value, list) else value


def _module(layer: dict, shape: tuple, for_field: bool):
    """A torch module for one layer table, given the input shape (C, H, W) or (F,)."""
    import torch.nn as nn

    kind = layer["type"]
    if kind == "conv2d":
        return nn.Conv2d(shape[0], layer["out_channels"], _pair(layer["kernel_size"]), _pair(layer.get("stride"), 1),
                         _pair(layer.get("padding"), 0), _pair(layer.get("dilation"), 1), layer.get("groups", 1),
                         layer.get("bias", True), dtype=_float())
    if kind == "maxpool2d" and not for_field:
        return nn.MaxPool2d(_pair(layer["kernel_size"]), _pair(layer.get("stride")), _pair(layer.get("padding"), 0),
                            _pair(layer.get("dilation"), 1))
    if kind in ("maxpool2d", "avgpool2d"):
        if layer.get("dilation", 1) != 1:
            return _dilated_mean(layer)
        return nn.AvgPool2d(_pair(layer["kernel_size"]), _pair(layer.get("stride")), _pair(layer.get("padding"), 0))
    if kind in ("batchnorm2d", "batchnorm1d"):
        norm = (nn.BatchNorm2d if kind == "batchnorm2d" else nn.BatchNorm1d)(shape[0], affine=layer.get("affine", True),
                                                                           dtype=_float())
        return norm.eval()
    if kind == "linear":
        return nn.Linear(shape[0], layer["out_features"], layer.get("bias", True), dtype=_float())
    return {"flatten": nn.Flatten, "relu": nn.ReLU, "gelu": nn.GELU, "sigmoid": nn.Sigmoid, "tanh": nn.Tanh}.get(
        kind, nn.Identity)()


def _float():
    import torch

    return torch.float64


def _dilated_mean(layer: dict):
    """A dilated window summed (max pooling's geometry with dilation), as a depthwise conv of ones."""
    import torch
    import torch.nn as nn

    k = _pair(layer["kernel_size"])
    k = (k, k) if isinstance(k, int) else k

    class DilatedSum(nn.Module):
        def forward(self, x):
            w = torch.ones(x.shape[1], 1, *k, dtype=x.dtype)
            return nn.functional.conv2d(x, w, None, _pair(layer.get("stride"), k), _pair(layer.get("padding"), 0),
                                        _pair(layer.get("dilation"), 1), groups=x.shape[1])

    return DilatedSum()


class Stack:
    """The layers as torch modules, run in order; an ``add`` adds an earlier output (``from``)."""

    def __init__(self, problem: dict, for_field: bool = False) -> None:
        import torch

        self.input = tuple(problem["input"])
        self.layers, self.sources, self.names = [], [], {}
        outputs = [torch.zeros((1,) + self.input, dtype=torch.float64)]      # to learn each layer's input shape
        for index, layer in enumerate(problem["layer"], start=1):
            module = _module(layer, tuple(outputs[-1].shape[1:]), for_field)
            self.layers.append(module)
            source = layer.get("from")
            self.sources.append(self.names.get(source, source) if layer["type"] == "add" else None)
            if "name" in layer:
                self.names[layer["name"]] = index
            with torch.no_grad():
                outputs.append(self._step(index - 1, outputs))

    def _step(self, index: int, outputs: list):
        """Layer ``index`` (0-based) on the outputs so far."""
        source = self.sources[index]
        return outputs[-1] + outputs[source] if source is not None else self.layers[index](outputs[-1])

    def run(self, x):
        """Every output: index 0 is the input, index l the output of layer l."""
        outputs = [x]
        for index in range(len(self.layers)):
            outputs.append(self._step(index, outputs))
        return outputs


def shapes_and_params(problem: dict) -> list[tuple[tuple[int, ...], int]]:
    """(output shape without the batch axis, parameter count) of every layer."""
    import torch

    stack = Stack(problem)
    with torch.no_grad():
        outputs = stack.run(torch.zeros((1,) + stack.input, dtype=torch.float64))
    counts = [sum(p.numel() for p in getattr(m, "parameters", list)()) for m in stack.layers]
    return [(tuple(o.shape[1:]), c) for o, c in zip(outputs[1:], counts)]


def flops(problem: dict, batch: int = 1) -> list[int]:
    """FLOPs of every layer as FlopCounterMode counts them, on a batch of ``batch``."""
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    stack = Stack(problem)
    out = []
    x = torch.zeros((batch,) + stack.input, dtype=torch.float64)
    outputs = [x]
    with torch.no_grad():
        for module, source in zip(stack.layers, stack.sources):
            with FlopCounterMode(display=False) as counter:
                y = outputs[-1] + outputs[source] if source is not None else module(outputs[-1])
            outputs.append(y)
            out.append(counter.get_total_flops())
    return out


def _positive(stack: Stack) -> None:
    import torch

    with torch.no_grad():
        for module in stack.layers:
            for p in getattr(module, "parameters", list)():
                p.copy_(torch.rand_like(p) + 0.5)


def field_stack(problem: dict) -> Stack:
    """The stack for receptive fields: max pooling as average pooling, every weight positive."""
    import torch

    torch.manual_seed(0)
    stack = Stack(problem, for_field=True)
    _positive(stack)
    return stack


def receptive_pixels(stack: Stack, layer: int, row: int, col: int) -> tuple[set[int], set[int]]:
    """Rows and columns of the input pixels with a nonzero gradient for output pixel (row, col)
    of layer ``layer`` of a :func:`field_stack` (0-based pixel positions, summed over channels)."""
    import torch

    x = (torch.rand((1,) + stack.input, dtype=torch.float64) + 0.5).requires_grad_(True)
    out = stack.run(x)[layer]
    out[0, :, row, col].sum().backward()
    seen = (x.grad[0].abs().sum(dim=0) > 0).nonzero().tolist()
    return {r for r, _ in seen}, {c for _, c in seen}


def taps(problem: dict, layer: int, axis: int, position: int | set[int]) -> set[int]:
    """Input pixels (unclipped: negative and past the end are padding) read by ``position`` (or a
    set of positions) of layer ``layer`` along ``axis`` (0 height, 1 width), composing every tap
    back to the input; an add reads the same positions of both its operands."""
    tables = problem["layer"]
    names = {t["name"]: i for i, t in enumerate(tables, start=1) if "name" in t}
    wanted = {position} if isinstance(position, int) else set(position)
    for index in range(layer, 0, -1):
        t = tables[index - 1]
        if t["type"] in ("conv2d", "maxpool2d", "avgpool2d"):
            k, s, p, d = (_axis(t, name, default, axis) for name, default in
                          (("kernel_size", None), ("stride", None), ("padding", 0), ("dilation", 1)))
            s = s if s is not None else (1 if t["type"] == "conv2d" else k)
            wanted = {i * s - p + u * d for i in wanted for u in range(k)}
        elif t["type"] == "add":
            source = names.get(t["from"], t["from"])
            return taps(problem, index - 1, axis, wanted) | taps(problem, source, axis, wanted)
    return wanted


def _axis(t: dict, name: str, default, axis: int):
    value = t.get(name, default)
    return value[axis] if isinstance(value, list) else value
