"""Adam updates with every loss and every parameter checked for finiteness: :class:`Trainer`.

Conventions: the loss is minus the mean over the minibatch of the per-point training
objective (the ELBO, or a loss-style head's reported objective; natural log, summed
over pixels, averaged over the reparameterised draws).  With fresh dequantisation the
noise is added to each minibatch from the trainer's generator.

Checking finiteness without paying for it every step: :meth:`Trainer.run` takes the
updates between two checks without looking at them, keeping each loss as a tensor (no
conversion to a Python float) and a snapshot of the state at the start of the window
(parameters, Adam's moments, the generator, the minibatch order).  At the end of the
window it checks every kept loss and every parameter at once.  A non-finite parameter
stays non-finite under later Adam updates (p - lr * u is NaN or infinite when p is), so
the end-of-window check sees any parameter that went bad inside the window.  If the
check fails, the snapshot is restored and the window is replayed one checked update at
a time (:meth:`Trainer.step`), which stops at the first bad update exactly as a
per-step check would, with the same state: the replay follows the same trajectory
because every draw comes from the restored generator and the algorithms are
deterministic.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import Tensor

from vaeproofs.numeric.networks import VAE, gaussian_kl_standard

__all__ = ["CHECK_EVERY", "Trainer", "adam_options"]

#: Updates between two finiteness checks of :meth:`Trainer.run`.
CHECK_EVERY = 100


def adam_options() -> dict[str, bool]:
    """``fused=True`` (one kernel for all parameters; faster on small CPU models) when this
    torch version supports it on the CPU, else torch's default implementation."""
    try:
        torch.optim.Adam([torch.zeros(1, requires_grad=True)], fused=True)
    except (RuntimeError, TypeError, ValueError):
        return {}
    return {"fused": True}


@dataclass
class _Snapshot:
    """The state a window of :meth:`Trainer.run` starts from."""

    params: list[Tensor]
    adam: dict[str, list[Tensor]]  # Adam's per-parameter tensors by key; {} before step 1
    generator: Tensor
    order: Tensor
    pos: int


