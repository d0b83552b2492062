"""Benchmark the embedding layer against NumPy and (when installed) PyTorch, in one run.

Table 400,000 x 300 float32, batches of 256 x 200 indices drawn Zipf-like
(p(id) ~ 1 / (id + 1), ids numbered by frequency as a Keras tokenizer does).

* forward: embload (1 and 2 threads, with a reused ``out``) vs ``numpy.take``
  (with ``out``), fancy indexing ``table[idx]`` and
  ``torch.nn.functional.embedding``;
* sparse update = backward + optimizer step (and, for SGD, the fused
  ``optimizer.update(layer, indices, grad)``): embload SGD and Adam vs a NumPy
  implementation built on ``np.add.at`` and torch's sparse path
  (``nn.Embedding(sparse=True)`` + ``SGD`` / ``SparseAdam``; its forward is
  timed apart and left out);
* optimizer step alone, on a SparseGrad computed beforehand: embload SGD,
  SGD with momentum, Adagrad and Adam vs the same update written with NumPy
  fancy indexing on the same unique rows (the kernels' own share of an update).

Prints the best time of each over ``--repeats`` runs (the best, not the
median, because a shared machine's noise only ever adds time) and ratios
(> 1 means embload is faster).
Usage: python scripts/bench_layer.py [--rows 400000] [--dim 300] [--repeats 7]
                                    [--only steps]
"""

import argparse
import time

import numpy as np

from embload import SGD, Adagrad, Adam, Embedding

try:
    import torch
except ImportError:  # the torch rows are left out
    torch = None


def zipf_batches(rng, n, shape, count, s=1.0):
    weights = 1.0 / np.arange(1, n + 1) ** s
    cdf = np.cumsum(weights)
    cdf /= cdf[-1]
    return [np.minimum(np.searchsorted(cdf, rng.random(shape)), n - 1).astype(np.int64)
            for _ in range(count)]


def timeit(fn, batches, repeats, warmup=1):
    for i in range(warmup):
        fn(batches[i % len(batches)])
    times = []
    for i in range(repeats):
        b = batches[i % len(batches)]
        t0 = time.perf_counter()
        fn(b)
        times.append(time.perf_counter() - t0)
    return min(times)


def timeit_split(fn, batches, repeats, warmup=1):
    """fn returns the seconds of the part to count."""
    for i in range(warmup):
        fn(batches[i % len(batches)])
    return min(fn(batches[i % len(batches)]) for i in range(repeats))


class NumpyAddAt:
    """Sparse SGD / lazy Adam the way one writes them with NumPy alone."""

    def __init__(self, table, lr, adam=False):
        self.table, self.lr, self.adam = table, lr, adam
        if adam:
            self.m = np.zeros_like(table)
            self.v = np.zeros_like(table)
            self.t = 0

    def step(self, idx, grad):
        flat = idx.reshape(-1)
        g = grad.reshape(len(flat), -1)
        if not self.adam:
            np.add.at(self.table, flat, -self.lr * g)
            return
        rows, inverse = np.unique(flat, return_inverse=True)
        summed = np.zeros((len(rows), g.shape[1]), dtype=g.dtype)
        np.add.at(summed, inverse, g)
        self.t += 1
        b1, b2, eps = 0.9, 0.999, 1e-8
        m = self.m[rows]
        v = self.v[rows]
        m += (summed - m) * (1 - b1)
        v += (summed * summed - v) * (1 - b2)
        self.m[rows] = m
        self.v[rows] = v
        size = self.lr * np.sqrt(1 - b2 ** self.t) / (1 - b1 ** self.t)
        self.table[rows] -= size * m / (np.sqrt(v) + eps)


# The optimizers of the "step alone" rows: (name, embload optimizer, NumPy peer).
STEP_LR = 0.01


def _dense(state, name, table):
    # np.full writes every page now, as embload's optimizers do: np.zeros would
    # leave page faults for each step's new rows inside the timing.
    if name not in state:
        state[name] = np.full(table.shape, 0, table.dtype)
    return state[name]


def numpy_sgd(table, state, rows, values):
    table[rows] -= STEP_LR * values


def numpy_momentum(table, state, rows, values):
    buf = _dense(state, "buf", table)
    b = buf[rows]
    b *= 0.9
    b += values
    buf[rows] = b
    table[rows] -= STEP_LR * b


