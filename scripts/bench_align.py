"""Benchmark: a tokenizer's vocabulary -> embedding matrix, embload vs the usual recipes.

A 20,000-word vocabulary drawn at random from a 400,000 x 300 GloVe-like file, plus 10%
words that are not in the file (so no method can stop early), aligned by:

* ``embload.load_aligned``   (all cores, and 1 thread)
* ``embload.load`` + ``Vectors.align``   (full load, then gather rows)
* gensim: ``KeyedVectors.load_word2vec_format(no_header=True)`` + a loop copying rows
* the Keras blog recipe: a dict of ``np.asarray(values[1:], dtype="float32")`` per line,
  then a loop filling the matrix

Each runs in a fresh subprocess (the file is in the page cache: it is read once first);
the script prints seconds, GB/s of file scanned, process CPU seconds (all threads: a
fair figure when the machine is busy), peak resident memory (VmHWM) and
the memory added by the call (peak minus the resident size after imports), and the
ratios to embload. Every method's matrix is checked equal to embload's.

    python scripts/bench_align.py                  # the issue's setup (file shared with bench_load.py)
    python scripts/bench_align.py --words 40000    # a smaller file for a quick look
"""

import argparse
import json
import os
import subprocess
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))


def make_glove_like(path, n_words, dim, seed=0):
    """(Used only when scripts/bench_load.py is missing.) A GloVe-like text file: unique mostly-ASCII words (some UTF-8), values spelled as
    GloVe does (up to 5 significant digits, sign, occasional exponent)."""
    rng = np.random.default_rng(seed)
    letters = list("etaoinshrdlcumwfgypbvkjxqz")
    extra = ["é", "ü", "ñ", "ж", "日", "’"]
    words, seen = [], set()
    while len(words) < n_words:
        k = int(rng.integers(1, 13))
        w = "".join(rng.choice(letters, size=k))
        if rng.random() < 0.05:
            w += extra[int(rng.integers(len(extra)))]
        if w not in seen:
            seen.add(w)
            words.append(w)
    pool = np.array([f"{v:.5g}" for v in rng.normal(0, 0.4, size=200_000)], dtype=object)
    tmp = path + ".part"
    with open(tmp, "w", encoding="utf-8") as fh:
        for start in range(0, n_words, 10_000):
            idx = rng.integers(0, len(pool), size=(min(10_000, n_words - start), dim))
            lines = [words[start + i] + " " + " ".join(pool[row]) for i, row in enumerate(idx)]
            fh.write("\n".join(lines) + "\n")
    os.replace(tmp, path)
    return words


def bench_file(n_words, dim, workdir):
    """The GloVe-like file of the foundation benchmark (scripts/bench_load.py's generator
    and seed, written once into ``workdir``) and its words; our own generator if that
    script is not there."""
    sys.path.insert(0, HERE)
    try:
        import bench_load
    except ImportError:
        bench_load = None
    if bench_load is not None:
        # the same generator and seed as bench_load.py, but our own copy: that script
        # owns (and may regenerate or delete) its cache folder
        path = os.path.join(workdir, f"glove_{n_words}x{dim}.txt")
        if not os.path.exists(path):
            print(f"writing {path} (bench_load.make_text) ...", flush=True)
            bench_load.make_text(path, n_words, dim, seed=dim)
    else:
        path = os.path.join(workdir, f"glove-like-{n_words}x{dim}.txt")
        if not os.path.exists(path):
            print(f"writing {path} ...", flush=True)
            make_glove_like(path, n_words, dim)
    stat = os.stat(path)
    words_path = os.path.join(workdir, f"words-{os.path.basename(path)}-{stat.st_size}-{stat.st_mtime_ns}.json")
    if not os.path.exists(words_path):
        with open(path, "rb") as fh:
            words = [line.split(b" ", 1)[0].decode("utf-8") for line in fh]
        with open(words_path, "w") as fh:
            json.dump(words, fh)
    with open(words_path) as fh:
        return path, json.load(fh)


def make_vocab(words, n_vocab, absent_share, seed=1):
    rng = np.random.default_rng(seed)
    chosen = [words[i] for i in rng.choice(len(words), size=n_vocab, replace=False)]
    chosen += [f"zz_absent_{i}" for i in range(int(n_vocab * absent_share))]
    order = rng.permutation(len(chosen))
    return {chosen[k]: i + 1 for i, k in enumerate(order)}


# --- the methods, each run in a child process -------------------------------------------

