"""Benchmark: embload.Tokenizer / pad_sequences against keras_preprocessing, same run.

Two corpora, made reproducibly from a seed: Zipf-distributed words of ASCII
letters (mixed case, punctuation glued on) and the same of Cyrillic words
(every document non-ASCII). Each step runs on
keras_preprocessing, on embload with one thread and with two; the outputs are
checked equal and the times printed with the ratios keras / embload (above 1:
embload is faster) and 1 thread / 2 threads. keras_preprocessing against one
thread is measured in CPU seconds of this process (other load on a shared
machine does not skew it); one thread against two in wall-clock seconds (the
only clock where threads show: it needs two idle cores to mean anything); and,
blind to other load, the CPU seconds each thread of the C kernels worked with
one thread and with two, with the 2-thread speedup on two idle cores that
follows from them (``thread_split``). Best of ``--repeat`` runs each.

    PYTHONPATH=. python scripts/bench_tokenizer.py     # 100k documents per corpus
    python scripts/bench_tokenizer.py --docs 20000     # quicker
    python scripts/bench_tokenizer.py --dask-mb 1000   # and embload.dask on 1 GB
    python scripts/bench_tokenizer.py --docs 0 --dask-mb 1000   # only embload.dask
"""

import argparse
import os
import time

import numpy as np

LATIN = "abcdefghijklmnopqrstuvwxyz"
CYRILLIC = "абвгдеёжзийклмнопрстуфхцчшщъыьэюя"


def make_corpus(n_docs, vocab, mean_len, seed, letters=LATIN):
    rng = np.random.default_rng(seed)
    letters = np.array(list(letters))
    lens = rng.integers(2, 12, size=vocab)
    words = ["".join(rng.choice(letters, size=n)) for n in lens]
    # Capitalised and punctuated variants: the tokenizer has real work to do
    deco = np.array(["", "", "", "", "", ",", ".", "!", "?", ";", ")", '"'])
    doc_lens = rng.poisson(mean_len, size=n_docs) + 1
    total = int(doc_lens.sum())
    ids = np.minimum(rng.zipf(1.15, size=total) - 1, vocab - 1)
    tails = rng.choice(deco, size=total)
    caps = rng.random(total) < 0.1
    toks = [w.capitalize() if c else w for w, c in zip((words[i] for i in ids), caps)]
    toks = [t + d for t, d in zip(toks, tails)]
    texts, pos = [], 0
    for n in doc_lens:
        texts.append(" ".join(toks[pos : pos + n]))
        pos += n
    return texts, total


def timed(fn, repeat, clock=time.process_time):
    """Best time of ``repeat`` calls, and the last call's result. The previous result is
    dropped before the clock starts: freeing millions of list items is not the call's
    work (it would be charged to whichever call came next, the same for every peer)."""
    best, out = float("inf"), None
    for _ in range(repeat):
        out = None
        t0 = clock()
        out = fn()
        best = min(best, clock() - t0)
    return best, out


def run_corpus(name, texts, args, kseq, ktext, embload):
    mb = sum(map(len, texts)) / 1e6
    print(f"\n== {name}: {len(texts):,} documents, {mb:.1f} M characters ==")
    print(f"{'':<26}{'--- CPU seconds, 1 thread ---':>30}   {'--- wall seconds ---':>30}")
    print(f"{'step':<26}{'keras':>9}{'embload':>10}{'ratio':>8}   "
          f"{'1 thread':>10}{'2 threads':>11}{'ratio':>8}")
    rows = []
    opts = dict(num_words=args.num_words, oov_token="<OOV>")

    def step(label, kfn, efn, same=lambda a, b: a == b, threads=True):
        tk, ko = timed(kfn, args.repeat)
        t1, e1 = timed(lambda: efn(1), args.repeat)
        w1, _ = timed(lambda: efn(1), args.repeat, time.perf_counter) if threads else (t1, e1)
        w2, e2 = timed(lambda: efn(2), args.repeat, time.perf_counter) if threads else (t1, e1)
        if not (same(ko, e1) and same(ko, e2)):
            raise SystemExit(f"{label}: outputs differ between keras_preprocessing and embload")
        rows.append((name, label, tk, t1, w1, w2 if threads else None))
        print(f"{label:<26}{tk:9.3f}{t1:10.3f}{tk / t1:8.1f}   "
              + (f"{w1:10.3f}{w2:11.3f}{w1 / w2:8.2f}" if threads else f"{'(one thread)':>29}"))

    def kfit():
        t = ktext.Tokenizer(**opts)
        t.fit_on_texts(texts)
        return t

    def efit(threads):
        t = embload.Tokenizer(**opts)
        t.fit_on_texts(texts, threads=threads)
        return t

    step("fit_on_texts", kfit, efit, lambda a, b: a.to_json() == b.to_json())
    ktok, etok = kfit(), efit(1)
    step(
        "texts_to_sequences",
        lambda: ktok.texts_to_sequences(texts),
        lambda th: etok.texts_to_sequences(texts, threads=th),
    )
    thread_split(texts, etok, rows, name)
    seqs = etok.texts_to_sequences(texts)
    step(
        "pad_sequences maxlen=40",
        lambda: kseq.pad_sequences(seqs, maxlen=40),
        lambda th: embload.pad_sequences(seqs, maxlen=40),
        np.array_equal,
        threads=False,
    )
    return rows


