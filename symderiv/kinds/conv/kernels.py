"""The batched conv2d kernel, printed from the window sum of products.

What the sheet shows for every output entry of a convolution (the conv problem's last
question) is a sum of products over one window. In general form, 0-based, with a batch
index ``n`` and a filter index ``f`` (``xp`` is the zero-padded input)::

    Y[n, f, i, j] = Sum(w[f, c, u, v] * xp[n, c, sh*i + dh*u, sw*j + dw*v],
                        (c, 0, C - 1), (u, 0, kh - 1), (v, 0, kw - 1))

For one kernel offset ``(u, v)``, the input entries read by all outputs ``(i, j)`` form
one strided slice of ``xp`` (start ``dh*u``, step ``sh``): that is the whole trick of
im2col. The kernel copies those ``kh*kw`` slices of a block of output rows side by side
and multiplies by the weights as a matrix (one gemm per block): the same sum of products,
with BLAS doing the multiply-adds. The slices below are printed from the index
expressions of the sum, so the code follows the expression, not a hand-written template.
"""
from __future__ import annotations

import re

import sympy as sp

from symderiv.kernels.emit import literals
from symderiv.kernels.printer import ArrayPrinter
from symderiv.kinds.registry import ProblemKernels
from symderiv.model import Problem

N, F, C, I, J, U, V = sp.symbols("n f c i j u v", integer=True, nonnegative=True)
SH, SW, DH, DW, KH, KW, CH = sp.symbols("sh sw dh dw kh kw C", integer=True, positive=True)
XP, W = sp.IndexedBase("xp"), sp.IndexedBase("w")

#: Doubles in one im2col block (256 KiB): the block and its gemm stay in L2. Measured
#: on the benchmark machine between 64 KiB and 2 MiB; flat from 128 KiB to 512 KiB.
BLOCK_DOUBLES = 1 << 15


def window_sum() -> sp.Sum:
    """Output entry ``Y[n, f, i, j]`` of a batched, strided, dilated cross-correlation."""
    term = W[F, C, U, V] * XP[N, C, SH * I + DH * U, SW * J + DW * V]
    return sp.Sum(term, (C, 0, CH - 1), (U, 0, KH - 1), (V, 0, KW - 1))


def _slices(expr: sp.Sum) -> tuple[str, str]:
    """The strided slices of ``xp`` read at one kernel offset, printed from the sum's term.

    An axis index ``s*i + d*u`` reads, for fixed ``u`` and output rows ``i0 .. i0+r-1``,
    the slice ``s*i0 + d*u : ... + (r - 1)*s + 1 : s``.
    """
    term = expr.function
    x = next(f for f in term.args if isinstance(f, sp.Indexed) and f.base == XP)
    printer = ArrayPrinter()
    rows, cols = x.indices[2], x.indices[3]
    row_step, col_step = rows.coeff(I), cols.coeff(J)
    row_start = printer.doprint(rows.subs(I, sp.Symbol("i0")))
    col_start = printer.doprint(cols.subs(J, 0))
    rs, cs = printer.doprint(row_step), printer.doprint(col_step)
    return (f"{row_start}:{row_start} + (r - 1)*{rs} + 1:{rs}",
            f"{col_start}:{col_start} + (Wo - 1)*{cs} + 1:{cs}")


def windows_source() -> str:
    """``_conv2d_windows``: every window's sum of products, by blocks of output rows."""
    expr = window_sum()
    row_slice, col_slice = _slices(expr)
    return f'''def _conv2d_windows(xp, w, sh, sw, dh, dw, Ho, Wo, block={BLOCK_DOUBLES}):
    """Y[n, f, i, j] = {expr}

    xp: (N, C, H, W) zero-padded input, w: (F, C, kh, kw). One kernel offset (u, v) reads
    one strided slice of xp for a whole block of outputs; the kh*kw slices side by side
    times the weights as a matrix is the sum of products of every window (im2col + gemm).
    """
    n_img, C, kh, kw, F = xp.shape[0], w.shape[1], w.shape[2], w.shape[3], w.shape[0]
    taps = C * kh * kw
    out = np.empty((n_img, F, Ho, Wo))
    if out.size == 0:
        return out
    weights = w.reshape(F, taps)
    images = max(1, min(n_img, block // max(1, taps * Ho * Wo)))
    rows = Ho if images > 1 else max(1, min(Ho, block // max(1, taps * Wo)))
    cols = np.empty((C, kh, kw, images, rows, Wo))
    for n0 in range(0, n_img, images):
        m = min(images, n_img - n0)
        for i0 in range(0, Ho, rows):
            r = min(rows, Ho - i0)
            window = cols[:, :, :, :m, :r]
            for u in range(kh):
                for v in range(kw):
                    np.copyto(window[:, u, v], xp[n0:n0 + m, :, {row_slice}, {col_slice}].transpose(1, 0, 2, 3))
            y = weights @ window.reshape(taps, m * r * Wo)
            out[n0:n0 + m, :, i0:i0 + r] = y.reshape(F, m, r, Wo).transpose(1, 0, 2, 3)
    return out
'''


