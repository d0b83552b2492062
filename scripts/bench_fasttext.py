"""Benchmark: fastText .bin models, embload vs gensim (and the fasttext package), same run.

Writes a model of the chosen shape in fastText's real layout (version 12, skipgram, random
weights: an input matrix of ``words + buckets`` rows and an output matrix of ``words``
rows, as ``cc.en.300.bin`` has), then times, each in a fresh subprocess (the file is read
once first so it is in the page cache for everyone):

* full load to word vectors: ``embload.load(path)`` vs gensim's
  ``load_facebook_vectors(path)`` vs ``fasttext.load_model(path)`` (which only reads the
  file; it computes a word's vector when asked);
* ``embload.load_fasttext(path)``: opening the model (memory map, dictionary read);
* ``load_aligned(path, vocab, oov="subwords")`` with a 20,000-word vocabulary (half in
  the dictionary, half not) vs gensim's load + a loop over ``kv[word]``;
* out-of-vocabulary vectors per second: ``model.vectors_for(words)`` vs gensim's
  ``kv[word]`` vs fasttext's ``get_word_vector`` (on a sample, after loading), for two
  sets of words none of them was asked for before: random strings + "qz" (the worst case:
  ~37 n-gram rows a word, scattered over the matrix, hardly any shared between words) and
  misspelt English words (``typo_words``: gensim's ``lee_background.cor`` with a seeded
  typo each; ~21 rows a word, many shared, as in a real batch of unknown words). Then the
  bound the random case meets, measured in the same run: the bytes a word reads against
  this machine's sequential read speed (NumPy over the matrix, 1 and 2 threads).

It prints wall seconds, CPU seconds (all threads; the fairer figure on a busy machine),
peak resident memory (VmHWM: it counts the pages of a memory-mapped file the process
touched, which are page cache, not allocations), anonymous memory at the end (RssAnon:
what the process allocated) and the ratios to embload. The issue's
shape (2 M words, 2 M buckets, dim 300: a 7.2 GB file, gensim needs ~13 GB) is the
default; ``--words``/``--buckets``/``--dim`` pick a smaller one::

    python scripts/bench_fasttext.py                                    # 2M x 2M x 300
    python scripts/bench_fasttext.py --words 200000 --buckets 200000    # 0.7 GB file
"""

import argparse
import json
import os
import struct
import subprocess
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
MAGIC, VERSION = 793712314, 12


def random_words(n, seed=0):
    """``n`` unique word-like strings (lengths 2-14, some non-ASCII), in a stable order."""
    rng = np.random.default_rng(seed)
    letters = np.array(list("etaoinshrdlcumwfgypbvkjxqz"))
    extra = ["é", "ü", "ñ", "ж", "日"]
    words, seen = [], set()
    while len(words) < n:
        k = int(rng.integers(2, 15))
        w = "".join(rng.choice(letters, size=k))
        if rng.random() < 0.05:
            w += extra[int(rng.integers(len(extra)))]
        if w not in seen:
            seen.add(w)
            words.append(w)
    return words


def typo_words(n, exclude=(), seed=3):
    """``n`` unique realistic out-of-vocabulary words: the lowercased words (3+ letters) of
    gensim's shipped ``lee_background.cor`` in corpus order, each with one seeded typo (two
    letters swapped, one dropped or one doubled), kept if new and not in ``exclude`` (the
    model's dictionary). Unlike random strings they share n-grams ("<th", "ing>", and a
    word's other misspellings), as a real batch of unknown words does."""
    import re
    from gensim.test.utils import datapath
    with open(datapath("lee_background.cor"), encoding="utf-8") as handle:
        tokens = [t for t in re.findall(r"[a-z]+", handle.read().lower()) if len(t) >= 3]
    rng = np.random.default_rng(seed)
    exclude, seen, out = set(exclude), set(), []
    while len(out) < n:
        for t in tokens:
            kind, i = int(rng.integers(3)), int(rng.integers(len(t)))
            if kind == 0 and i + 1 < len(t):
                w = t[:i] + t[i + 1] + t[i] + t[i + 2:]   # swapped
            elif kind == 1:
                w = t[:i] + t[i + 1:]                     # dropped
            else:
                w = t[:i] + t[i] + t[i:]                  # doubled
            if w not in seen and w not in exclude:
                seen.add(w)
                out.append(w)
                if len(out) == n:
                    break
    return out


