"""Benchmark: embload.Tokenizer / pad_sequences against keras_preprocessing, same run.

Corpus: documents of Zipf-distributed words (mixed case, punctuation glued on,
some non-ASCII words), made reproducibly from a seed. Each step is run on both
implementations, the outputs are checked equal, and the times and ratios
(keras / embload: above 1 means embload is faster) are printed. Times are
CPU seconds of this process (everything here is single-threaded), best of
``--repeat``, so other load on the machine does not skew the ratios.

    python scripts/bench_tokenizer.py                 # 200k documents
    python scripts/bench_tokenizer.py --docs 20000    # quicker
"""

import argparse
import time

import numpy as np


def make_corpus(n_docs, vocab, mean_len, seed):
    rng = np.random.default_rng(seed)
    letters = np.array(list("abcdefghijklmnopqrstuvwxyzéøß"))
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


def timed(fn, repeat):
    best, out = float("inf"), None
    for _ in range(repeat):
        t0 = time.process_time()
        out = fn()
        best = min(best, time.process_time() - t0)
    return best, out


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--docs", type=int, default=200_000)
    ap.add_argument("--vocab", type=int, default=100_000)
    ap.add_argument("--mean-len", type=int, default=30)
    ap.add_argument("--num-words", type=int, default=20_000)
    ap.add_argument("--repeat", type=int, default=3, help="best of N runs per step")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()

    np.unicode_ = np.str_  # keras_preprocessing's pad_sequences needs it on NumPy 2
    import keras_preprocessing.sequence as kseq
    import keras_preprocessing.text as ktext

    import embload

    texts, total = make_corpus(args.docs, args.vocab, args.mean_len, args.seed)
    mb = sum(map(len, texts)) / 1e6
    print(f"corpus: {len(texts):,} documents, {total:,} words, {mb:.1f} M characters")
    print(f"options: num_words={args.num_words}, oov_token='<OOV>'; best of {args.repeat}\n")

    rows = []

    def step(name, kfn, efn, same=lambda a, b: a == b):
        tk, ko = timed(kfn, args.repeat)
        te, eo = timed(efn, args.repeat)
        if not same(ko, eo):
            raise SystemExit(f"{name}: outputs differ between keras_preprocessing and embload")
        rows.append((name, tk, te))
        print(f"{name:<28} keras {tk:8.3f} s   embload {te:8.3f} s   x{tk / te:6.1f}")

    opts = dict(num_words=args.num_words, oov_token="<OOV>")

    def kfit():
        t = ktext.Tokenizer(**opts)
        t.fit_on_texts(texts)
        return t

    def efit():
        t = embload.Tokenizer(**opts)
        t.fit_on_texts(texts)
        return t

    step("fit_on_texts", kfit, efit, lambda a, b: a.to_json() == b.to_json())
    ktok, etok = kfit(), efit()
    step(
        "texts_to_sequences",
        lambda: ktok.texts_to_sequences(texts),
        lambda: etok.texts_to_sequences(texts),
    )
    seqs = etok.texts_to_sequences(texts)
    step(
        "sequences_to_texts",
        lambda: ktok.sequences_to_texts(seqs),
        lambda: etok.sequences_to_texts(seqs),
    )
    sub = seqs[:2000]
    step(
        "sequences_to_matrix tfidf",
        lambda: ktok.sequences_to_matrix(sub, mode="tfidf"),
        lambda: etok.sequences_to_matrix(sub, mode="tfidf"),
        np.array_equal,
    )
    step(
        "pad_sequences maxlen=40",
        lambda: kseq.pad_sequences(seqs, maxlen=40),
        lambda: embload.pad_sequences(seqs, maxlen=40),
        np.array_equal,
    )
    step("to_json", ktok.to_json, etok.to_json)
    js = ktok.to_json()
    step(
        "tokenizer_from_json",
        lambda: ktext.tokenizer_from_json(js),
        lambda: embload.tokenizer_from_json(js),
        lambda a, b: a.word_index == b.word_index and a.word_counts == b.word_counts,
    )

    tk = sum(r[1] for r in rows[:2])
    te = sum(r[2] for r in rows[:2])
    print(f"\nfit + texts_to_sequences: keras {tk:.3f} s, embload {te:.3f} s, x{tk / te:.1f}")
    print(f"fit throughput: embload {mb / rows[0][2]:.1f} M chars/s, keras {mb / rows[0][1]:.1f}")


if __name__ == "__main__":
    main()
