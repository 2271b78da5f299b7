"""The log-variance at a memorised point under beta-NLL: plain gradient descent against Adam.

At a point the mean reproduces exactly (residual r = 0) with a free log-variance
s = log v, beta-NLL's loss is stopgrad(v^beta) (log v)/2 (Seitzer, Tavakoli, Antic &
Martius, ICLR 2022), whose gradient in s is v^beta / 2 = e^(beta s) / 2.

- Plain gradient descent with rate eta moves s by -eta e^(beta s)/2 per step: for
  beta > 0 the fall slows to s ~ -(1/beta) log(beta eta t / 2) (a power law in v); for
  beta = 0 (the NLL) s falls linearly, by eta/2 per step.
- Adam divides the gradient by the root of its running second moment, so it is nearly
  blind to the factor v^beta: s falls at a rate of order eta per step, about linearly,
  until v^beta / 2 comes down to Adam's eps (1e-8), i.e. until s ~ (1/beta) log(2 eps).

:func:`memorised_dynamics` computes both with torch.optim's update rules (in Python
floats; :func:`torch_paths` is the torch.optim reference they are tested against).
Conventions: natural log; v a variance; one element.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["MemorisedDynamics", "memorised_dynamics", "torch_paths"]


@dataclass(frozen=True)
class MemorisedDynamics:
    """Log-variance s after each checkpoint's number of steps, from s = 0."""

    beta: float
    lr: float
    adam_eps: float
    checkpoints: tuple[int, ...]
    sgd: tuple[float, ...]
    adam: tuple[float, ...]

    @property
    def sgd_flow(self) -> tuple[float, ...]:
        """The gradient flow's s(t): -(1/beta) log(1 + beta lr t/2), or -lr t/2 for beta = 0."""
        import math

        if self.beta == 0:
            return tuple(-self.lr * t / 2 for t in self.checkpoints)
        return tuple(-math.log1p(self.beta * self.lr * t / 2) / self.beta for t in self.checkpoints)

    @property
    def adam_rate_per_lr(self) -> float:
        """Adam's average fall of s per step over the checkpoints, in units of the rate."""
        return -self.adam[-1] / (self.checkpoints[-1] * self.lr)

    @property
    def adam_saturation(self) -> float | None:
        """s at which v^beta/2 reaches Adam's eps: (1/beta) log(2 eps); None for beta = 0."""
        import math

        return None if self.beta == 0 else math.log(2 * self.adam_eps) / self.beta


def _paths(beta: float, lr: float, checkpoints: tuple[int, ...], adam_eps: float
           ) -> tuple[list[float], list[float]]:
    """SGD and Adam on s, in Python floats: torch.optim's update rules (Adam with its
    defaults betas = (0.9, 0.999) and bias correction; tested against torch.optim), about
    100 times faster than stepping torch on one scalar."""
    import math

    b1, b2 = 0.9, 0.999
    s_sgd = s_adam = 0.0
    m = v = 0.0
    marks = set(checkpoints)
    sgd: list[float] = []
    adam: list[float] = []
    for t in range(1, max(checkpoints) + 1):
        s_sgd -= lr * math.exp(beta * s_sgd) / 2
        g = math.exp(beta * s_adam) / 2
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        s_adam -= lr * (m / (1 - b1**t)) / (math.sqrt(v / (1 - b2**t)) + adam_eps)
        if t in marks:
            sgd.append(s_sgd)
            adam.append(s_adam)
    return sgd, adam


def torch_paths(beta: float, *, lr: float = 3e-3, steps: int = 200, adam_eps: float = 1e-8
                ) -> tuple[float, float]:
    """s after ``steps`` steps of ``torch.optim.SGD`` and ``torch.optim.Adam`` (float64):
    the reference the Python-float paths are tested against."""
    import torch

    out = []
    for name in ("sgd", "adam"):
        s = torch.zeros((), dtype=torch.float64, requires_grad=True)
        opt = (torch.optim.SGD([s], lr=lr) if name == "sgd"
               else torch.optim.Adam([s], lr=lr, eps=adam_eps, foreach=False))
        for _ in range(steps):
            opt.zero_grad()
            loss = torch.exp(beta * s).detach() * s / 2   # stopgrad(v^beta) log(v)/2, r = 0
            loss.backward()
            opt.step()
        out.append(float(s.detach()))
    return out[0], out[1]


def memorised_dynamics(beta: float, *, lr: float = 3e-3,
                       checkpoints: tuple[int, ...] = (10_000, 20_000, 40_000, 80_000),
                       adam_eps: float = 1e-8) -> MemorisedDynamics:
    """SGD and Adam on beta-NLL at r = 0 from s = 0 (lr 3e-3 and Adam's eps 1e-8, as the
    project's training runs use)."""
    from vaeproofs.validation import check_positive

    check_positive("lr", lr)
    check_positive("beta", beta, strict=False)
    marks = tuple(sorted(checkpoints))
    sgd, adam = _paths(beta, lr, marks, adam_eps)
    return MemorisedDynamics(beta=beta, lr=lr, adam_eps=adam_eps, checkpoints=marks,
                             sgd=tuple(sgd), adam=tuple(adam))
