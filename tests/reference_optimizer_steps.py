"""Independent references for optimizer steps, used only by tests; nothing here imports symderiv.

1. :func:`steps` runs any method as a plain loop over one number type: ``Fraction`` for
   the methods without square roots (exact: equal, or not), ``Decimal`` at 60 digits for
   all of them. Settings use PyTorch's names and defaults are not assumed: the caller
   passes every setting.
2. :func:`torch_steps` runs ``torch.optim`` in float64 on the same problem (torch is
   imported only when called) and reads its states after every step.
"""
from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal, getcontext
from fractions import Fraction

getcontext().prec = 60

Number = Fraction | Decimal
Grad = Callable[[list, int], list]   # (w, step) -> the objective's gradient at w


def _sqrt(x: Number) -> Decimal:
    return x.sqrt() if isinstance(x, Decimal) else Decimal(x.numerator) / Decimal(x.denominator)


def steps(method: str, settings: dict, start: list, grad: Grad, count: int, form: str = "pytorch") -> list[dict]:
    """One dict per step: ``g`` (with L2 weight decay added), the states and ``w``.

    ``settings`` holds numbers of the same type as ``start`` (Fraction or Decimal).
    """
    one = type(start[0])(1)
    zero = [one - one for _ in start]
    w, state, out = list(start), {"m": zero, "v": zero, "s": zero}, []
    lr, wd = settings["lr"], settings.get("weight_decay", one - one)
    for t in range(1, count + 1):
        g = list(grad(w, t))
        if method != "adamw":
            g = [x + wd * y for x, y in zip(g, w)]
        record = {"g": g}
        if method == "sgd":
            w = [x - lr * y for x, y in zip(w, g)]
        elif method in ("momentum", "nesterov") and form == "classic":
            state["v"] = [settings["momentum"] * v - lr * y for v, y in zip(state["v"], g)]
            w = [x + v for x, v in zip(w, state["v"])]
            record["v"] = state["v"]
        elif method in ("momentum", "nesterov"):
            mu = settings["momentum"]
            state["v"] = [mu * v + y for v, y in zip(state["v"], g)]
            d = [y + mu * v for y, v in zip(g, state["v"])] if method == "nesterov" else state["v"]
            w = [x - lr * e for x, e in zip(w, d)]
            record["v"] = state["v"]
        elif method == "adagrad":
            state["s"] = [s + y * y for s, y in zip(state["s"], g)]
            w = [x - lr * y / (_sqrt(s) + settings["eps"]) for x, y, s in zip(w, g, state["s"])]
            record["s"] = state["s"]
        elif method == "rmsprop":
            a = settings["alpha"]
            state["v"] = [a * v + (1 - a) * y * y for v, y in zip(state["v"], g)]
            w = [x - lr * y / (_sqrt(v) + settings["eps"]) for x, y, v in zip(w, g, state["v"])]
            record["v"] = state["v"]
        else:  # adam, adamw
            b1, b2 = settings["betas"]
            if method == "adamw":
                w = [x * (1 - lr * wd) for x in w]
            state["m"] = [b1 * m + (1 - b1) * y for m, y in zip(state["m"], g)]
            state["v"] = [b2 * v + (1 - b2) * y * y for v, y in zip(state["v"], g)]
            m_hat = [m / (1 - b1 ** t) for m in state["m"]]
            v_hat = [v / (1 - b2 ** t) for v in state["v"]]
            w = [x - lr * m / (_sqrt(v) + settings["eps"]) for x, m, v in zip(w, m_hat, v_hat)]
            record.update(m=state["m"], v=state["v"], m_hat=m_hat, v_hat=v_hat)
        record["w"] = w
        out.append(record)
    return out


_TORCH = {"sgd": "SGD", "momentum": "SGD", "nesterov": "SGD", "adagrad": "Adagrad", "rmsprop": "RMSprop",
          "adam": "Adam", "adamw": "AdamW"}


def _torch_settings(method: str, settings: dict) -> dict:
    out = {k: (tuple(float(b) for b in v) if k == "betas" else float(v)) for k, v in settings.items()}
    if method == "nesterov":
        out["nesterov"] = True
    return out


def torch_steps(method: str, settings: dict, start: list, count: int, *, loss: Callable | None = None,
                given: list | None = None) -> list[dict]:
    """``torch.optim`` in float64, step by step: per step the gradient autograd (or ``given``)
    produced, torch's own states (``momentum_buffer``, ``sum``, ``square_avg``, ``exp_avg``,
    ``exp_avg_sq``) and the parameters."""
    import torch

    p = torch.tensor([float(x) for x in start], dtype=torch.float64, requires_grad=True)
    opt = getattr(torch.optim, _TORCH[method])([p], **_torch_settings(method, settings))
    out = []
    for t in range(count):
        opt.zero_grad()
        if loss is not None:
            loss(p).backward()
        else:
            p.grad = torch.tensor([float(x) for x in given[t]], dtype=torch.float64)
        grad = p.grad.detach().clone().tolist()
        opt.step()
        state = {k: v.detach().clone().tolist() for k, v in opt.state[p].items() if k != "step"}
        out.append({"grad": grad, "w": p.detach().clone().tolist(), **state})
    return out
