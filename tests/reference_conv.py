"""Independent, naive references for convolutions, used only by tests.

Nothing here imports symderiv. Sizes are counted by trying every start position and
every kernel tap; the convolution is four nested loops over exact Fractions that read
zero outside the input instead of building a padded copy. PyTorch (float64) is the
second, framework reference where installed.
"""
from __future__ import annotations

from fractions import Fraction


def count_starts(n: int, k: int, before: int, after: int, s: int, d: int = 1) -> list[int]:
    """1-based starts 1, 1 + s, ... whose every tap t + u d (u < k) lies in the padded input."""
    padded = n + before + after
    return [t for t in range(1, padded + 1, s) if all(1 <= t + u * d <= padded for u in range(k))]


def same_pads(k: int, d: int) -> tuple[int, int]:
    """PyTorch's padding='same' split, as its documentation states it: total d(k-1), extra at the end."""
    total = d * (k - 1)
    return total // 2, total - total // 2


def _read(channel: list[list[Fraction]], r: int, q: int) -> Fraction:
    """Entry (r, q) of an unpadded channel, zero outside it (0-based)."""
    if 0 <= r < len(channel) and 0 <= q < len(channel[0]):
        return Fraction(channel[r][q])
    return Fraction(0)


def conv2d(x, w, stride=(1, 1), pads=(0, 0, 0, 0), dilation=(1, 1)) -> list[list[list[Fraction]]]:
    """Cross-correlation of x [C][H][W] with w [F][C][kh][kw]; pads = (top, bottom, left, right).

    Output [F][Ho][Wo], each entry a plain sum over channels and kernel taps.
    """
    (top, bottom, left, right), (sh, sw), (dh, dw) = pads, stride, dilation
    kh, kw = len(w[0][0]), len(w[0][0][0])
    rows = count_starts(len(x[0]), kh, top, bottom, sh, dh)
    cols = count_starts(len(x[0][0]), kw, left, right, sw, dw)
    out = []
    for filt in w:
        plane = []
        for r0 in rows:
            line = []
            for c0 in cols:
                total = Fraction(0)
                for ch, kern in enumerate(filt):
                    for u in range(kh):
                        for v in range(kw):
                            r = r0 - 1 + u * dh - top
                            q = c0 - 1 + v * dw - left
                            total += _read(x[ch], r, q) * Fraction(kern[u][v])
                line.append(total)
            plane.append(line)
        out.append(plane)
    return out


def torch_conv2d(x, w, stride=(1, 1), pads=(0, 0, 0, 0), dilation=(1, 1), same=False):
    """The same cross-correlation by torch.nn.functional.conv2d in float64: a [F][Ho][Wo] array."""
    import torch
    import torch.nn.functional as F

    xt = torch.tensor([[[float(v) for v in row] for row in ch] for ch in x], dtype=torch.float64)[None]
    wt = torch.tensor([[[[float(v) for v in row] for row in k] for k in f] for f in w], dtype=torch.float64)
    if same:
        return F.conv2d(xt, wt, stride=1, padding="same", dilation=dilation)[0].numpy()
    top, bottom, left, right = pads
    xt = F.pad(xt, (left, right, top, bottom))
    return F.conv2d(xt, wt, stride=stride, dilation=dilation)[0].numpy()


def torch_output_shape(h: int, w: int, c: int, filters: int, kernel, stride, padding, dilation) -> tuple[int, int, int]:
    """(H_out, W_out, channels) of torch.nn.Conv2d on a zero input; ``padding`` may be 'same'."""
    import torch

    layer = torch.nn.Conv2d(c, filters, kernel_size=kernel, stride=stride, padding=padding, dilation=dilation,
                            bias=False)
    with torch.no_grad():
        out = layer(torch.zeros(1, c, h, w))
    return int(out.shape[2]), int(out.shape[3]), int(out.shape[1])
