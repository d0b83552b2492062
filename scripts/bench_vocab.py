"""Benchmark: a Hugging Face vocabulary (ids from 0, sparse, subword pieces) -> embedding
matrix, embload vs the recipes its users had.

A GloVe-like file (``--words`` x ``--dim``) and a WordPiece tokenizer of ``--vocab`` tokens
(``[PAD]`` 0, ``[UNK]`` 100, ids from 0 with gaps, 20% ``##`` pieces, 10% words not in
the file), aligned by:

* ``embload.load_aligned(file, "tokenizer.json", lookup=skip ##)`` (all cores)
* the same with the ``tokenizers.Tokenizer`` object (``get_vocab()``)
* torchtext's recipe without torchtext (frozen with PyTorch 2.3): every line parsed into
  a word -> row dict and a matrix (what ``torchtext.vocab.Vectors`` does), then
  ``get_vecs_by_tokens`` over the id-ordered tokens
* gensim: ``KeyedVectors.load_word2vec_format(no_header=True)`` + a loop over the ids

All run in this process, one after the other, best of ``--repeat`` (the file is read once
first so it is in the page cache); every matrix is checked equal to embload's on the rows
of tokens found. Prints seconds and the ratio to embload.

    python scripts/bench_vocab.py                    # 400,000 x 100 file, 30,000 tokens
    python scripts/bench_vocab.py --words 50000      # a quick look
"""

import argparse
import os
import sys
import tempfile
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
sys.path.insert(0, HERE)

import embload  # noqa: E402
from bench_align import make_glove_like  # noqa: E402


def hf_vocabulary(words, size, seed=1):
    """{token: id}: [PAD] 0, [UNK] 100, ids with gaps, ##pieces, words not in the file."""
    rng = np.random.default_rng(seed)
    picked = rng.choice(len(words), size=int(size * 0.7), replace=False)
    tokens = [words[i] for i in picked]
    tokens += ["##" + words[i] for i in rng.choice(len(words), size=int(size * 0.2), replace=False)]
    tokens += [f"absent{i}" for i in range(size - len(tokens))]
    tokens = list(dict.fromkeys(tokens))
    rng.shuffle(tokens)
    ids = {"[PAD]": 0, "[UNK]": 100}
    row = 1000
    for token in tokens:
        ids.setdefault(token, row)
        row += 1 + int(rng.random() < 0.05)    # some gaps
    return ids


def skip_pieces(token):
    return None if token.startswith("##") else token


def torchtext_recipe(path, ids):
    """torchtext.vocab.Vectors' reading (every line into itos/stoi + a matrix), then
    get_vecs_by_tokens over the id-ordered tokens (zeros for missing)."""
    itos, rows = [], []
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            word, *values = line.rstrip().split(" ")
            itos.append(word)
            rows.append(np.asarray(values, dtype=np.float32))
    matrix = np.stack(rows)
    stoi = {}
    for i, word in enumerate(itos):
        stoi.setdefault(word, i)
    out = np.zeros((max(ids.values()) + 1, matrix.shape[1]), dtype=np.float32)
    for token, row in ids.items():
        word = skip_pieces(token)
        if word is not None and word in stoi:
            out[row] = matrix[stoi[word]]
    return out


def gensim_recipe(path, ids):
    from gensim.models import KeyedVectors

    kv = KeyedVectors.load_word2vec_format(path, no_header=True)
    out = np.zeros((max(ids.values()) + 1, kv.vector_size), dtype=np.float32)
    for token, row in ids.items():
        word = skip_pieces(token)
        if word is not None and word in kv.key_to_index:
            out[row] = kv[word]
    return out


def best(fn, repeat):
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return min(times), result


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--words", type=int, default=400_000)
    parser.add_argument("--dim", type=int, default=100)
    parser.add_argument("--vocab", type=int, default=30_000)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--skip", action="append", default=[], choices=("gensim", "torchtext"))
    args = parser.parse_args()
    from tokenizers import Tokenizer, models

    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, f"glove.{args.words}.{args.dim}d.txt")
        words = make_glove_like(path, args.words, args.dim)
        ids = hf_vocabulary(words, args.vocab)
        tok = Tokenizer(models.WordPiece(vocab=ids, unk_token="[UNK]"))
        tok_json = os.path.join(tmp, "tokenizer.json")
        tok.save(tok_json)
        with open(path, "rb") as fh:    # into the page cache
            while fh.read(1 << 24):
                pass
        size = os.path.getsize(path)
        print(f"file: {args.words} x {args.dim} ({size / 1e6:.0f} MB); vocabulary: {len(ids)} "
              f"tokens, ids 0..{max(ids.values())}; best of {args.repeat}")
        results = {}
        seconds, aligned = best(lambda: embload.load_aligned(path, tok_json, lookup=skip_pieces,
                                                             progress=False), args.repeat)
        results["embload.load_aligned(tokenizer.json)"] = (seconds, aligned.matrix)
        reference = aligned.matrix
        seconds, aligned = best(lambda: embload.load_aligned(path, tok, lookup=skip_pieces,
                                                             progress=False), args.repeat)
        results["embload.load_aligned(Tokenizer object)"] = (seconds, aligned.matrix)
        if "torchtext" not in args.skip:
            results["torchtext recipe (parse all, get_vecs_by_tokens)"] = best(
                lambda: torchtext_recipe(path, ids), args.repeat)
        if "gensim" not in args.skip:
            results["gensim load_word2vec_format + loop"] = best(
                lambda: gensim_recipe(path, ids), args.repeat)
        base = results["embload.load_aligned(tokenizer.json)"][0]
        print(f"{'method':<52} {'seconds':>8} {'x embload':>10}")
        for name, (seconds, matrix) in results.items():
            same = matrix.shape == reference.shape and np.array_equal(matrix, reference)
            print(f"{name:<52} {seconds:8.2f} {seconds / base:10.1f}"
                  + ("" if same else "   MATRIX DIFFERS"))
        print(f"coverage {aligned.coverage:.1%}, padding_idx {aligned.padding_idx}")


if __name__ == "__main__":
    main()