def numpy_adagrad(table, state, rows, values):
    acc = _dense(state, "acc", table)
    a = acc[rows]
    a += values * values
    acc[rows] = a
    table[rows] -= STEP_LR * values / (np.sqrt(a) + 1e-10)


def numpy_adam(table, state, rows, values):
    m = _dense(state, "m", table)
    v = _dense(state, "v", table)
    t = state["t"] = state.get("t", 0) + 1
    mr, vr = m[rows], v[rows]
    mr += (values - mr) * (1 - 0.9)
    vr += (values * values - vr) * (1 - 0.999)
    m[rows], v[rows] = mr, vr
    size = STEP_LR * np.sqrt(1 - 0.999 ** t) / (1 - 0.9 ** t)
    table[rows] -= size * mr / (np.sqrt(vr) + 1e-8)


STEPS = [
    ("SGD", lambda: SGD(lr=STEP_LR), numpy_sgd),
    ("momentum", lambda: SGD(lr=STEP_LR, momentum=0.9), numpy_momentum),
    ("Adagrad", lambda: Adagrad(lr=STEP_LR), numpy_adagrad),
    ("Adam", lambda: Adam(lr=STEP_LR), numpy_adam),
]


def bench_forward(base, batches, shape, repeats, rows):
    """Lookups; returns the ratio lines."""
    out = np.empty(shape + (base.shape[1],), np.float32)
    t_take = timeit(lambda b: np.take(base, b, axis=0, out=out), batches, repeats)
    rows.append(("forward", "numpy.take (out=)", 1, t_take))
    rows.append(("forward", "table[idx]", 1,
                 timeit(lambda b: base[b], batches, repeats)))
    t_torch_fwd = {}
    if torch is not None:
        tw = torch.from_numpy(base)
        tb = [torch.from_numpy(b) for b in batches]
        tmap = {id(b): t for b, t in zip(batches, tb)}
        for threads in (1, 2):
            torch.set_num_threads(threads)
            t = timeit(lambda b: torch.nn.functional.embedding(tmap[id(b)], tw), batches,
                       repeats)
            t_torch_fwd[threads] = t
            rows.append(("forward", "torch F.embedding", threads, t))
    ours_fwd = {}
    for threads in (1, 2):
        layer = Embedding.from_pretrained(base, copy=False, threads=threads)
        t = timeit(lambda b: layer(b, out=out), batches, repeats)
        ours_fwd[threads] = t
        rows.append(("forward", "embload (out=)", threads, t))
        layer = None

    return [f"  forward   {threads} thread(s): vs numpy.take {t_take / ours_fwd[threads]:5.2f}x"
            + (f", vs torch {t_torch_fwd[threads] / ours_fwd[threads]:5.2f}x"
               if t_torch_fwd else "")
            for threads in (1, 2)]


