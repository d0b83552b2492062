"""Several Python threads using embload at once get what one thread alone gets.

The C code of the readers, the aligner, the writers and the layer runs without
the GIL (and with its own OpenMP threads), so Python threads really overlap in
it. Each job below is run once alone for the expected result, then 8 threads
run every job, each thread starting at a different one, all at the same time; every result
must be the same bits. The sequential results are also checked against the
data written (loads give back the matrix, a layer step its dense NumPy
counterpart is tested in test_layer.py / test_optimizers.py).
"""

import gzip
import itertools
import shutil
import threading

import numpy as np
import pytest

import embload
from embload import SGD, Adagrad, Adam, Embedding
from embload.vectors import Vectors

N_WORDS, DIM = 3000, 48
THREADS = 8


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("concurrency")
    rng = np.random.default_rng(40)
    words = [f"w{i}" for i in range(N_WORDS - 3)] + ["ünï", "日本", "a,b"]
    matrix = rng.standard_normal((N_WORDS, DIM)).astype(np.float32)
    vectors = Vectors(words, matrix)
    paths = {
        "glove": folder / "v.txt",
        "word2vec": folder / "v.vec",
        "binary": folder / "v.bin",
        "glove.gz": folder / "v.txt.gz",
        "binary.gz": folder / "v.bin.gz",
        "cache": folder / "v.embload",
    }
    formats = {"glove": "glove", "word2vec": "word2vec", "binary": "word2vec-binary",
               "glove.gz": "glove", "binary.gz": "word2vec-binary", "cache": "embload"}
    for key, path in paths.items():
        embload.save(vectors, path, formats[key], progress=False)
    # a tokenizer's word index: some words of the file, some not, ids from 1
    picked = [words[i] for i in rng.choice(N_WORDS, 1500, replace=False)]
    word_index = {w: i + 1 for i, w in enumerate(picked + [f"oov{i}" for i in range(300)])}
    return folder, vectors, paths, word_index


def make_jobs(files):
    folder, vectors, paths, word_index = files
    counter = itertools.count()
    lock = threading.Lock()

    def fresh_path(suffix):
        with lock:
            return folder / f"out{next(counter)}{suffix}"

    def load(key):
        def job():
            v = embload.load(paths[key], threads=2, progress=False)
            return (tuple(v.words), v.vectors.dtype.str, v.vectors.tobytes())
        return job

    def load_aligned(key, **kw):
        def job():
            a = embload.load_aligned(paths[key], word_index, threads=2, progress=False, **kw)
            return a.matrix.tobytes(), np.asarray(a.found).tobytes()
        return job

    def save(fmt, suffix, rows=N_WORDS):
        part = Vectors(vectors.words[:rows], vectors.vectors[:rows])

        def job():
            path = fresh_path(suffix)
            embload.save(part, path, fmt, threads=2, progress=False)
            data = path.read_bytes()
            path.unlink()
            # a gzip header may carry the time of writing: compare the content
            return gzip.decompress(data) if suffix.endswith(".gz") else data
        return job

    def save_cache():
        path = fresh_path(".embload")
        embload.save(vectors, path, progress=False)
        # the folder's metadata may carry times: compare what it loads as
        v = embload.load(path, mmap=False, progress=False)
        shutil.rmtree(path)
        return (tuple(v.words), v.vectors.dtype.str, v.vectors.tobytes())

    shared_adagrad = Adagrad(lr=0.05)

    def layer(seed, optimizer, threads):
        def job():
            rng = np.random.default_rng(seed)
            emb = Embedding(2000, 40, seed=seed, mask_zero=True, max_norm=3.0, threads=threads)
            opt = optimizer()
            outs = []
            for _ in range(3):
                idx = (rng.zipf(1.2, size=(64, 30)) - 1) % 2000
                out = emb(idx)
                grad = rng.standard_normal(out.shape).astype(np.float32) + out
                opt.step(emb, emb.backward(idx, grad))
                opt.update(emb, idx, grad)
                outs.append(out.tobytes())
            return emb.weights.tobytes(), tuple(outs)
        return job

    return {
        "load glove": load("glove"),
        "load word2vec": load("word2vec"),
        "load binary": load("binary"),
        "load glove.gz": load("glove.gz"),
        "load binary.gz": load("binary.gz"),
        "load cache": load("cache"),
        "load_aligned glove": load_aligned("glove"),
        "load_aligned binary.gz": load_aligned("binary.gz", oov="normal", seed=3),
        "load_aligned word2vec fallback": load_aligned("word2vec", case="fallback"),
        "save glove": save("glove", ".txt"),
        "save binary": save("word2vec-binary", ".bin"),
        "save word2vec.gz": save("word2vec", ".vec.gz", rows=400),  # gzip is slow
        "save cache": save_cache,
        # batches of 1920 x 40 values: the kernels split them over 2 OpenMP threads
        "layer Adam": layer(1, lambda: Adam(lr=0.01), threads=2),
        "layer SGD momentum": layer(2, lambda: SGD(lr=0.1, momentum=0.9), threads=1),
        "layer SGD": layer(3, lambda: SGD(lr=0.1), threads=1),
        # one optimizer object shared by every thread, each with its own layer
        # (its state is kept per layer)
        "layer shared Adagrad": layer(4, lambda: shared_adagrad, threads=1),
    }


def test_sequential_results_are_the_data(files):
    _, vectors, paths, word_index = files
    jobs = make_jobs(files)
    for key in ("glove", "word2vec", "binary", "glove.gz", "binary.gz", "cache"):
        words, _, data = jobs[f"load {key}"]()
        assert list(words) == vectors.words
        assert data == vectors.vectors.tobytes()
    assert jobs["save cache"]() == jobs["load cache"]()
    matrix, found = jobs["load_aligned glove"]()
    rows = np.frombuffer(matrix, np.float32).reshape(-1, DIM)
    found = np.frombuffer(found, bool)
    index = {w: i for i, w in enumerate(vectors.words)}
    for word, i in word_index.items():
        expected = vectors.vectors[index[word]] if word in index else np.zeros(DIM)
        assert found[i] == (word in index)
        assert np.array_equal(rows[i], expected)


def test_threads_at_once_give_the_results_of_one_at_a_time(files):
    jobs = make_jobs(files)
    expected = {name: job() for name, job in jobs.items()}
    names = list(jobs)
    results = [[] for _ in range(THREADS)]
    errors = []
    start = threading.Barrier(THREADS)

    def worker(k):
        try:
            start.wait()
            # each thread runs every job, starting at a different one
            first = k * len(names) // THREADS
            for name in names[first:] + names[:first]:
                results[k].append((name, jobs[name]()))
        except BaseException as exc:  # reported below, with the thread that raised it
            errors.append((k, exc))

    workers = [threading.Thread(target=worker, args=(k,)) for k in range(THREADS)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    assert not errors, errors
    for k, done in enumerate(results):
        assert len(done) == len(names)
        for name, got in done:
            assert got == expected[name], f"thread {k}: {name} differs from the sequential run"