def write_model(path, n_words, bucket, dim, seed=0):
    """A skipgram model in fastText's version-12 layout with random weights."""
    rng = np.random.default_rng(seed)
    words = random_words(n_words, seed)
    tmp = path + ".part"
    with open(tmp, "wb") as out:
        out.write(struct.pack("<ii", MAGIC, VERSION))
        # dim ws epoch minCount neg wordNgrams loss(ns) model(sg) bucket minn maxn lrUpdateRate t
        out.write(struct.pack("<12id", dim, 5, 5, 5, 5, 1, 2, 2, bucket, 3, 6, 100, 1e-4))
        out.write(struct.pack("<iiiqq", n_words, n_words, 0, 10 * n_words, -1))
        counts = np.sort(rng.integers(5, 1_000_000, size=n_words))[::-1]
        chunk = []
        for word, count in zip(words, counts.tolist()):
            chunk.append(word.encode() + b"\0" + struct.pack("<qb", count, 0))
            if len(chunk) >= 100_000:
                out.write(b"".join(chunk))
                chunk = []
        out.write(b"".join(chunk))
        out.write(b"\0")  # quant_input
        for rows in (n_words + bucket, n_words):  # input, then (after qout) output matrix
            if rows == n_words:
                out.write(b"\0")  # qout
            out.write(struct.pack("<qq", rows, dim))
            for start in range(0, rows, 100_000):
                m = min(100_000, rows - start)
                out.write(rng.standard_normal((m, dim), dtype=np.float32).__imul__(0.1).tobytes())
    os.replace(tmp, path)
    return words


RUNNER = r"""
import json, os, sys, time, warnings
warnings.simplefilter("ignore")
sys.path.insert(0, ROOT)
import resource
def status(field):
    for line in open("/proc/self/status"):
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
def rss():
    return status("VmHWM")
def cpu():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime
method, path, vocab_path, typos_path = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
import numpy as np
vocab = open(vocab_path, encoding="utf-8").read().split("\n")
random_oov = [w + "qz" for w in vocab]
typos = open(typos_path, encoding="utf-8").read().split("\n")
def rate(compute, words):
    # words/s of compute(words), wall and per CPU-second (all threads)
    t, c = time.perf_counter(), cpu()
    compute(words)
    t, c = time.perf_counter() - t, cpu() - c
    return {"words": len(words), "words_per_s": len(words) / t, "per_cpu_s": len(words) / max(c, 1e-9)}
base = rss()
result = {}
t = time.perf_counter()
c = cpu()
if method == "embload.load":
    import embload
    v = embload.load(path, progress=False)
    result["rows"] = len(v)
elif method == "embload.open":
    import embload
    m = embload.load_fasttext(path)
    result["rows"] = len(m)
elif method == "embload.aligned":
    import embload
    wi = {w: i + 1 for i, w in enumerate(vocab)}
    a = embload.load_aligned(path, wi, oov="subwords", progress=False)
    result["rows"] = int(a.found.sum() + a.from_subwords.sum())
elif method == "embload.oov":
    import embload
    m = embload.load_fasttext(path)
    t = time.perf_counter()
    m.vectors_for(random_oov)
    # the first batch also maps the matrix's pages into the process (page faults)
    result["first_batch_words_per_s"] = len(random_oov) / (time.perf_counter() - t)
    # then batches of words not asked for before (their rows are in no cache yet)
    result["random"] = rate(m.vectors_for, [w + "j" for w in random_oov])
    result["typos"] = rate(m.vectors_for, typos)
    for key, words in (("random", random_oov), ("typos", typos)):
        _, _, counts = m._compute(words[:5000], None, False)
        result[key]["rows_per_word"] = float(counts.mean())
elif method == "gensim.load":
    from gensim.models.fasttext import load_facebook_vectors
    kv = load_facebook_vectors(path)
    result["rows"] = len(kv)
elif method == "gensim.aligned":
    from gensim.models.fasttext import load_facebook_vectors
    kv = load_facebook_vectors(path)
    matrix = np.zeros((len(vocab) + 1, kv.vector_size), dtype=np.float32)
    for i, w in enumerate(vocab):
        matrix[i + 1] = kv[w]
    result["rows"] = len(vocab)
elif method == "gensim.oov":
    from gensim.models.fasttext import load_facebook_vectors
    kv = load_facebook_vectors(path)
    lookup = lambda words: [kv[w] for w in words]
    result["random"] = rate(lookup, random_oov[:5000])
    result["typos"] = rate(lookup, typos[:5000])
elif method == "fasttext.load":
    import fasttext
    fasttext.FastText.eprint = lambda *a, **k: None
    m = fasttext.load_model(path)
    result["rows"] = len(m.words)
elif method == "fasttext.oov":
    import fasttext
    fasttext.FastText.eprint = lambda *a, **k: None
    m = fasttext.load_model(path)
    lookup = lambda words: [m.get_word_vector(w) for w in words]
    result["random"] = rate(lookup, random_oov[:20000])
    result["typos"] = rate(lookup, typos[:20000])
result["seconds"] = time.perf_counter() - t
result["cpu"] = cpu() - c
result["peak"] = rss()
result["anon"] = status("RssAnon")
print(json.dumps(result))
""".replace("ROOT", repr(ROOT))


