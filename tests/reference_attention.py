"""Independent references for attention, used only by tests: PyTorch in float64, sympy.stats, Monte Carlo.

Nothing here imports symderiv. Scaled dot-product attention is PyTorch's
``scaled_dot_product_attention`` (boolean mask: True where a query may attend, as PyTorch
reads it); its gradients come from autograd on L = sum(G * O); the weights from
``torch.softmax`` of the masked scores. Multi-head shapes and parameter counts come from
an ``nn.MultiheadAttention`` module and one forward pass.
"""
from __future__ import annotations


def _tensor(rows):
    import torch

    return torch.tensor([[float(v) for v in row] for row in rows], dtype=torch.float64)


def weights(q, k, allowed, scale):
    """softmax(scale Q K^T) over the allowed keys (masked ones get weight 0)."""
    import torch

    scores = scale * _tensor(q) @ _tensor(k).T
    scores = scores.masked_fill(~torch.tensor(allowed), float("-inf"))
    return torch.softmax(scores, dim=-1).numpy()


def sdpa(q, k, v, allowed, scale, upstream=None):
    """(output, dL/dQ, dL/dK, dL/dV) by scaled_dot_product_attention and autograd of sum(G * O)."""
    import torch
    import torch.nn.functional as F

    tq, tk, tv = (_tensor(m).requires_grad_(True) for m in (q, k, v))
    out = F.scaled_dot_product_attention(tq[None], tk[None], tv[None], attn_mask=torch.tensor(allowed)[None],
                                         scale=float(scale))[0]
    if upstream is None:
        return out.detach().numpy(), None, None, None
    (out * _tensor(upstream)).sum().backward()
    return out.detach().numpy(), tq.grad.numpy(), tk.grad.numpy(), tv.grad.numpy()


def mha(embed_dim, num_heads, bias=True, kdim=None, vdim=None, batch=1, length=3, source_length=None):
    """(parameter count, output shape, per-head weights shape, head size) of nn.MultiheadAttention."""
    import torch

    torch.manual_seed(0)
    source_length = source_length or length
    module = torch.nn.MultiheadAttention(embed_dim, num_heads, bias=bias, kdim=kdim, vdim=vdim, batch_first=True,
                                         dtype=torch.float64)
    query = torch.zeros(batch, length, embed_dim, dtype=torch.float64)
    key = torch.zeros(batch, source_length, kdim or embed_dim, dtype=torch.float64)
    value = torch.zeros(batch, source_length, vdim or embed_dim, dtype=torch.float64)
    with torch.no_grad():
        out, attn = module(query, key, value, average_attn_weights=False)
    params = sum(p.numel() for p in module.parameters())
    return params, tuple(out.shape), tuple(attn.shape), module.head_dim


def dot_variance_exact(d_k: int):
    """Var(q . k) for independent standard normal entries, by sympy.stats (no rule of ours)."""
    from sympy.stats import Normal, variance

    q = [Normal(f"q{i}", 0, 1) for i in range(d_k)]
    k = [Normal(f"k{i}", 0, 1) for i in range(d_k)]
    return variance(sum(a * b for a, b in zip(q, k)))


def dot_variance_sampled(d_k: int, samples: int, seed: int = 0) -> tuple[float, float]:
    """Var(q . k) by Monte Carlo (uniform entries of variance 1), and the standard error of that estimate."""
    import numpy as np

    rng = np.random.default_rng(seed)
    half = np.sqrt(3.0)                                  # uniform on (-sqrt 3, sqrt 3) has variance 1
    q = rng.uniform(-half, half, size=(samples, d_k))
    k = rng.uniform(-half, half, size=(samples, d_k))
    dots = (q * k).sum(axis=1)
    squares = (dots - dots.mean()) ** 2
    return float(squares.mean()), float(squares.std() / np.sqrt(samples))
