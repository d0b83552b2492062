"""Benchmark: embload.save against gensim's KeyedVectors.save_word2vec_format, same run.

Writes a GloVe-like matrix (400,000 words x 300 by default; values with GloVe's
five significant digits, so the text is as long as real GloVe text) as word2vec
text and word2vec binary with both, prints seconds, MB/s and the ratio, then
checks that our files read back to the same matrix (binary with gensim, text
with embload.load: gensim's text reader would take minutes at this size).
Both write the same bytes, so use --dir /dev/shm/... to keep a busy disk out
of the comparison.

    python scripts/bench_write.py                     # 400,000 x 300 (gensim text takes minutes)
    python scripts/bench_write.py --rows 50000 --dim 100
    python scripts/bench_write.py --gensim-text-rows 40000   # time gensim text on a slice, scaled up

Each time is the best of --repeat runs (2), for embload and gensim alike. The target is
deleted before each timed run, so every write makes a new file and neither writer pays
for freeing an old one's pages (embload would free them in a helper thread after the
rename, see embload._atomic._hold_replaced, which would flatter it here).
"""
import argparse
import os
import shutil
import tempfile
import time

import numpy as np


def timed(fn, repeat=1, target=None):
    best = float("inf")
    for _ in range(repeat):
        if target is not None and os.path.exists(target):
            os.unlink(target)
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


def _keyed_vectors(KeyedVectors, words, matrix):
    kv = KeyedVectors(matrix.shape[1], count=len(words))
    kv.vectors = matrix
    kv.index_to_key = list(words)
    kv.key_to_index = {w: i for i, w in enumerate(words)}
    return kv


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=400_000)
    ap.add_argument("--dim", type=int, default=300)
    ap.add_argument("--threads", type=int, default=None, help="embload threads (default: all cores)")
    ap.add_argument("--gensim-text-rows", type=int, default=None,
                    help="time gensim's text writer on only this many rows and scale (it is slow)")
    ap.add_argument("--dir", default=None, help="where to write (default: a temporary folder)")
    ap.add_argument("--repeat", type=int, default=2, help="best of this many runs, for both writers (default 2)")
    args = ap.parse_args()

    import embload
    from gensim.models import KeyedVectors

    rng = np.random.default_rng(0)
    matrix = np.round(rng.standard_normal((args.rows, args.dim)) * 0.4, 5).astype(np.float32)
    words = [f"word{i}" for i in range(args.rows)]
    vectors = embload.Vectors(words, matrix)
    kv = _keyed_vectors(KeyedVectors, words, matrix)

    folder = args.dir or tempfile.mkdtemp(prefix="embload_bench_write_")
    try:
        ours_txt, ours_bin = os.path.join(folder, "ours.vec"), os.path.join(folder, "ours.bin")
        theirs_txt, theirs_bin = os.path.join(folder, "gensim.vec"), os.path.join(folder, "gensim.bin")
        rows = []

        t_bin = timed(lambda: embload.save(vectors, ours_bin, threads=args.threads, progress=False), args.repeat,
                      ours_bin)
        g_bin = timed(lambda: kv.save_word2vec_format(theirs_bin, binary=True), args.repeat, theirs_bin)
        rows.append(("word2vec binary", t_bin, g_bin, os.path.getsize(ours_bin)))

        t_txt = timed(lambda: embload.save(vectors, ours_txt, threads=args.threads, progress=False), args.repeat,
                      ours_txt)
        if args.gensim_text_rows and args.gensim_text_rows < args.rows:
            part = _keyed_vectors(KeyedVectors, words[: args.gensim_text_rows],
                                  matrix[: args.gensim_text_rows])
            g_txt = timed(lambda: part.save_word2vec_format(theirs_txt, binary=False), args.repeat, theirs_txt)
            g_txt *= args.rows / args.gensim_text_rows
            note = f" (gensim timed on {args.gensim_text_rows:,} rows, scaled)"
        else:
            g_txt = timed(lambda: kv.save_word2vec_format(theirs_txt, binary=False), args.repeat, theirs_txt)
            with open(ours_txt, "rb") as a, open(theirs_txt, "rb") as b:
                same = a.read() == b.read()
            note = " (files byte-identical)" if same else " (files differ!)"
        rows.append(("word2vec text", t_txt, g_txt, os.path.getsize(ours_txt)))

        print(f"\n{args.rows:,} x {args.dim} float32, threads={args.threads or 'all'}, "
              f"cores={len(os.sched_getaffinity(0))}, load average {os.getloadavg()[0]:.1f}, folder {folder}")
        print(f"{'format':18s} {'size MB':>8s} {'embload s':>10s} {'MB/s':>7s} {'gensim s':>10s} {'ratio':>7s}")
        for name, ours, theirs, size in rows:
            print(f"{name:18s} {size / 1e6:8.0f} {ours:10.2f} {size / 1e6 / ours:7.0f} {theirs:10.2f} "
                  f"{theirs / ours:6.1f}x")
        print(f"text{note}", flush=True)

        # the floor under the binary time: the same bytes written from memory with plain
        # write() calls (the kernel's page-cache work, which no writer avoids)
        with open(ours_bin, "rb") as f:
            data = f.read()
        plain = os.path.join(folder, "plain.bin")

        floor = float("inf")
        for _ in range(args.repeat):
            t = time.perf_counter()
            with open(plain, "wb") as f:   # a new file: no old pages to free
                view = memoryview(data)
                for i in range(0, len(data), 16 << 20):
                    f.write(view[i:i + (16 << 20)])
            floor = min(floor, time.perf_counter() - t)
            os.unlink(plain)
        del data
        print(f"floor: plain write() of the {os.path.getsize(ours_bin) / 1e6:.0f} MB binary file from memory: "
              f"{floor:.2f} s (gensim binary / floor = {g_bin / floor:.1f}x)", flush=True)

        # what we wrote reads back to the same matrix: gensim for binary, embload for text
        # (gensim's text reader would take minutes on this size)
        back = KeyedVectors.load_word2vec_format(ours_bin, binary=True)
        assert back.index_to_key == words and np.array_equal(back.vectors, matrix), ours_bin
        back = embload.load(ours_txt, progress=False)
        assert back.words == words and np.array_equal(back.vectors, matrix), ours_txt
        print("read back: identical matrices", flush=True)
    finally:
        if args.dir is None:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
