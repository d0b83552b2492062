"""Optimizers over sparse gradients: only the rows a batch touched move.

``optimizer.step(layer, grad)`` applies a :class:`~embload.layer.SparseGrad`
(from ``layer.backward``) to ``layer.weights`` in place;
``optimizer.update(layer, indices, grad_output)`` does both in one call, and
for plain SGD skips building the SparseGrad (the fastest path: one pass over
the gradient). Rows the layer marks as frozen are never changed, even when a
hand-made gradient lists them.

An optimizer uses only the layer's public interface: ``weights``, ``threads``,
``trainable_gradient`` (a gradient checked against the table, frozen rows taken
out) and, for the fused SGD path, ``sgd_step``. Its own state stays here, keyed
by layer; the arithmetic is one kernel, ``embload._layer.step``.

State is per layer and per row, in dense arrays of the table's shape that are
allocated at the first step (memory: SGD with momentum and Adagrad one extra
table, Adam two). The step counter is per layer and counts every ``step``
call, as PyTorch counts them per parameter.

Differences from the dense optimizers, which update every row at every step:

* ``SGD`` without momentum is the same as dense SGD with a sparse gradient.
  With momentum, the default ``lazy=True`` moves only touched rows and decays
  only their buffers; ``lazy=False`` gives dense momentum (and PyTorch's
  sparse SGD): every row that ever had a gradient keeps moving by its decaying
  buffer, at a cost that grows with the number of such rows.
* ``Adagrad`` with sparse gradients is exactly dense Adagrad: a row without a
  gradient would not move anyway. Matches ``torch.optim.Adagrad``.
* ``Adam`` is lazy like ``torch.optim.SparseAdam``: untouched rows keep their
  moments unchanged (dense Adam would decay them and keep moving the row),
  and the bias corrections use the layer's global step count, so a row first
  seen at step 1000 moves by about ``2.5 * lr`` on that step, where a fresh
  dense Adam's first step is ``lr``.
* ``weight_decay`` (L2, added to the gradient: ``g + wd * w``) applies only to
  touched rows; PyTorch refuses weight decay with sparse gradients.
"""

import math
import weakref

import numpy as np

from . import _layer
from ._threads import resolve_threads

__all__ = ["SGD", "Adagrad", "Adam"]


def _non_negative(name, value):
    value = float(value)
    if not value >= 0 or math.isinf(value):
        raise ValueError(f"{name} must be a finite number >= 0, got {value}")
    return value


class _SparseOptimizer:
    def __init__(self, lr, weight_decay):
        self.lr = _non_negative("lr", lr)
        self.weight_decay = _non_negative("weight_decay", weight_decay)
        self._states = weakref.WeakKeyDictionary()

    def state(self, layer):
        """The per-layer state dict: 'step' and the state arrays (live, not copies)."""
        state = self._states.get(layer)
        if state is None:
            state = {"step": 0}
            self._states[layer] = state
        return state

    def reset(self, layer=None):
        """Forget the state of ``layer`` (or of every layer)."""
        if layer is None:
            self._states = weakref.WeakKeyDictionary()
        else:
            self._states.pop(layer, None)

    def _dense_state(self, state, name, table, fill=0.0):
        arr = state.get(name)
        if arr is None or arr.shape != table.shape or arr.dtype != table.dtype:
            # np.full writes every page now: with np.zeros the kernel would map
            # zero pages lazily and each step would pay page faults for new rows.
            arr = np.full(table.shape, fill, dtype=table.dtype)
            state[name] = arr
        return arr

    def update(self, layer, indices, grad_output):
        """``step(layer, layer.backward(indices, grad_output))`` in one call.

        Plain SGD (no momentum, no weight decay) skips building the sparse
        gradient: each looked-up row moves by ``lr * grad`` once per occurrence,
        in batch order (the same up to rounding, and still the same bits for any
        thread count).
        """
        self.step(layer, layer.backward(indices, grad_output))

    def step(self, layer, grad):
        """Apply ``grad`` (a SparseGrad from ``layer.backward``) to ``layer.weights``."""
        grad = layer.trainable_gradient(grad)
        state = self.state(layer)
        state["step"] += 1
        self._apply(layer.weights, grad.rows, grad.values, state,
                    resolve_threads(layer.threads))

    def __repr__(self):
        fields = ", ".join(f"{k}={v!r}" for k, v in vars(self).items() if not k.startswith("_"))
        return f"{type(self).__name__}({fields})"


