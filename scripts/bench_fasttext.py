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
  ``kv[word]`` vs fasttext's ``get_word_vector`` (on a sample, after loading).

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
method, path, vocab_path = sys.argv[1], sys.argv[2], sys.argv[3]
import numpy as np
vocab = open(vocab_path, encoding="utf-8").read().split("\n")
oov = [w + "qz" for w in vocab]
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
    x = m.vectors_for(oov)
    # the first batch also maps the matrix's pages into the process (page faults)
    result["first_batch_words_per_s"] = len(oov) / (time.perf_counter() - t)
    again = [w + "j" for w in oov]
    t = time.perf_counter()
    c = cpu()
    x = m.vectors_for(again)
    result["words_per_s"] = len(again) / (time.perf_counter() - t)
    result["words"] = len(again)
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
    sample = oov[:5000]
    t = time.perf_counter()
    c = cpu()
    for w in sample:
        kv[w]
    result["words_per_s"] = len(sample) / (time.perf_counter() - t)
    result["words"] = len(sample)
elif method == "fasttext.load":
    import fasttext
    fasttext.FastText.eprint = lambda *a, **k: None
    m = fasttext.load_model(path)
    result["rows"] = len(m.words)
elif method == "fasttext.oov":
    import fasttext
    fasttext.FastText.eprint = lambda *a, **k: None
    m = fasttext.load_model(path)
    sample = oov[:20000]
    t = time.perf_counter()
    c = cpu()
    for w in sample:
        m.get_word_vector(w)
    result["words_per_s"] = len(sample) / (time.perf_counter() - t)
    result["words"] = len(sample)
result["seconds"] = time.perf_counter() - t
result["cpu"] = cpu() - c
result["peak"] = rss()
result["anon"] = status("RssAnon")
print(json.dumps(result))
""".replace("ROOT", repr(ROOT))


def run(method, path, vocab_path, timeout):
    try:
        proc = subprocess.run([sys.executable, "-c", RUNNER, method, path, vocab_path],
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
        ("out-of-vocabulary vectors", "words_per_s",
         ["embload.oov", "gensim.oov"] + (["fasttext.oov"] if have_fasttext else [])),
    ]
    for title, key, methods in groups:
        print(f"\n{title}")
        results = {}
        for method in methods:
            if method in skip:
                continue
            results[method] = r = run(method, path, vocab_path, args.timeout)
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
                per_cpu = r["words"] / max(r["cpu"], 1e-9)
                ratio = ""
                if key in ours and method != methods[0]:
                    ours_cpu = ours["words"] / max(ours["cpu"], 1e-9)
                    ratio = (f"embload {ours['words_per_s'] / r['words_per_s']:5.1f}x faster, "
                             f"{ours_cpu / per_cpu:5.1f}x per CPU-second")
                first = (f"  (first batch, mapping the matrix in: {r['first_batch_words_per_s']:,.0f}/s)"
                         if "first_batch_words_per_s" in r else "")
                print(f"  {method:<16} {r['words_per_s']:10,.0f} words/s  {per_cpu:10,.0f} per CPU-s  "
                      f"{ratio}{first}")


if __name__ == "__main__":
    main()