def bench_updates(base, pairs, repeats, rows):
    """Backward + optimizer step; returns the ratio lines."""
    ours_upd, numpy_upd, torch_upd, ours_fused = {}, {}, {}, {}
    for kind, lr in (("SGD", 0.1), ("Adam", 0.001)):
        ref = NumpyAddAt(base.copy(), lr, adam=(kind == "Adam"))
        t = timeit(lambda p: ref.step(*p), pairs, max(3, repeats // 2))
        numpy_upd[kind] = t
        rows.append((f"backward+{kind}", "np.add.at", 1, t))
        ref = None
        if torch is not None:
            emb = torch.nn.Embedding.from_pretrained(torch.from_numpy(base.copy()),
                                                     freeze=False, sparse=True)
            topt = (torch.optim.SGD(emb.parameters(), lr=lr) if kind == "SGD"
                    else torch.optim.SparseAdam(emb.parameters(), lr=lr))
            tpairs = {id(b): (torch.from_numpy(b), torch.from_numpy(g)) for b, g in pairs}

            def torch_step(p):
                tidx, tgrad = tpairs[id(p[0])]
                topt.zero_grad()
                tout = emb(tidx)  # forward left out of the time
                t0 = time.perf_counter()
                tout.backward(tgrad)
                topt.step()
                return time.perf_counter() - t0

            for threads in (1, 2):
                torch.set_num_threads(threads)
                t = timeit_split(torch_step, pairs, repeats)
                torch_upd[kind, threads] = t
                rows.append((f"backward+{kind}", "torch sparse", threads, t))
            emb = topt = None
        table = base.copy()
        for threads in (1, 2):
            layer = Embedding.from_pretrained(table, trainable=True, copy=False,
                                              threads=threads)
            opt = SGD(lr=lr) if kind == "SGD" else Adam(lr=lr)
            t = timeit(lambda p: opt.step(layer, layer.backward(*p)), pairs, repeats)
            ours_upd[kind, threads] = t
            rows.append((f"backward+{kind}", "embload step", threads, t))
            if kind == "SGD":
                t = timeit(lambda p: opt.update(layer, *p), pairs, repeats)
                ours_fused[threads] = t
                rows.append((f"backward+{kind}", "embload update()", threads, t))
            layer = opt = None
        table = None

    lines = []
    for kind in ("SGD", "Adam"):
        for threads in (1, 2):
            line = (f"  {kind:<5} upd {threads} thread(s): vs np.add.at "
                    f"{numpy_upd[kind] / ours_upd[kind, threads]:6.1f}x")
            if torch_upd:
                line += (f", vs torch sparse "
                         f"{torch_upd[kind, threads] / ours_upd[kind, threads]:5.2f}x")
            lines.append(line)
    for threads in (1, 2):
        line = (f"  SGD update() {threads} thread(s): vs np.add.at "
                f"{numpy_upd['SGD'] / ours_fused[threads]:6.1f}x")
        if torch_upd:
            line += f", vs torch sparse {torch_upd['SGD', threads] / ours_fused[threads]:5.2f}x"
        lines.append(line)
    return lines


def bench_steps(base, pairs, repeats, rows):
    """Optimizer steps alone; returns {(name, threads): (embload s, numpy s)}."""
    table = base.copy()
    grads = [Embedding.from_pretrained(table, trainable=True, copy=False).backward(*p)
             for p in pairs]
    ratios = {}
    for name, make, numpy_step in STEPS:
        state = {}
        t_np = timeit(lambda g: numpy_step(table, state, g.rows, g.values), grads,
                      max(3, repeats // 2))
        rows.append((f"step {name}", "numpy fancy index", 1, t_np))
        state = None
        for threads in (1, 2):
            layer = Embedding.from_pretrained(table, trainable=True, copy=False,
                                              threads=threads)
            opt = make()
            t = timeit(lambda g: opt.step(layer, g), grads, repeats)
            rows.append((f"step {name}", "embload step", threads, t))
            ratios[name, threads] = (t, t_np)
            layer = opt = None
    return ratios


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=400_000)
    ap.add_argument("--dim", type=int, default=300)
    ap.add_argument("--batch", type=int, nargs=2, default=(256, 200))
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--only", choices=("steps",),
                    help="steps: time only the optimizer steps on a precomputed gradient")
    args = ap.parse_args()
    rng = np.random.default_rng(0)
    shape = tuple(args.batch)
    print(f"table {args.rows:,} x {args.dim} float32, batch {shape[0]} x {shape[1]} Zipf-like "
          f"ids; best of {args.repeats}; torch {torch.__version__ if torch else 'absent'}")
    base = rng.standard_normal((args.rows, args.dim), dtype=np.float32)
    batches = zipf_batches(rng, args.rows, shape, 4)
    print(f"unique rows per batch: {np.mean([len(np.unique(b)) for b in batches]):,.0f} "
          f"of {np.prod(shape):,}")
    grads = [rng.standard_normal(shape + (args.dim,), dtype=np.float32) for _ in batches]
    pairs = list(zip(batches, grads))
    rows = []

    ratios = []
    if args.only is None:
        ratios += bench_forward(base, batches, shape, args.repeats, rows)
        ratios += bench_updates(base, pairs, args.repeats, rows)
    steps = bench_steps(base, pairs, args.repeats, rows)
    for name, _, _ in STEPS:
        for threads in (1, 2):
            t, t_np = steps[name, threads]
            ratios.append(f"  step {name:<8} {threads} thread(s): vs numpy fancy index "
                          f"{t_np / t:6.1f}x")

    # ---------------------------------------------------------------- report
    nbytes = np.prod(shape) * args.dim * 4
    print(f"\n{'operation':<15} {'implementation':<20} {'threads':>7} {'ms':>9} {'GB/s*':>7}")
    for op, impl, threads, t in rows:
        print(f"{op:<15} {impl:<20} {threads:>7} {t * 1e3:>9.2f} {2 * nbytes / t / 1e9:>7.1f}")
    print("* GB/s: 2 x batch output bytes (read + write of the looked-up rows) per second")
    print("\nratios (> 1: embload faster)")
    print("\n".join(ratios))

if __name__ == "__main__":
    main()