class SGD(_SparseOptimizer):
    """Stochastic gradient descent on the touched rows, with optional momentum.

    Parameters
    ----------
    lr : float
    momentum : float
        0 for plain SGD; else ``buf = momentum * buf + g`` and the row moves by
        ``lr * buf`` (``lr * (g + momentum * buf)`` with ``nesterov``).
    nesterov : bool
    weight_decay : float
        L2 penalty added to the gradient of touched rows.
    lazy : bool
        With momentum: True (default) updates only touched rows and their
        buffers; False keeps moving every row that has a buffer, like dense
        momentum and ``torch.optim.SGD`` with sparse gradients.
    """

    def __init__(self, lr=0.01, momentum=0.0, *, nesterov=False, weight_decay=0.0,
                 lazy=True):
        super().__init__(lr, weight_decay)
        self.momentum = _non_negative("momentum", momentum)
        self.nesterov = bool(nesterov)
        self.lazy = bool(lazy)
        if self.nesterov and self.momentum == 0:
            raise ValueError("nesterov needs momentum > 0")

    def update(self, layer, indices, grad_output):
        if self.momentum or self.weight_decay:
            return super().update(layer, indices, grad_output)
        layer.sgd_step(indices, grad_output, self.lr)
        self.state(layer)["step"] += 1

    update.__doc__ = _SparseOptimizer.update.__doc__

    def _apply(self, table, rows, values, state, threads):
        if self.momentum == 0:
            _layer.step("sgd", table, (), rows, values, self.lr, self.weight_decay,
                        nthreads=threads)
            return
        buf = self._dense_state(state, "momentum_buffer", table)
        if not self.lazy:
            # Rows with a buffer keep moving: run the kernel over all of them,
            # with a zero gradient where this batch did not touch the row.
            active = state.get("active_rows")
            active = rows if active is None else np.union1d(active, rows)
            state["active_rows"] = active
            if len(active) != len(rows):
                full = np.zeros((len(active), table.shape[1]), dtype=table.dtype)
                full[np.searchsorted(active, rows)] = values
                rows, values = active, full
        _layer.step("momentum", table, (buf,), rows, values, self.lr, self.weight_decay,
                    momentum=self.momentum, nesterov=self.nesterov, nthreads=threads)


class Adagrad(_SparseOptimizer):
    """Adagrad on the touched rows (``torch.optim.Adagrad`` with sparse gradients).

    ``acc += g * g``; the row moves by ``clr * g / (sqrt(acc) + eps)`` with
    ``clr = lr / (1 + (step - 1) * lr_decay)``.
    """

    def __init__(self, lr=0.01, *, lr_decay=0.0, weight_decay=0.0,
                 initial_accumulator_value=0.0, eps=1e-10):
        super().__init__(lr, weight_decay)
        self.lr_decay = _non_negative("lr_decay", lr_decay)
        self.initial_accumulator_value = _non_negative("initial_accumulator_value",
                                                       initial_accumulator_value)
        self.eps = _non_negative("eps", eps)

    def _apply(self, table, rows, values, state, threads):
        acc = self._dense_state(state, "sum", table, self.initial_accumulator_value)
        clr = self.lr / (1 + (state["step"] - 1) * self.lr_decay)
        _layer.step("adagrad", table, (acc,), rows, values, clr, self.weight_decay,
                    eps=self.eps, nthreads=threads)


class Adam(_SparseOptimizer):
    """Lazy Adam (``torch.optim.SparseAdam``): only touched rows and their moments move.

    ``m += (1 - b1)(g - m)``, ``v += (1 - b2)(g*g - v)``, and the row moves by
    ``lr * sqrt(1 - b2**t) / (1 - b1**t) * m / (sqrt(v) + eps)`` where ``t`` is
    the layer's global step count. See the module notes for how this differs
    from dense Adam.
    """

    def __init__(self, lr=0.001, betas=(0.9, 0.999), *, eps=1e-8, weight_decay=0.0):
        super().__init__(lr, weight_decay)
        beta1, beta2 = (float(b) for b in betas)
        if not (0 <= beta1 < 1 and 0 <= beta2 < 1):
            raise ValueError(f"betas must be in [0, 1), got {betas!r}")
        self.betas = (beta1, beta2)
        self.eps = _non_negative("eps", eps)

    def _apply(self, table, rows, values, state, threads):
        m = self._dense_state(state, "exp_avg", table)
        v = self._dense_state(state, "exp_avg_sq", table)
        t = state["step"]
        beta1, beta2 = self.betas
        step_size = self.lr * math.sqrt(1 - beta2 ** t) / (1 - beta1 ** t)
        _layer.step("adam", table, (m, v), rows, values, step_size, self.weight_decay,
                    beta1=beta1, beta2=beta2, eps=self.eps, nthreads=threads)