class _PeakRSS:
    """The peak resident memory of this process (client + scheduler of a LocalCluster),
    sampled every 50 ms while the block runs."""

    def __enter__(self):
        import threading

        import psutil

        self._proc = psutil.Process()
        self.base = self.peak = self._proc.memory_info().rss
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample(self):
        while not self._stop.wait(0.05):
            self.peak = max(self.peak, self._proc.memory_info().rss)

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self._proc.memory_info().rss)


def thread_split(texts, tokenizer, rows, name):
    """What each thread of the C kernels worked, in its own CPU seconds (the thread's
    clock, blind to other load), with one thread and with two: the kernel's work is
    split when each of two threads does about half. The rest of a call (gathering
    the documents, building Keras' Python tables) runs on one thread; the printed
    bound is the 2-thread speedup on two idle cores that follows from both:
    (1-thread CPU) / (1-thread CPU - kernel + the busier thread's kernel). For the
    look-ups it is a floor: on several threads texts_to_sequences makes the lists of
    pieces already looked up while the others are (embload.text._lookup_lists_pipelined)."""
    from embload import _text

    options = tokenizer._c_options()
    plan = tokenizer._lookup_plan()
    fit_cpu = {r[1]: r[3] for r in rows if r[0] == name}
    print(f"{'  C kernel, CPU s per thread':<26}", end="")
    for label, run in (("fit_on_texts", "fit"), ("texts_to_sequences", "lookup")):
        split = {}
        for threads in (1, 2):
            best = None
            for _ in range(3):
                if run == "fit":
                    counter = _text.Counter(options, threads)
                    for i in range(0, len(texts), 32768):  # fit_on_texts' batches
                        counter.add(_text.gather(texts[i:i + 32768]))
                    secs = counter.thread_seconds
                else:
                    secs = np.zeros(threads)
                    _text.lookup(plan[0], plan[1], _text.gather(texts), plan[2], plan[3],
                                 plan[4] is not None, threads, secs)
                if best is None or secs.max() < best.max():
                    best = secs.copy()
            split[threads] = best
        cpu1 = fit_cpu.get(label)
        bound = ""
        if cpu1:
            rest = max(cpu1 - split[1].sum(), 0.0)
            bound = f", bound x{cpu1 / (rest + split[2].max()):.2f}"
        print(f"  {run}: 1 thread {split[1][0]:.3f}, 2 threads "
              + " + ".join(f"{x:.3f}" for x in split[2]) + bound, end="")
    print()


def _process_cpu():
    """User + system CPU seconds of the calling process (run on each worker)."""
    t = os.times()
    return t.user + t.system


