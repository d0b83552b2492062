"""embload.optimizers: every optimizer step for step against a dense NumPy reference."""

import math

import numpy as np
import pytest

from embload import SGD, Adagrad, Adam, Embedding, SparseGrad
from embload import _layer

DTYPES = [np.float32, np.float64]
TOL = {np.float32: dict(rtol=2e-5, atol=2e-6), np.float64: dict(rtol=1e-11, atol=1e-13)}




N, DIM = 120, 12


# ---------------------------------------------------------------- dense references
# Written the obvious way over the whole table, in the table's dtype; the
# "touched" mask is what makes them sparse-aware.

class DenseSGD:
    def __init__(self, lr, momentum=0.0, nesterov=False, weight_decay=0.0, lazy=True):
        self.lr, self.mu, self.nesterov, self.wd, self.lazy = lr, momentum, nesterov, weight_decay, lazy
        self.buf = None
        self.has_buf = None

    def step(self, w, g, touched):
        t = touched[:, None]
        dt = w.dtype.type
        if self.wd:
            g = np.where(t, g + dt(self.wd) * w, g)
        if self.mu == 0:
            w -= np.where(t, dt(self.lr) * g, 0).astype(w.dtype)
            return
        if self.buf is None:
            self.buf = np.zeros_like(w)
            self.has_buf = np.zeros(len(w), bool)
        self.has_buf |= touched
        moving = (touched if self.lazy else self.has_buf)[:, None]
        new_buf = dt(self.mu) * self.buf + g
        self.buf = np.where(moving, new_buf, self.buf).astype(w.dtype)
        upd = g + dt(self.mu) * self.buf if self.nesterov else self.buf
        w -= np.where(moving, dt(self.lr) * upd, 0).astype(w.dtype)


class DenseAdagrad:
    def __init__(self, lr, lr_decay=0.0, weight_decay=0.0, initial_accumulator_value=0.0,
                 eps=1e-10):
        self.lr, self.decay, self.wd, self.init, self.eps = (lr, lr_decay, weight_decay,
                                                            initial_accumulator_value, eps)
        self.acc = None
        self.t = 0

    def step(self, w, g, touched):
        dt = w.dtype.type
        self.t += 1
        if self.acc is None:
            self.acc = np.full_like(w, self.init)
        t = touched[:, None]
        if self.wd:
            g = np.where(t, g + dt(self.wd) * w, g)
        self.acc = np.where(t, self.acc + g * g, self.acc).astype(w.dtype)
        clr = self.lr / (1 + (self.t - 1) * self.decay)
        w += np.where(t, dt(-clr) * (g / (np.sqrt(self.acc) + dt(self.eps))), 0).astype(w.dtype)