def run(method, path, vocab_path, typos_path, timeout):
    try:
        proc = subprocess.run([sys.executable, "-c", RUNNER, method, path, vocab_path, typos_path],
                              capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"error": f"timeout after {timeout} s"}
    if proc.returncode != 0:
        last = (proc.stderr.strip().splitlines() or ["?"])[-1]
        return {"error": last[:120]}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def available(module):
    return subprocess.run([sys.executable, "-c", f"import {module}"], capture_output=True).returncode == 0


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--words", type=int, default=2_000_000)
    parser.add_argument("--buckets", type=int, default=2_000_000)
    parser.add_argument("--dim", type=int, default=300)
    parser.add_argument("--vocab", type=int, default=20_000, help="words aligned (half in the model)")
    parser.add_argument("--workdir", default=os.path.join(os.environ.get("TMPDIR", "/tmp"), "embload_bench"))
    parser.add_argument("--timeout", type=int, default=1800)
    parser.add_argument("--skip", default="", help="comma-separated methods to leave out")
    args = parser.parse_args(argv)
    os.makedirs(args.workdir, exist_ok=True)
    path = os.path.join(args.workdir, f"ft_{args.words}x{args.buckets}x{args.dim}.bin")
    vocab_path = path + f".vocab{args.vocab}.txt"
    typos_path = path + f".typos{args.vocab}.txt"
    if not os.path.exists(path):
        t = time.perf_counter()
        words = write_model(path, args.words, args.buckets, args.dim)
        print(f"wrote {path} ({os.path.getsize(path) / 1e9:.2f} GB) in {time.perf_counter() - t:.0f} s")
    else:
        words = random_words(args.words)
    if not os.path.exists(vocab_path):
        rng = np.random.default_rng(1)
        half = args.vocab // 2
        known = [words[i] for i in rng.choice(len(words), size=min(half, len(words)), replace=False)]
        unknown = [w + "xz" for w in random_words(args.vocab - len(known), seed=2)]
        with open(vocab_path, "w", encoding="utf-8") as handle:
            handle.write("\n".join(known + unknown))
    if not os.path.exists(typos_path):
        with open(typos_path, "w", encoding="utf-8") as handle:
            handle.write("\n".join(typo_words(args.vocab, exclude=set(words))))
    with open(path, "rb") as handle:  # into the page cache for everyone
        while handle.read(1 << 26):
            pass
    size = os.path.getsize(path)
    print(f"model: {args.words} words, {args.buckets} buckets, dim {args.dim} ({size / 1e9:.2f} GB); "
          f"{os.cpu_count()} cores")
    skip = set(filter(None, args.skip.split(",")))
    have_fasttext = available("fasttext")
    groups = [
        ("full load -> word vectors", "seconds",
         ["embload.load", "gensim.load"] + (["fasttext.load"] if have_fasttext else [])),
        ("open the model", "seconds", ["embload.open"]),
        (f"load_aligned, {args.vocab} words, oov='subwords'", "seconds", ["embload.aligned", "gensim.aligned"]),
        (f"out-of-vocabulary vectors: {args.vocab} random strings + 'qz' (the worst case: "
         f"few shared n-grams), {args.vocab} misspelt words of gensim's lee_background.cor",
         "words_per_s",
         ["embload.oov", "gensim.oov"] + (["fasttext.oov"] if have_fasttext else [])),
    ]
    for title, key, methods in groups:
        print(f"\n{title}")
        results = {}
        for method in methods:
            if method in skip:
                continue
            results[method] = r = run(method, path, vocab_path, typos_path, args.timeout)
            if "error" in r:
                print(f"  {method:<18} {r['error']}")
                continue
            ours = results.get(methods[0], {})
            if key == "seconds":
                ratio = ""
                if "seconds" in ours and method != methods[0]:
                    ratio = (f"{r['seconds'] / ours['seconds']:6.1f}x embload's time, "
                             f"{r['cpu'] / ours['cpu']:6.1f}x its CPU")
                print(f"  {method:<16} {r['seconds']:8.2f} s  cpu {r['cpu']:8.2f} s  peak RSS "
                      f"{r['peak'] / 1e9:5.2f} GB  anon {r['anon'] / 1e9:5.2f} GB  {ratio}")
            else:
                for which in ("random", "typos"):
                    x, o = r[which], ours.get(which)
                    ratio = ""
                    if o and method != methods[0]:
                        ratio = (f"embload {o['words_per_s'] / x['words_per_s']:5.1f}x faster, "
                                 f"{o['per_cpu_s'] / x['per_cpu_s']:5.1f}x per CPU-second")
                    print(f"  {method:<13} {which:<6} {x['words_per_s']:10,.0f} words/s "
                          f"{x['per_cpu_s']:10,.0f} per CPU-s  {ratio}")
                if "first_batch_words_per_s" in r:
                    print(f"  {'':13} (embload's first batch, mapping the matrix in: "
                          f"{r['first_batch_words_per_s']:,.0f} words/s)")
        if "embload.oov" in results and "random" in results["embload.oov"]:
            memory_bound(results["embload.oov"], path, words, args)