def run_dask(args, embload):
    """fit_tokenizer on a corpus of text files: LocalCluster of 1 worker vs 2, same run.

    The texts are files on disk read by the workers (``dask.bag.read_text``): the
    client and scheduler (this process) see only counts; their peak resident
    memory is printed next to the corpus size.
    """
    import os
    import tempfile

    import dask.bag as db
    from distributed import Client, LocalCluster

    from embload.dask import fit_tokenizer

    texts, _ = make_corpus(20_000, args.vocab, args.mean_len, args.seed)
    block = "\n".join(texts) + "\n"
    folder = tempfile.mkdtemp(prefix="embload-dask-bench-")
    files = max(2, int(args.dask_mb * 1e6 // (len(block) * 8)) or 2)
    for i in range(files):
        with open(os.path.join(folder, f"part{i:04d}.txt"), "w", encoding="utf-8") as handle:
            handle.write(block * 8)
    mb = files * 8 * len(block) / 1e6
    print(f"\n== embload.dask: {files} files, {mb:.0f} M characters ==")
    opts = dict(num_words=args.num_words, oov_token="<OOV>")
    results = {}
    for workers in (1, 2):
        with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                          dashboard_address=None) as cluster, Client(cluster) as client:
            bag = db.read_text(os.path.join(folder, "*.txt"), blocksize="32MiB")
            cpu0 = sum(client.run(_process_cpu).values())
            with _PeakRSS() as rss:
                t0 = time.perf_counter()
                tok = fit_tokenizer(bag, **opts)
                results[workers] = (time.perf_counter() - t0, tok.to_json())
            per_worker = sorted(client.run(_process_cpu).values())
            print(f"  workers' CPU seconds during the fit: {sum(per_worker) - cpu0:.1f} in all "
                  f"(now {', '.join(f'{c:.1f}' for c in per_worker)} per worker)")
            print(f"fit_tokenizer, {workers} worker(s): {results[workers][0]:.2f} s wall, "
                  f"{bag.npartitions} partitions, client+scheduler peak RSS "
                  f"{rss.peak / 2**20:.0f} MiB ({(rss.peak - rss.base) / 2**20:+.0f} MiB during the fit), "
                  f"{len(tok.word_index):,} words")
    if results[1][1] != results[2][1]:
        raise SystemExit("embload.dask: 1 and 2 workers gave different tokenizers")
    print(f"2 workers / 1 worker: x{results[1][0] / results[2][0]:.2f} (same tokenizer)")
    for name in os.listdir(folder):
        os.remove(os.path.join(folder, name))
    os.rmdir(folder)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--docs", type=int, default=100_000,
                    help="documents per in-memory corpus (0: only the Dask run)")
    ap.add_argument("--vocab", type=int, default=100_000)
    ap.add_argument("--mean-len", type=int, default=30)
    ap.add_argument("--num-words", type=int, default=20_000)
    ap.add_argument("--repeat", type=int, default=3, help="best of N runs per step")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--dask-mb", type=float, default=0,
                    help="also time embload.dask on 1 and 2 local workers over a corpus of "
                         "this many MB of text files (0: skip)")
    args = ap.parse_args()

    np.unicode_ = np.str_  # keras_preprocessing's pad_sequences needs it on NumPy 2
    import keras_preprocessing.sequence as kseq
    import keras_preprocessing.text as ktext

    import embload

    # run from a checkout, set PYTHONPATH=. to time it: sys.path[0] is scripts/ here
    print(f"embload from {embload.__file__}")
    print(f"options: num_words={args.num_words}, oov_token='<OOV>'; best of {args.repeat}")
    rows = []
    for name, letters in (("Zipf, ASCII", LATIN), ("Zipf, Cyrillic", CYRILLIC)) if args.docs else ():
        texts, _ = make_corpus(args.docs, args.vocab, args.mean_len, args.seed, letters)
        embload.Tokenizer().fit_on_texts(texts[:10])  # build the case tables outside the timing
        rows += run_corpus(name, texts, args, kseq, ktext, embload)

    if args.dask_mb:
        run_dask(args, embload)

    print("\n| corpus | step | keras_preprocessing (CPU) | embload 1 thread (CPU) | x keras "
          "| 1 thread (wall) | 2 threads (wall) | x 1 thread |")
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    for name, label, tk, t1, w1, w2 in rows:
        wall = f"{w1:.3f} s | {w2:.3f} s | {w1 / w2:.2f}" if w2 is not None else "| |"
        print(f"| {name} | {label} | {tk:.3f} s | {t1:.3f} s | {tk / t1:.1f} | {wall} |")


if __name__ == "__main__":
    main()
