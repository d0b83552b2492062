"""Benchmark: embload.load against gensim and CSV readers, on the same files, in one run.

Generates (once, cached) GloVe-like text files of 400,000 words x 100 and x 300
(GloVe-style "-0.20036", word2vec-style "0.123456", some exponents, UTF-8 words),
and a 400,000 x 300 word2vec binary file. Each reader runs in a fresh subprocess,
so its peak memory is its own (VmHWM minus the resident size after its imports);
times exclude imports and are the best of --repeat runs; "cpu s" is the process CPU
time (all threads), a fair per-core figure when the machine is busy. The "floor: pread"
row is no reader: it only moves the file's bytes into fresh memory (two threads), the
least any reader must do; "vs gensim" on that row is the most any reader could reach.
"embload 32MiB blocks" is embload with 4x its binary block size (the rule in the reader:
a block small enough to stay in the last-level cache between the read and the copy).
Children run with OPENBLAS_NUM_THREADS=1 (see CHILD_ENV).

    python scripts/bench_load.py            # full size (gensim takes minutes)
    python scripts/bench_load.py --small    # 40,000 words: a quick check
"""
import argparse
import json
import os
import subprocess
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_CACHE = os.path.join(os.path.dirname(HERE), "bench_data")

# --- data ---------------------------------------------------------------------

_WORDS = ["the", "of", "été", "naïve", "日本", "straße", "über", "año", "δ", "москва", "x"]


def _spellings(rng, n):
    """n distinct realistic float spellings, as the files in the wild write them."""
    values = rng.normal(0.0, 0.4, n)
    out = []
    for i, v in enumerate(values):
        kind = i % 20
        if kind < 12:
            s = f"{v:.5f}".rstrip("0").rstrip(".") or "0"  # GloVe: -0.20036, 0.418
        elif kind < 18:
            s = f"{v:.6f}"                                # word2vec: 0.123456
        elif kind == 18:
            s = f"{v * 1e-4:.4e}"                         # 1.2345e-05
        else:
            s = str(np.float32(v))                       # shortest float32 repr: 0.12345679
        out.append(s)
    return out


def make_text(path, n, dim, seed):
    rng = np.random.default_rng(seed)
    table = np.array(_spellings(rng, 1 << 16), dtype=object)
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        for start in range(0, n, 10000):
            rows = min(10000, n - start)
            idx = rng.integers(0, len(table), (rows, dim))
            lines = []
            for r in range(rows):
                i = start + r
                word = f"{_WORDS[i % len(_WORDS)]}{i}" if i >= 100 else _WORDS[i % len(_WORDS)] + "_" * i
                lines.append(word + " " + " ".join(table[idx[r]]) + "\n")
            f.write("".join(lines))
    os.replace(tmp, path)


def make_binary(path, n, dim, seed):
    rng = np.random.default_rng(seed)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(f"{n} {dim}\n".encode())
        for start in range(0, n, 10000):
            rows = min(10000, n - start)
            m = rng.normal(0, 0.4, (rows, dim)).astype("<f4")
            f.write(b"".join(f"{_WORDS[(start + r) % len(_WORDS)]}{start + r}".encode() + b" " + m[r].tobytes()
                             + b"\n" for r in range(rows)))
    os.replace(tmp, path)


def ensure_files(cache, n):
    os.makedirs(cache, exist_ok=True)
    files = {
        f"glove {n}x100": (os.path.join(cache, f"glove_{n}x100.txt"), "glove", 100),
        f"glove {n}x300": (os.path.join(cache, f"glove_{n}x300.txt"), "glove", 300),
        f"word2vec-binary {n}x300": (os.path.join(cache, f"w2v_{n}x300.bin"), "word2vec-binary", 300),
    }
    for name, (path, fmt, dim) in files.items():
        if not os.path.exists(path):
            print(f"generating {path} ...", file=sys.stderr, flush=True)
            (make_binary if fmt == "word2vec-binary" else make_text)(path, n, dim, seed=dim)
    return files


# --- readers, each run in a fresh interpreter -----------------------------------

# reader -> (imports, timed code); imports are not timed
READERS = {
    "embload": ("import embload; from embload import load; import embload._parse",
                "v = embload.load(PATH, progress=False); shape = v.vectors.shape"),
    "embload 1 thread": ("import embload; from embload import load; import embload._parse",
                         "v = embload.load(PATH, threads=1, progress=False); shape = v.vectors.shape"),
    "gensim": ("from gensim.models import KeyedVectors",
               "kv = KeyedVectors.load_word2vec_format(PATH, binary=FMT == 'word2vec-binary', "
               "no_header=FMT == 'glove'); shape = kv.vectors.shape"),
    "pandas (c)": ("import csv, pandas as pd",
                   "df = pd.read_csv(PATH, sep=' ', header=None, quoting=csv.QUOTE_NONE, engine='c', "
                   "na_filter=False); m = df.iloc[:, 1:].to_numpy(dtype='float32'); shape = m.shape"),
    "pandas (pyarrow)": ("import csv, pandas as pd, pyarrow",
                         "df = pd.read_csv(PATH, sep=' ', header=None, engine='pyarrow'); "
                         "m = df.iloc[:, 1:].to_numpy(dtype='float32'); shape = m.shape"),
    "pyarrow.csv": ("import pyarrow.csv as pc",
                    "t = pc.read_csv(PATH, read_options=pc.ReadOptions(autogenerate_column_names=True), "
                    "parse_options=pc.ParseOptions(delimiter=' ', quote_char=False)); "
                    "shape = (t.num_rows, t.num_columns - 1)"),
    "polars": ("import polars as pl",
               "df = pl.read_csv(PATH, separator=' ', has_header=False, quote_char=None); "
               "m = df[:, 1:].to_numpy().astype('float32', copy=False); shape = m.shape"),
    # The rule behind embload's binary block size (8 MiB; a block that stays in the
    # last-level cache between the read and the copy into the matrix): the same reader
    # with 32 MiB blocks, for the figure on this machine.
    "embload 32MiB blocks": ("import sys, embload; from embload import load; import embload._parse; "
                             "sys.modules[load.__module__]._BINARY_BLOCK_SIZE = 32 << 20",
                             "v = embload.load(PATH, progress=False); shape = v.vectors.shape"),
    # Not a reader: the floor under every reader of this file on this machine, moving its
    # bytes from the page cache into fresh memory with two parallel pread() calls (the
    # kernel's copy plus the first touch of the pages, which a fresh process pays).
    "floor: pread": ("import os, threading, numpy as np",
                     "fd = os.open(PATH, os.O_RDONLY); size = os.fstat(fd).st_size; "
                     "buf = np.empty(size, np.uint8); mv = memoryview(buf); half = size // 2; "
                     "th = threading.Thread(target=os.preadv, args=(fd, [mv[:half]], 0)); th.start(); "
                     "os.preadv(fd, [mv[half:]], half); th.join(); os.close(fd); shape = (size, 1)"),
}
TEXT_ONLY = {"pandas (c)", "pandas (pyarrow)", "pyarrow.csv", "polars"}
BINARY_ONLY = {"embload 32MiB blocks"}