class DenseLazyAdam:
    def __init__(self, lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
        self.lr, (self.b1, self.b2), self.eps, self.wd = lr, betas, eps, weight_decay
        self.m = self.v = None
        self.t = 0

    def step(self, w, g, touched):
        dt = w.dtype.type
        self.t += 1
        if self.m is None:
            self.m, self.v = np.zeros_like(w), np.zeros_like(w)
        t = touched[:, None]
        if self.wd:
            g = np.where(t, g + dt(self.wd) * w, g)
        self.m = np.where(t, (g - self.m) * dt(1 - self.b1) + self.m, self.m).astype(w.dtype)
        self.v = np.where(t, (g * g - self.v) * dt(1 - self.b2) + self.v, self.v).astype(w.dtype)
        size = self.lr * math.sqrt(1 - self.b2 ** self.t) / (1 - self.b1 ** self.t)
        w += np.where(t, dt(-size) * (self.m / (np.sqrt(self.v) + dt(self.eps))), 0).astype(w.dtype)


CASES = [
    ("sgd", lambda: SGD(lr=0.1), lambda: DenseSGD(0.1)),
    ("sgd-wd", lambda: SGD(lr=0.1, weight_decay=0.01), lambda: DenseSGD(0.1, weight_decay=0.01)),
    ("momentum-lazy", lambda: SGD(lr=0.05, momentum=0.9),
     lambda: DenseSGD(0.05, momentum=0.9)),
    ("momentum-dense", lambda: SGD(lr=0.05, momentum=0.9, lazy=False),
     lambda: DenseSGD(0.05, momentum=0.9, lazy=False)),
    ("nesterov-wd", lambda: SGD(lr=0.05, momentum=0.8, nesterov=True, weight_decay=0.1),
     lambda: DenseSGD(0.05, momentum=0.8, nesterov=True, weight_decay=0.1)),
    ("adagrad", lambda: Adagrad(lr=0.1), lambda: DenseAdagrad(0.1)),
    ("adagrad-opts", lambda: Adagrad(lr=0.1, lr_decay=0.05, weight_decay=0.02,
                                     initial_accumulator_value=0.3, eps=1e-6),
     lambda: DenseAdagrad(0.1, 0.05, 0.02, 0.3, 1e-6)),
    ("adam", lambda: Adam(lr=0.01), lambda: DenseLazyAdam(0.01)),
    ("adam-opts", lambda: Adam(lr=0.02, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.05),
     lambda: DenseLazyAdam(0.02, (0.8, 0.99), 1e-6, 0.05)),
]


def batches(seed, steps, shape=(6, 9)):
    rng = np.random.default_rng(seed)
    for _ in range(steps):
        idx = (rng.zipf(1.3, size=shape) - 1) % N
        yield idx, rng.standard_normal(shape + (DIM,))


def make_layer(dtype, threads=2):
    frozen = np.zeros(N, bool)
    frozen[[3, 5, 8, 40, 77]] = True
    return Embedding(N, DIM, dtype=dtype, seed=1, frozen_rows=frozen, mask_zero=True,
                     threads=threads)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name,make,make_ref", CASES, ids=[c[0] for c in CASES])
def test_optimizer_matches_dense_reference_step_for_step(dtype, name, make, make_ref):
    layer = make_layer(dtype)
    opt, ref = make(), make_ref()
    w = layer.weights.copy()
    trainable = layer.trainable_mask
    for idx, grad in batches(11, 8):
        g = layer.backward(idx, grad)
        opt.step(layer, g)
        dense = np.zeros((N, DIM))
        np.add.at(dense, idx.reshape(-1), grad.reshape(-1, DIM))
        touched = np.zeros(N, bool)
        touched[idx.reshape(-1)] = True
        touched &= trainable
        ref.step(w, dense.astype(dtype), touched)
        np.testing.assert_allclose(layer.weights, w, **TOL[dtype])
    assert layer.weights.dtype == dtype


@pytest.mark.parametrize("name,make,make_ref", CASES, ids=[c[0] for c in CASES])
def test_frozen_rows_bit_identical_after_many_steps(name, make, make_ref):
    layer = make_layer(np.float32)
    before = layer.weights.copy()
    opt = make()
    frozen = ~layer.trainable_mask
    for idx, grad in batches(12, 40):
        idx[:, 0] = [0, 3, 5, 8, 40, 77]  # frozen rows and padding in every batch
        opt.step(layer, layer.backward(idx, grad))
    assert layer.weights[frozen].tobytes() == before[frozen].tobytes()
    assert not np.array_equal(layer.weights[~frozen], before[~frozen])
    # a hand-made gradient naming frozen rows does not move them either
    opt.step(layer, SparseGrad([0, 3, 10], np.ones((3, DIM), np.float32), N))
    assert layer.weights[frozen].tobytes() == before[frozen].tobytes()


@pytest.mark.parametrize("name,make,make_ref", CASES, ids=[c[0] for c in CASES])
def test_thread_count_does_not_change_a_bit(name, make, make_ref, threaded):
    results = []
    for threads in (1, 2, 3):
        layer = make_layer(np.float32, threads=threads)
        opt = make()
        for idx, grad in batches(13, 5, shape=(30, 40)):
            opt.step(layer, layer.backward(idx, grad))
        results.append(layer.weights.tobytes())
    assert results[0] == results[1] == results[2]


def test_sparse_adam_differs_from_dense_adam_only_on_untouched_rows():
    # lazy: a row left out of a step keeps its weights and moments
    layer = Embedding(4, 2, weights=np.ones((4, 2)), dtype=np.float64)
    opt = Adam(lr=0.1)
    opt.step(layer, layer.backward([1, 2], np.ones((2, 2))))
    after_first = layer.weights.copy()
    np.testing.assert_allclose(after_first[1:3], 0.9)  # first Adam step moves by lr
    opt.step(layer, layer.backward([1], np.ones((1, 2))))
    assert layer.weights[2].tobytes() == after_first[2].tobytes()
    assert opt.state(layer)["step"] == 2
    np.testing.assert_allclose(opt.state(layer)["exp_avg"][2], [0.1, 0.1], rtol=1e-15)


def test_optimizer_errors():
    layer = Embedding(5, 3)
    with pytest.raises(TypeError, match="grad must be a SparseGrad"):
        SGD().step(layer, np.ones((5, 3)))
    with pytest.raises(ValueError, match="gradient rows have length 4, the table rows 3"):
        SGD().step(layer, SparseGrad([1], np.ones((1, 4))))
    with pytest.raises(IndexError, match="gradient row 7 is out of range for a table of 5"):
        SGD().step(layer, SparseGrad([7], np.ones((1, 3))))
    edited = SparseGrad([1, 2, 3], np.ones((3, 3)))
    edited.rows[1] = 99  # rows edited by hand are checked again before any write
    with pytest.raises(IndexError, match="gradient row 99 is out of range for a table of 5"):
        SGD().step(layer, edited)
    # rows cut by hand: the count is checked before the frozen rows are filtered out
    partly_frozen = Embedding(5, 3, frozen_rows=[1])
    cut = SparseGrad([0, 1, 2], np.ones((3, 3)), 5)
    cut.rows = cut.rows[:2]
    with pytest.raises(ValueError, match="the gradient has 2 rows but 3 value rows"):
        SGD().step(partly_frozen, cut)
    matrix = np.zeros((5, 3), np.float32)
    matrix.flags.writeable = False
    frozen_view = Embedding.from_pretrained(matrix, trainable=True, copy=False)
    with pytest.raises(ValueError, match="read-only"):
        SGD().step(frozen_view, frozen_view.backward([1], np.ones((1, 3))))
    with pytest.raises(ValueError, match="lr must be a finite number >= 0"):
        SGD(lr=-1)
    with pytest.raises(ValueError, match="nesterov needs momentum"):
        SGD(nesterov=True)
    with pytest.raises(ValueError, match="betas"):
        Adam(betas=(1.0, 0.9))


def test_step_refuses_hand_edited_gradients_of_the_wrong_kind():
    # Each edit must be refused before any write: never truncated, never a
    # Cython dispatch error.
    layer = Embedding(5, 3, seed=0)
    before = layer.weights.copy()
    edits = [
        ("rows", np.array([1.5]), TypeError, "gradient rows must be integer token ids"),
        ("rows", np.array([[1]]), ValueError, "gradient rows must be a 1-D array"),
        ("rows", np.array([True]), TypeError, "boolean"),
        ("values", np.ones(3), ValueError, r"gradient values must be a 2-D float array"),
        ("values", np.float64(2.0), ValueError, r"shape \(\)"),
        ("values", np.array([["a", "b", "c"]]), ValueError, "2-D float array"),
    ]
    for field, value, exc, message in edits:
        grad = SparseGrad([1], np.ones((1, 3)), 5)
        setattr(grad, field, value)
        with pytest.raises(exc, match=message):
            SGD(lr=1.0).step(layer, grad)
    assert layer.weights.tobytes() == before.tobytes()
    # int32 rows edited in by hand are fine
    grad = SparseGrad([1], np.ones((1, 3)), 5)
    grad.rows = np.array([2], np.int32)
    SGD(lr=1.0).step(layer, grad)
    np.testing.assert_array_equal(layer.weights[2], before[2] - 1)


def test_state_is_per_layer_and_resettable():
    a, b = Embedding(5, 2, seed=0), Embedding(5, 2, seed=1)
    opt = Adagrad(lr=0.1)
    opt.step(a, a.backward([1], np.ones((1, 2))))
    opt.step(a, a.backward([1], np.ones((1, 2))))
    opt.step(b, b.backward([2], np.ones((1, 2))))
    assert opt.state(a)["step"] == 2 and opt.state(b)["step"] == 1
    np.testing.assert_array_equal(opt.state(a)["sum"][1], [2, 2])
    opt.reset(a)
    assert opt.state(a) == {"step": 0}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name,make,make_ref", CASES, ids=[c[0] for c in CASES])
def test_update_equals_backward_then_step(dtype, name, make, make_ref):
    a, b = make_layer(dtype), make_layer(dtype)
    opt_a, opt_b = make(), make()
    for idx, grad in batches(14, 6):
        idx[:, 0] = [0, 3, 5, 8, 40, 77]
        opt_a.step(a, a.backward(idx, grad))
        opt_b.update(b, idx, grad)
    if name == "sgd":
        # fused path: one subtraction per occurrence instead of one per row
        np.testing.assert_allclose(b.weights, a.weights, **TOL[dtype])
    else:
        assert a.weights.tobytes() == b.weights.tobytes()
    frozen = ~a.trainable_mask
    assert b.weights[frozen].tobytes() == make_layer(dtype).weights[frozen].tobytes()
    assert opt_b.state(b)["step"] == 6


def test_fused_sgd_thread_count_does_not_change_a_bit(threaded):
    # rows are hashed to the threads; each adds its rows' occurrences in batch order
    results = []
    for threads in (1, 2, 3):
        rng = np.random.default_rng(16)
        layer = Embedding(N, 64, seed=1, mask_zero=True, frozen_rows=[3], threads=threads)
        opt = SGD(lr=0.3)
        for _ in range(4):
            idx = (np.random.default_rng(17).zipf(1.3, size=(30, 40)) - 1) % N
            idx[:, :20] = 1  # heavy repetition
            opt.update(layer, idx, rng.standard_normal((30, 40, 64)))
        results.append(layer.weights.tobytes())
    assert results[0] == results[1] == results[2]
    with pytest.raises(IndexError, match=r"indices\[0\] = 120 is out of range"):
        SGD().update(make_layer(np.float32), [120], np.ones((1, DIM)))


def test_optimizers_use_only_the_layers_public_interface():
    # Issue 9: optimizers.py used to reach into five private members of the
    # layer. Private names may only be read from the optimizer itself (self,
    # type(self)) or from the kernel module it calls.
    import ast
    import inspect

    from embload import optimizers

    tree = ast.parse(inspect.getsource(optimizers))
    offenders = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr.startswith("_") \
                and not node.attr.startswith("__"):
            owner = node.value
            if isinstance(owner, ast.Name) and owner.id in ("self", "_layer"):
                continue
            if isinstance(owner, ast.Name) and owner.id[:1].isupper():  # a class of this module
                continue
            offenders.append(f"line {node.lineno}: {ast.unparse(node)}")
        if isinstance(node, ast.ImportFrom) and node.module == "layer":
            offenders += [f"line {node.lineno}: imports {a.name}" for a in node.names
                          if a.name.startswith("_")]
    assert offenders == []
