"""Benchmark similarity queries and the analogy evaluation against gensim, in one run.

A random table (default 300,000 words x 300 dims, float32, words "w0", "w1", ...) held
once and shared with a gensim ``KeyedVectors`` (``Vectors.to_gensim()``, no copy):

* one ``most_similar(word, topn=10)`` query: embload vs gensim (best of ``--repeats``,
  taking turns; both compute their norms once before), then the best wall and CPU time of
  each in a block of its own (in turns, OpenBLAS's threads still spinning after gensim's
  call take cores from the next embload call, and charge it their CPU time);
* a batch of ``--batch`` word queries: ``most_similar_batch`` vs gensim's one-at-a-time
  loop (gensim timed on ``--gensim-queries`` of them, per query);
* analogy evaluation (``evaluate_word_analogies`` on a generated ``questions-words``-style
  file): embload on ``--questions`` questions vs gensim on ``--gensim-questions`` of the
  same, compared per question; the accuracies of the common questions are checked equal;
* a float16 copy of the table: the batch again (converted a tile at a time).

Peak extra memory is measured with ``tracemalloc`` (NumPy reports its allocations to it)
around each call, beside gensim's for the same call (the norms, one float per row, are
computed before and kept by both): embload's scan allocates only its heaps; gensim
allocates a vector of scores per query (and a float32 copy of a float16 table's rows).

Prints times, ratios (> 1 means embload is faster) and memory.
Usage: PYTHONPATH=. python scripts/bench_similarity.py [--rows 300000] [--dim 300] [--batch 1000]
(from a checkout: a script's sys.path[0] is scripts/, so without PYTHONPATH the installed
embload is measured; the first line prints which one was imported)
"""

import argparse
import os
import tempfile
import time
import tracemalloc

import numpy as np

import embload
from embload.similarity import (evaluate_word_analogies, most_similar, most_similar_batch,
                                row_norms)


def best_time(fn, repeats):
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def best_times(fns, repeats):
    """Best wall time of each function, the functions taking turns (drift on a shared
    machine then hits all of them alike)."""
    best = [float("inf")] * len(fns)
    for _ in range(repeats):
        for i, fn in enumerate(fns):
            t0 = time.perf_counter()
            fn()
            best[i] = min(best[i], time.perf_counter() - t0)
    return best


def best_block_times(fns, repeats):
    """Best wall and CPU time (every thread of the process) of each function, in blocks:
    BLAS's threads spin for a while after a call (OpenBLAS's idle threads busy-wait), and
    in turns they take cores from, and charge CPU time to, the next function; a pause
    before each block lets them go to sleep."""
    walls, cpus = [], []
    for fn in fns:
        time.sleep(0.5)
        wall = cpu = float("inf")
        for _ in range(repeats):
            c0 = time.process_time()
            t0 = time.perf_counter()
            fn()
            wall = min(wall, time.perf_counter() - t0)
            cpu = min(cpu, time.process_time() - c0)
        walls.append(wall)
        cpus.append(cpu)
    return walls, cpus


def peak_extra(fn):
    """Peak bytes allocated (tracemalloc) while fn runs, beyond what was held before."""
    tracemalloc.start()
    tracemalloc.reset_peak()
    base = tracemalloc.get_traced_memory()[0]
    fn()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak - base


def mib(n):
    return f"{n / 2**20:8.1f} MiB"