_DRIVER = '''def _pair(value, name):
    """An int for both axes, or a (height, width) pair."""
    a = np.asarray(value, dtype=np.int64).reshape(-1)
    if a.size not in (1, 2) or (a < 0).any():
        raise ValueError(f"{name} must be a non-negative int or a (height, width) pair, got {value!r}")
    return (int(a[0]), int(a[-1]))


def _pads(padding):
    """Padding as ((top, bottom), (left, right)) from an int, a pair, or pairs of pairs."""
    a = np.asarray(padding, dtype=np.int64)
    if a.ndim == 2 and a.shape == (2, 2) and (a >= 0).all():
        return (int(a[0, 0]), int(a[0, 1])), (int(a[1, 0]), int(a[1, 1]))
    ph, pw = _pair(padding, "padding")
    return (ph, ph), (pw, pw)


def _conv2d(x, w, stride, padding, dilation):
    """Shapes, padding and output size around ``_conv2d_windows``."""
    x, w = np.asarray(x, dtype=np.float64), np.asarray(w, dtype=np.float64)
    one_filter = w.ndim == 2
    if one_filter:
        w = w[None, None]
    if x.ndim == 2:
        x = x[None]
    if w.ndim != 4 or x.ndim < 3 or x.shape[-3] != w.shape[1]:
        raise ValueError(f"x must be (..., C, H, W) and w (F, C, kh, kw) with the same C; got {x.shape}, {w.shape}")
    (sh, sw), (dh, dw) = _pair(stride, "stride"), _pair(dilation, "dilation")
    if min(sh, sw, dh, dw) < 1:
        raise ValueError("stride and dilation must be at least 1")
    (top, bottom), (left, right) = _pads(padding)
    batch, (C, H, Wd) = x.shape[:-3], x.shape[-3:]
    xp = x.reshape((-1, C, H, Wd))
    if top or bottom or left or right:
        xp = np.pad(xp, ((0, 0), (0, 0), (top, bottom), (left, right)))
    Ho = (H + top + bottom - dh * (w.shape[2] - 1) - 1) // sh + 1
    Wo = (Wd + left + right - dw * (w.shape[3] - 1) - 1) // sw + 1
    if Ho < 1 or Wo < 1:
        raise ValueError(f"the kernel does not fit the padded input ({H + top + bottom}x{Wd + left + right})")
    y = _conv2d_windows(xp, w, sh, sw, dh, dw, Ho, Wo)
    y = y.reshape(batch + y.shape[1:])
    return y[..., 0, :, :] if one_filter else y
'''


def _defaults(problem: Problem) -> dict[str, object]:
    """The convolution question's numbers, when the problem has one (else required)."""
    spec = getattr(problem.data, "apply", None)
    if spec is None:
        return {}
    x = [m.tolist() for m in spec.input]
    w = [[m.tolist() for m in f] for f in spec.kernel]
    h, wd = spec.height, spec.width
    return {"x": x, "w": w, "stride": (h.s, wd.s), "padding": ((h.before, h.after), (wd.before, wd.after)),
            "dilation": (h.d, wd.d)}


def _question(problem: Problem) -> str:
    """Id of the question answered by the convolution's output (``4.4``), if any."""
    for q in problem.questions:
        if any(re.fullmatch(r"output(_f\d+)?", a.id.rsplit(".", 1)[-1]) for a in q.answers):
            return q.id
    return f"{problem.number}.?"


def conv_helpers() -> str:
    """The shared part of every conv2d kernel (written once per module)."""
    return windows_source().strip("\n") + "\n\n\n" + _DRIVER.strip("\n") + "\n"


def conv_source(problem: Problem) -> tuple[str, str]:
    """Source of ``problem<n>_conv2d`` (its defaults and signature) and its name; it calls
    the helpers of :func:`conv_helpers`."""
    n = problem.number
    d = _defaults(problem)
    consts = [f"_P{n}_CONV_X = _const({literals(d['x'])})", f"_P{n}_CONV_W = _const({literals(d['w'])})"] if d else []
    xw = f"x=_P{n}_CONV_X, w=_P{n}_CONV_W" if d else "x, w"
    geometry = (f"stride={d['stride']!r}, padding={d['padding']!r}, dilation={d['dilation']!r}" if d
                else "stride=1, padding=0, dilation=1")
    qid = _question(problem) if d else f"{n} (no convolution question: x and w are required)"
    name = f"problem{n}_conv2d"
    public = f'''def {name}({xw}, *, {geometry}):
    """Batched 2-D convolution as deep-learning frameworks compute it (cross-correlation,
    no kernel flip): question {qid}, generalized to a batch, filters and channels.

    x: (..., C, H, W), leading axes are batch axes (or (H, W): one channel);
    w: (F, C, kh, kw) (or (kh, kw): one filter, and the result has no F axis).
    stride, dilation: an int or (height, width); padding: an int, (height, width) or
    ((top, bottom), (left, right)), zeros. Defaults are the question's numbers.
    Returns (..., F, Ho, Wo) with Ho = floor((H + top + bottom - dh*(kh - 1) - 1)/sh) + 1.
    """
    return _conv2d(x, w, stride, padding, dilation)
'''
    parts = (["\n".join(consts)] if consts else []) + [public]
    return "\n\n".join(p.strip("\n") + "\n" for p in parts), name


def problem_kernels(problem: Problem) -> ProblemKernels:
    """The conv kind's ``kernels`` hook: ``problem<n>_conv2d`` and the shared conv2d helpers."""
    source, name = conv_source(problem)
    summary = f"Problem {problem.number}: batched conv2d (cross-correlation)"
    return ProblemKernels(source, ((name, summary),), (("conv2d", conv_helpers()),))