# Peak memory: VmHWM (reset by exec, unlike ru_maxrss which a child inherits from
# its parent), minus the resident size after the imports (the interpreter and libraries).
CHILD = """
import json, sys, time
def rss(field):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field):
                return int(line.split()[1]) / 1024
PATH, FMT = sys.argv[1], sys.argv[2]
{setup}
base = rss("VmRSS:")
t0, c0 = time.perf_counter(), time.process_time()
{code}
seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
print(json.dumps({{"seconds": seconds, "cpu": cpu, "peak_mb": rss("VmHWM:") - base, "shape": list(shape)}}))
"""


# No reader uses BLAS, but NumPy's OpenBLAS starts its threads at import and they spin
# for about 0.1 s, taking a core from whatever runs next: the timed load, in a fresh
# child. One BLAS thread for every child alike (a user's OPENBLAS_NUM_THREADS wins).
CHILD_ENV = dict(os.environ)
CHILD_ENV.setdefault("OPENBLAS_NUM_THREADS", "1")


def available(reader):
    module = {"gensim": "gensim", "polars": "polars", "pyarrow.csv": "pyarrow", "pandas (c)": "pandas",
              "pandas (pyarrow)": "pyarrow"}.get(reader)
    if module is None:
        return True
    import importlib.util

    return importlib.util.find_spec(module) is not None


def run(reader, path, fmt, timeout):
    setup, timed = READERS[reader]
    code = CHILD.format(setup=setup, code=timed)
    try:
        out = subprocess.run([sys.executable, "-c", code, path, fmt], capture_output=True, text=True,
                             timeout=timeout, env=CHILD_ENV)
    except subprocess.TimeoutExpired:
        return {"error": f"timeout {timeout}s"}
    if out.returncode != 0:
        last = (out.stderr.strip().splitlines() or ["?"])[-1]
        return {"error": last[:60]}
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--small", action="store_true", help="40,000 words instead of 400,000")
    parser.add_argument("--cache", default=DEFAULT_CACHE, help="where the generated files live")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each fast reader; the best counts")
    parser.add_argument("--readers", default=",".join(READERS), help="comma-separated subset")
    parser.add_argument("--timeout", type=float, default=1800)
    parser.add_argument("--only", choices=["text", "binary"], help="only the text files, or only the binary one")
    args = parser.parse_args(argv)
    n = 40_000 if args.small else 400_000
    files = ensure_files(args.cache, n)
    readers = [r for r in args.readers.split(",") if r in READERS and available(r)]
    print(f"cores: {len(os.sched_getaffinity(0))}, python {sys.version.split()[0]}")
    for name, (path, fmt, dim) in files.items():
        if args.only and (fmt == "word2vec-binary") != (args.only == "binary"):
            continue
        size_mb = os.path.getsize(path) / 1e6
        matrix_mb = n * dim * 4 / 1e6
        print(f"\n{name}: {size_mb:.0f} MB file, float32 matrix {matrix_mb:.0f} MB")
        print(f"  {'reader':<18} {'seconds':>8} {'cpu s':>8} {'MB/s':>8} {'peak MB':>8} {'vs gensim':>10} "
              f"{'embload is':>11}")
        results = {}
        for reader in readers:
            if reader in TEXT_ONLY and fmt == "word2vec-binary":
                continue
            if reader in BINARY_ONLY and fmt != "word2vec-binary":
                continue
            slow = reader in ("gensim", "pandas (c)")
            best = None
            for _ in range(1 if slow else args.repeat):
                res = run(reader, path, fmt, args.timeout)
                if "error" in res:
                    best = res
                    break
                if best is None or res["seconds"] < best["seconds"]:
                    best = res
            results[reader] = best
        ref = results.get("gensim", {}).get("seconds")
        ours = results.get("embload", {}).get("seconds")
        for reader, res in results.items():
            if "error" in res:
                print(f"  {reader:<18} failed: {res['error']}")
                continue
            s = res["seconds"]
            vs = f"{ref / s:9.1f}x" if ref else "        -"
            faster = f"{s / ours:10.1f}x" if ours and reader != "embload" else "          -"
            print(f"  {reader:<18} {s:8.3f} {res['cpu']:8.3f} {size_mb / s:8.0f} {res['peak_mb']:8.0f} {vs:>10} "
                  f"{faster:>11}")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