def write_questions(path, words, count, rng):
    """Questions in sections of 500; the words are drawn from the first 30,000 rows so most
    exist, like a real set on a frequency-sorted table."""
    pool = min(len(words), 30000)
    with open(path, "w", encoding="utf-8") as handle:
        for i in range(count):
            if i % 500 == 0:
                handle.write(f": section-{i // 500}\n")
            a, b, c, d = rng.choice(pool, 4, replace=False)
            handle.write(f"{words[a]} {words[b]} {words[c]} {words[d]}\n")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=300000)
    parser.add_argument("--dim", type=int, default=300)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--gensim-queries", type=int, default=50)
    parser.add_argument("--questions", type=int, default=2000)
    parser.add_argument("--gensim-questions", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    rng = np.random.default_rng(args.seed)
    matrix = rng.standard_normal((args.rows, args.dim), dtype=np.float32)
    words = [f"w{i}" for i in range(args.rows)]
    v = embload.Vectors(words, matrix)
    kv = v.to_gensim()
    print(f"table {args.rows} x {args.dim} float32, {os.cpu_count()} cores; "
          f"embload {embload.__version__} from {os.path.dirname(embload.__file__)}, numpy {np.__version__}")

    # norms: both compute them once, on the first query
    t0 = time.perf_counter()
    row_norms(v)
    t_norms = time.perf_counter() - t0
    t0 = time.perf_counter()
    kv.fill_norms()
    t_gnorms = time.perf_counter() - t0
    print(f"\nnorms (once)             embload {t_norms * 1e3:8.1f} ms   gensim {t_gnorms * 1e3:8.1f} ms")

    # --- one query
    query = words[123]
    mine = most_similar(v, query, topn=10)
    theirs = kv.most_similar(query, topn=10)
    assert [w for w, _ in mine] == [w for w, _ in theirs], (mine, theirs)
    one_query = [lambda: most_similar(v, query, topn=10), lambda: kv.most_similar(query, topn=10)]
    t_one, t_gone = best_times(one_query, args.repeats)
    (b_one, b_gone), (c_one, c_gone) = best_block_times(one_query, args.repeats)
    m_one = peak_extra(lambda: most_similar(v, query, topn=10))
    m_gone = peak_extra(lambda: kv.most_similar(query, topn=10))
    print(f"one most_similar         embload {t_one * 1e3:8.2f} ms   gensim {t_gone * 1e3:8.2f} ms   "
          f"ratio {t_gone / t_one:6.2f}x   memory {mib(m_one)} vs {mib(m_gone)}")
    print(f"  in blocks: wall         embload {b_one * 1e3:8.2f} ms   gensim {b_gone * 1e3:8.2f} ms   "
          f"ratio {b_gone / b_one:6.2f}x")
    print(f"  in blocks: CPU time     embload {c_one * 1e3:8.2f} ms   gensim {c_gone * 1e3:8.2f} ms   "
          f"ratio {c_gone / c_one:6.2f}x")

    # --- a batch of queries vs gensim's loop
    batch = [words[i] for i in rng.choice(args.rows, args.batch, replace=False)]
    t0 = time.perf_counter()
    answers = most_similar_batch(v, batch, topn=10)
    t_batch = time.perf_counter() - t0
    sample = batch[: args.gensim_queries]
    t0 = time.perf_counter()
    gensim_answers = [kv.most_similar(w, topn=10) for w in sample]
    t_gloop = (time.perf_counter() - t0) / len(sample) * len(batch)
    same = sum([w for w, _ in a] == [w for w, _ in g] for a, g in zip(answers, gensim_answers))
    m_batch = peak_extra(lambda: most_similar_batch(v, batch, topn=10))
    print(f"{args.batch} queries (batch)    embload {t_batch:8.2f} s    gensim {t_gloop:8.2f} s    "
          f"ratio {t_gloop / t_batch:6.2f}x   memory {mib(m_batch)} vs {mib(m_gone)} "
          f"(gensim per query; {same}/{len(sample)} same answers, gensim timed on {len(sample)})")

    # --- analogy evaluation
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "questions.txt")
        write_questions(path, words, args.questions, rng)
        path_few = os.path.join(tmp, "questions-few.txt")
        with open(path) as src, open(path_few, "w") as dst:
            lines = src.readlines()
            kept = 0
            for line in lines:
                if not line.startswith(": "):
                    kept += 1
                if kept > args.gensim_questions:
                    break
                dst.write(line)
        t0 = time.perf_counter()
        score, sections = evaluate_word_analogies(v, path, restrict_vocab=args.rows, progress=False)
        t_eval = time.perf_counter() - t0
        asked = len(sections[-1]["correct"]) + len(sections[-1]["incorrect"])
        t0 = time.perf_counter()
        gscore, gsections = kv.evaluate_word_analogies(path_few, restrict_vocab=args.rows)
        t_geval = time.perf_counter() - t0
        gasked = len(gsections[-1]["correct"]) + len(gsections[-1]["incorrect"])
        mine_few = evaluate_word_analogies(v, path_few, restrict_vocab=args.rows)[1][-1]
        assert mine_few["correct"] == gsections[-1]["correct"], "analogy answers differ from gensim's"
        m_eval = peak_extra(lambda: evaluate_word_analogies(v, path, restrict_vocab=args.rows))
        m_geval = peak_extra(lambda: kv.evaluate_word_analogies(path_few, restrict_vocab=args.rows))
    per, gper = t_eval / asked, t_geval / gasked
    print(f"analogies (per question) embload {per * 1e3:8.2f} ms   gensim {gper * 1e3:8.2f} ms   "
          f"ratio {gper / per:6.2f}x   memory {mib(m_eval)} vs {mib(m_geval)} "
          f"({asked} vs {gasked} questions, same answers on the common ones; "
          f"19,544 questions: {per * 19544:.0f} s vs {gper * 19544:.0f} s)")

    # --- float16 table, same batch
    v16 = embload.Vectors(v.words, matrix.astype(np.float16))
    kv16 = v16.to_gensim()
    row_norms(v16)
    kv16.fill_norms()
    t0 = time.perf_counter()
    most_similar_batch(v16, batch, topn=10)
    t_batch16 = time.perf_counter() - t0
    t0 = time.perf_counter()
    for w in sample[:10]:
        kv16.most_similar(w, topn=10)
    t_gloop16 = (time.perf_counter() - t0) / 10 * len(batch)
    m_batch16 = peak_extra(lambda: most_similar_batch(v16, batch, topn=10))
    m_gone16 = peak_extra(lambda: kv16.most_similar(sample[0], topn=10))
    print(f"{args.batch} queries, float16   embload {t_batch16:8.2f} s    gensim {t_gloop16:8.2f} s    "
          f"ratio {t_gloop16 / t_batch16:6.2f}x   memory {mib(m_batch16)} vs {mib(m_gone16)} (gensim per query)")


if __name__ == "__main__":
    main()