class Trainer:
    """Adam updates on a fixed training tensor.

    :meth:`step` takes one update and checks it; :meth:`run` takes many and checks them
    together (see the module docstring).  Both draw the minibatches and the
    reparameterisation noise from ``generator``; when an update is bad they stop and
    say why in :attr:`problem`.
    """

    def __init__(self, model: VAE, x_train: Tensor, *, lr: float, batch_size: int | None,
                 train_samples: int, generator: torch.Generator,
                 noise_scale: float | None = None, check_every: int = CHECK_EVERY) -> None:
        self.model = model
        self.x = x_train
        self.n = x_train.shape[0]
        self.batch_size = self.n if batch_size is None else min(batch_size, self.n)
        self.samples = train_samples
        self.generator = generator
        self.check_every = check_every
        self.params = [p for p in model.parameters() if p.requires_grad]
        self.names = [n for n, p in model.named_parameters() if p.requires_grad]
        self.optimizer = torch.optim.Adam(self.params, lr=lr, **adam_options())
        self._order = torch.empty(0, dtype=torch.long)
        self._pos = 0
        self.problem: str | None = None
        #: fresh dequantisation: add noise_scale * U(0, 1) noise to every batch, redrawn each step.
        self.noise_scale = noise_scale
        #: The loss of the last good update (``None`` before the first).
        self.last_loss: float | None = None

    def _batch(self) -> Tensor:
        if self.batch_size == self.n:
            return self.x
        if self._pos + self.batch_size > self._order.numel():
            self._order = torch.randperm(self.n, generator=self.generator)
            self._pos = 0
        idx = self._order[self._pos:self._pos + self.batch_size]
        self._pos += self.batch_size
        return self.x[idx]

    def _loss(self) -> Tensor:
        """Minus the minibatch mean of the training objective (the ELBO unless the head's
        objective differs, see :meth:`VAE.objective`): the mean over draws and points of
        kl - rec."""
        xb = self._batch()
        if self.noise_scale is not None:
            xb = xb + self.noise_scale * torch.rand(xb.shape, generator=self.generator,
                                                    dtype=xb.dtype)
        if self.samples > 1:
            rec, kl = self.model.elbo_terms(xb, samples=self.samples, generator=self.generator,
                                            objective=True)
            return (kl - rec).mean()
        # One draw per point: the terms of VAE.objective(samples=1) from the same draws,
        # without its leading draws axis, whose broadcasting and 3-D products cost about
        # 5% of a step (tests check the two agree).
        mean, log_var = self.model.encode(xb)
        eps = torch.randn(mean.shape, generator=self.generator, dtype=mean.dtype,
                          device=mean.device)
        z = mean + torch.exp(0.5 * log_var) * eps
        rec = self.model.head.objective(xb, self.model.decoder(z))
        return (gaussian_kl_standard(mean, log_var) - rec).mean()

    def _update(self, loss: Tensor) -> None:
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.optimizer.step()

    def _bad_parameters(self) -> list[str]:
        with torch.no_grad():
            return [n for n, p in zip(self.names, self.params, strict=True)
                    if not bool(torch.isfinite(p).all())]

    def step(self) -> float | None:
        """One checked update: returns its loss, or ``None`` (and sets :attr:`problem`) if
        the loss is not finite (no update is taken) or a parameter after it is not."""
        loss = self._loss()
        value = float(loss.detach())
        if not math.isfinite(value):
            self.problem = f"loss is {value}"
            return None
        self._update(loss)
        bad = self._bad_parameters()
        if bad:
            self.problem = f"non-finite parameter(s): {', '.join(bad)}"
            return None
        self.last_loss = value
        return value

    def _snapshot(self) -> _Snapshot:
        # One multi-tensor copy per kind of tensor: parameters, then each tensor that
        # Adam keeps per parameter (moments; the step count of the fused kernel).
        with torch.no_grad():
            params = torch._foreach_add(self.params, 0)  # copies
        adam: dict[str, list[Tensor]] = {}
        states = [self.optimizer.state.get(p) for p in self.params]
        if all(states):
            for key in states[0]:  # type: ignore[union-attr]
                adam[key] = torch._foreach_add([st[key] for st in states], 0)  # type: ignore[index]
        return _Snapshot(params, adam, self.generator.get_state(), self._order, self._pos)

    def _restore(self, snap: _Snapshot) -> None:
        with torch.no_grad():
            torch._foreach_copy_(self.params, snap.params)
        for i, p in enumerate(self.params):
            if snap.adam:
                self.optimizer.state[p] = {key: saved[i].clone() for key, saved in snap.adam.items()}
            else:
                self.optimizer.state.pop(p, None)
        self.generator.set_state(snap.generator)
        self._order, self._pos = snap.order, snap.pos

    def _all_finite(self, losses: list[Tensor]) -> bool:
        """Whether every kept loss and every parameter is finite.

        A screen first: a tensor holding NaN or an infinity has a non-finite norm; a
        finite tensor can overflow its norm too, so a failed screen is confirmed exactly.
        """
        with torch.no_grad():
            norms = torch._foreach_norm(self.params)
            screen = torch.isfinite(torch.stack([*norms, *losses])).all()
        if bool(screen):
            return True
        return all(math.isfinite(float(v)) for v in losses) and not self._bad_parameters()

    def run(self, updates: int) -> int:
        """Take up to ``updates`` updates; return how many were good.

        Stops at the first bad update (then :attr:`problem` says why), with the same
        result as ``updates`` calls of :meth:`step`; checks once per ``check_every``
        updates (see the module docstring).
        """
        done = 0
        while done < updates:
            window = min(self.check_every, updates - done)
            if window == 1:
                if self.step() is None:
                    return done
                done += 1
                continue
            snap = self._snapshot()
            losses = []
            for _ in range(window):
                loss = self._loss()
                self._update(loss)
                losses.append(loss.detach())
            if self._all_finite(losses):
                self.last_loss = float(losses[-1])
                done += window
                continue
            self._restore(snap)
            for i in range(window):
                if self.step() is None:
                    return done + i
            done += window
        return done
