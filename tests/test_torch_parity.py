"""The same steps as torch.nn.Embedding(sparse=True) and its optimizers (skipped without torch)."""

import numpy as np
import pytest

from embload import SGD, Adagrad, Adam, Embedding

torch = pytest.importorskip("torch")
torch.set_num_threads(1)  # tiny tensors: threads only add start-up and contention

DTYPES = [np.float32, np.float64]
TORCH_DTYPE = {np.float32: torch.float32, np.float64: torch.float64}
TOL = {np.float32: dict(rtol=1e-5, atol=1e-6), np.float64: dict(rtol=1e-12, atol=1e-14)}
N, DIM = 200, 16

CASES = [
    ("sgd", lambda: SGD(lr=0.1), lambda p: torch.optim.SGD(p, lr=0.1)),
    # torch keeps a (sparse) momentum buffer for every row ever touched and moves
    # them all at each step: our lazy=False
    ("momentum", lambda: SGD(lr=0.05, momentum=0.9, lazy=False),
     lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.9)),
    ("nesterov", lambda: SGD(lr=0.05, momentum=0.7, nesterov=True, lazy=False),
     lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.7, nesterov=True)),
    ("adagrad", lambda: Adagrad(lr=0.1), lambda p: torch.optim.Adagrad(p, lr=0.1)),
    ("adagrad-opts", lambda: Adagrad(lr=0.1, lr_decay=0.03, initial_accumulator_value=0.2,
                                     eps=1e-6),
     lambda p: torch.optim.Adagrad(p, lr=0.1, lr_decay=0.03, initial_accumulator_value=0.2,
                                   eps=1e-6)),
    ("sparse-adam", lambda: Adam(lr=0.01), lambda p: torch.optim.SparseAdam(p, lr=0.01)),
    ("sparse-adam-opts", lambda: Adam(lr=0.03, betas=(0.8, 0.95), eps=1e-6),
     lambda p: torch.optim.SparseAdam(p, lr=0.03, betas=(0.8, 0.95), eps=1e-6)),
]


def batches(seed, steps):
    rng = np.random.default_rng(seed)
    for _ in range(steps):
        idx = (rng.zipf(1.3, size=(8, 12)) - 1) % N
        idx[:, -3:] = 0  # padding
        yield idx, rng.standard_normal((8, 12, DIM))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name,make,make_torch", CASES, ids=[c[0] for c in CASES])
def test_steps_match_torch_sparse_embedding(dtype, name, make, make_torch):
    layer = Embedding(N, DIM, dtype=dtype, seed=2, mask_zero=True)
    ref = torch.nn.Embedding.from_pretrained(torch.tensor(layer.weights.copy()), freeze=False,
                                             sparse=True, padding_idx=0)
    opt, topt = make(), make_torch(ref.parameters())
    for idx, grad in batches(3, 6):
        out = layer(idx)
        tidx = torch.from_numpy(idx)
        tout = ref(tidx)
        np.testing.assert_allclose(out, tout.detach().numpy(), **TOL[dtype])
        opt.step(layer, layer.backward(idx, grad))
        topt.zero_grad()
        tout.backward(torch.from_numpy(grad.astype(dtype)))
        topt.step()
        np.testing.assert_allclose(layer.weights, ref.weight.detach().numpy(), **TOL[dtype])


@pytest.mark.parametrize("dtype", DTYPES)
def test_backward_matches_torch_sparse_gradient(dtype):
    layer = Embedding(N, DIM, dtype=dtype, seed=4)
    ref = torch.nn.Embedding.from_pretrained(torch.tensor(layer.weights.copy()), freeze=False,
                                             sparse=True)
    idx, grad = next(batches(5, 1))
    ref(torch.from_numpy(idx)).backward(torch.from_numpy(grad.astype(dtype)))
    tgrad = ref.weight.grad.coalesce()
    g = layer.backward(idx, grad)
    np.testing.assert_array_equal(g.rows, tgrad.indices().numpy()[0])
    np.testing.assert_allclose(g.values, tgrad.values().numpy(), **TOL[dtype])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("norm_type", [1.0, 2.0, 3.5, float("inf")])
def test_max_norm_matches_torch(dtype, norm_type):
    rng = np.random.default_rng(6)
    table = (rng.standard_normal((50, 10)) * rng.uniform(0.05, 1.5, size=(50, 1))).astype(dtype)
    layer = Embedding(50, 10, weights=table, dtype=dtype, max_norm=0.8, norm_type=norm_type)
    weight = torch.tensor(table.copy())
    for _ in range(3):
        idx = rng.integers(0, 50, size=(4, 7))
        out = layer(idx)
        tout = torch.nn.functional.embedding(torch.from_numpy(idx), weight, max_norm=0.8,
                                             norm_type=norm_type)
        np.testing.assert_allclose(out, tout.numpy(), **TOL[dtype])
        np.testing.assert_allclose(layer.weights, weight.numpy(), **TOL[dtype])