def read_bandwidth(path, words, buckets, dim, threads):
    """GB/s of a sequential read (NumPy's max, one 1 GB slice per thread) over the model's
    n-gram rows: an upper bound on how fast any reader can stream them."""
    from concurrent.futures import ThreadPoolExecutor
    start = matrix_offset(words)
    matrix = np.memmap(path, dtype="<f4", mode="r", offset=start, shape=((len(words) + buckets) * dim,))
    ngrams = matrix[len(words) * dim:]
    part = min(len(ngrams) // threads, 250_000_000)
    slices = [ngrams[i * part:(i + 1) * part] for i in range(threads)]
    best = 0.0
    with ThreadPoolExecutor(threads) as pool:
        for _ in range(3):  # the first pass maps the pages in
            t = time.perf_counter()
            list(pool.map(np.max, slices))  # a NumPy reduction releases the GIL
            best = max(best, part * 4 * threads / (time.perf_counter() - t) / 1e9)
    return best


def matrix_offset(words):
    """Byte offset of the input matrix's first float in a file write_model wrote."""
    return 8 + 56 + 28 + sum(len(w.encode()) + 10 for w in words) + 1 + 16


def scattered_read(path, words, args, per_word, threads, workdir):
    """words/s and GB/s of scripts/rowread_bench.c: per_word random n-gram rows a word,
    summed as embload sums them, no hashing; None where it does not compile."""
    exe = os.path.join(workdir, f"rowread_bench_{args.dim}")
    source = os.path.join(HERE, "rowread_bench.c")
    if not os.path.exists(exe) or os.path.getmtime(exe) < os.path.getmtime(source):
        for flags in (["-fopenmp"], []):
            cc = os.environ.get("CC", "cc")
            if subprocess.run([cc, "-O3", "-march=native", f"-DDIM={args.dim}", *flags, source, "-o", exe],
                              capture_output=True).returncode == 0:
                break
        else:
            return None
    out = subprocess.run([exe, path, str(matrix_offset(words)), str(len(words)),
                          str(len(words) + args.buckets), str(per_word), "100000",
                          str(threads)], capture_output=True, text=True)
    if out.returncode != 0:
        return None
    rate, _, gbs, _, _ = out.stdout.split()
    return float(rate), float(gbs)


def memory_bound(r, path, words, args):
    """Print what the out-of-vocabulary rate costs in memory traffic against what this
    machine reads, measured now: the bound the random-string case runs into."""
    seq = {n: read_bandwidth(path, words, args.buckets, args.dim, n) for n in (1, 2)}
    print(f"\nmemory bound (same run): sequential read of the n-gram rows (NumPy max): "
          f"{seq[1]:.1f} GB/s on 1 thread, {seq[2]:.1f} GB/s on 2")
    per_word = round(r["random"]["rows_per_word"])
    for n in (1, 2):
        got = scattered_read(path, words, args, per_word, n, args.workdir)
        if got is None:
            print("  (scripts/rowread_bench.c did not compile: no scattered-read figure)")
            break
        print(f"  scattered rows (scripts/rowread_bench.c: {per_word} random rows a word, "
              f"summed 64 columns at a time, no hashing), {n} thread{'s' if n > 1 else ''}: "
              f"{got[0]:9,.0f} words/s, {got[1]:.1f} GB/s")
    for which in ("random", "typos"):
        x = r[which]
        row_bytes = x["rows_per_word"] * args.dim * 4
        print(f"  {which:<6} {x['rows_per_word']:5.1f} rows x {args.dim * 4} B = "
              f"{row_bytes / 1e3:5.1f} KB a word: embload reads "
              f"{x['per_cpu_s'] * row_bytes / 1e9:5.1f} GB per CPU-second "
              f"({x['words_per_s'] * row_bytes / 1e9:5.1f} GB/s wall); at sequential speed "
              f"every row read from memory would allow {seq[1] / row_bytes * 1e9:9,.0f} words/s "
              f"on 1 thread, {seq[2] / row_bytes * 1e9:9,.0f} on 2")
    print("  (an upper bound: 1.2 KB rows scattered over the matrix read slower than a "
          "sequential stream, and a shared machine rarely gives one process both cores; rows "
          "shared by a batch's words may come from a cache instead)")


if __name__ == "__main__":
    main()