CHILD = r'''
import json, os, sys, time
import numpy as np
path, vocab_path, method, out_path = sys.argv[1:5]
with open(vocab_path) as fh:
    word_index = json.load(fh)
num_words = max(word_index.values()) + 1
dim = int(sys.argv[5])

def rss_mb():
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20

if method.startswith("embload"):
    import embload
elif method == "gensim":
    from gensim.models import KeyedVectors
base = rss_mb()
t0 = time.perf_counter()
c0 = time.process_time()
if method == "embload":
    matrix = embload.load_aligned(path, word_index, progress=False).matrix
elif method == "embload-1thread":
    matrix = embload.load_aligned(path, word_index, threads=1, progress=False).matrix
elif method == "embload-load+align":
    matrix = embload.load(path, progress=False).align(word_index).matrix
elif method == "gensim":
    kv = KeyedVectors.load_word2vec_format(path, binary=False, no_header=True)
    matrix = np.zeros((num_words, dim), dtype=np.float32)
    for word, i in word_index.items():
        if word in kv.key_to_index:
            matrix[i] = kv[word]
elif method == "keras-recipe":
    embeddings_index = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            values = line.split()
            word = values[0]
            coefs = np.asarray(values[1:], dtype="float32")
            embeddings_index[word] = coefs
    matrix = np.zeros((num_words, dim), dtype=np.float32)
    for word, i in word_index.items():
        vector = embeddings_index.get(word)
        if vector is not None:
            matrix[i] = vector
seconds = time.perf_counter() - t0
cpu = time.process_time() - c0
# VmHWM, not ru_maxrss: on Linux ru_maxrss carries over the parent's peak across exec
with open("/proc/self/status") as fh:
    peak = next(int(l.split()[1]) for l in fh if l.startswith("VmHWM")) / 1024
np.save(out_path, matrix)
print(json.dumps({"seconds": seconds, "cpu": cpu, "peak_mb": peak, "base_mb": base,
                  "matrix_mb": matrix.nbytes / 2**20}))
'''


def run(method, path, vocab_path, dim, workdir):
    out = os.path.join(workdir, f"matrix-{method}.npy")
    proc = subprocess.run([sys.executable, "-c", CHILD, path, vocab_path, method, out, str(dim)],
                          capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"{method} failed:\n{proc.stderr}")
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    result["matrix"] = np.load(out)
    os.remove(out)
    return result


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--words", type=int, default=400_000, help="words in the file")
    ap.add_argument("--dim", type=int, default=300)
    ap.add_argument("--vocab", type=int, default=20_000, help="vocabulary words drawn from the file")
    ap.add_argument("--absent", type=float, default=0.10, help="extra share of words not in the file")
    ap.add_argument("--dir", default=os.path.join(os.environ.get("TMPDIR", "/tmp"), "embload-align-bench"))
    ap.add_argument("--skip", default="", help="comma-separated methods to skip (e.g. gensim,keras-recipe)")
    ap.add_argument("--repeat", type=int, default=3, help="runs of the embload methods (best is kept)")
    args = ap.parse_args()

    os.makedirs(args.dir, exist_ok=True)
    path, words = bench_file(args.words, args.dim, args.dir)
    word_index = make_vocab(words, args.vocab, args.absent)
    vocab_path = os.path.join(args.dir, "vocab.json")
    with open(vocab_path, "w") as fh:
        json.dump(word_index, fh)
    size = os.path.getsize(path)
    with open(path, "rb") as fh:  # into the page cache, so every method sees a warm file
        while fh.read(1 << 24):
            pass

    print(f"file: {path}  {size / 1e9:.2f} GB, {args.words} x {args.dim}; vocabulary {len(word_index)} "
          f"words ({args.vocab} in the file + {len(word_index) - args.vocab} absent); "
          f"{os.cpu_count()} cores; python {sys.version.split()[0]}")
    methods = ["embload", "embload-1thread", "embload-load+align", "gensim", "keras-recipe"]
    skip = {m.strip() for m in args.skip.split(",") if m.strip()}
    results = {}
    for method in methods:
        if method in skip:
            continue
        runs = args.repeat if method.startswith("embload") else 1
        best = None
        for _ in range(runs):
            r = run(method, path, vocab_path, args.dim, args.dir)
            if best is None or r["seconds"] < best["seconds"]:
                best = r
        results[method] = best
        print(f"  {method:20s} {best['seconds']:8.2f} s", flush=True)

    ref = results["embload"]
    for method, r in results.items():
        same = r["matrix"].shape == ref["matrix"].shape and np.array_equal(r["matrix"], ref["matrix"])
        if not same:
            print(f"WARNING: {method}'s matrix differs from embload's")
    print()
    print(f"{'method':22s} {'seconds':>9s} {'GB/s':>7s} {'cpu s':>8s} {'peak MB':>9s} {'added MB':>9s} "
          f"{'x embload time':>15s}")
    for method, r in results.items():
        print(f"{method:22s} {r['seconds']:9.3f} {size / 1e9 / r['seconds']:7.2f} {r['cpu']:8.2f} "
              f"{r['peak_mb']:9.0f} {r['peak_mb'] - r['base_mb']:9.0f} {r['seconds'] / ref['seconds']:15.1f}")
    print(f"\noutput matrix: {ref['matrix_mb']:.0f} MB; 'added' = peak RSS minus RSS after imports "
          "(file pages of the scanned windows included)")


if __name__ == "__main__":
    main()
