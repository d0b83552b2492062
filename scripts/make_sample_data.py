#!/usr/bin/env python
"""Make the bundled sample data in ``data/`` from gensim's installed test data.

Sources (both ship inside the ``gensim`` package, under gensim/test/test_data):
  * ``pang_lee_polarity.cor``: 200 movie-review sentences labelled positive or
    negative (Pang & Lee's sentence polarity data, as gensim ships it in
    fastText's ``__label__`` form). -> ``data/polarity.tsv`` (label<TAB>text),
    in a fixed shuffled order: gensim's file lists all negative sentences first, so
    a Keras ``validation_split`` (the last 20%) would validate on one class only.
  * ``lee_background.cor`` + ``lee.cor``: about 350 news articles (the Lee
    corpus). Word2vec vectors (skip-gram, 50 dims) are trained on these news
    texts plus the polarity sentences without their labels, so that the
    "pretrained" vectors cover most, but not all, of the review vocabulary -
    the usual situation with real pretrained files.

The vectors are written by gensim itself (an independent writer) in every
format embload reads: GloVe text, word2vec text (fastText ``.vec`` style),
word2vec C binary, and compressed variants (gzip, bz2, xz, zip). ``data/README.md``
is written too, with the counts taken from what was written.

Run:  python scripts/make_sample_data.py  [--out data]
The result is deterministic (PYTHONHASHSEED is pinned, one worker thread).
"""
import argparse
import bz2
import random
import gzip
import lzma
import os
import shutil
import subprocess
import sys
import zipfile

DIM = 50
MIN_COUNT = 2
EPOCHS = 20
# the order of the labelled sentences (random.Random(SHUFFLE_SEED).shuffle)
SHUFFLE_SEED = 2024

README = """# Sample data

Made by `python scripts/make_sample_data.py` (deterministic; this file too) from test data
that the `gensim` package ships in `gensim/test/test_data/`:

| file | what |
|---|---|
| `polarity.tsv` | {sentences} movie-review sentences, `label<TAB>text`, {pos} `pos` and {neg} `neg`, in a fixed shuffled order (seed {seed}; the source lists all negative sentences first): Pang & Lee's sentence polarity data (Cornell movie review data) as gensim ships it (`pang_lee_polarity.cor`, Windows-1252, re-encoded to UTF-8). |
| `sample.glove.txt` | {words:,} words x {dim} dims, GloVe text (no header). |
| `sample.vec` | the same vectors, word2vec text with a `count dim` header (fastText `.vec` style). |
| `sample.bin` | the same vectors, word2vec C binary. |
| `sample.glove.txt.gz`, `sample.vec.bz2`, `sample.bin.xz`, `sample.glove.zip` | compressed copies. |

The vectors are skip-gram word2vec vectors trained by gensim ({dim} dims, min_count {min_count},
{epochs} epochs, one worker, fixed seeds) on the Lee news corpus (`lee_background.cor`,
`lee.cor`) plus the polarity sentences without labels, and written by gensim's own
`save_word2vec_format`. Words seen fewer than {min_count} times are left out, so the vectors
cover most but not all of the review vocabulary, as real pretrained files do; `embload demo`
shows the coverage and trains the missing rows.

The installed package carries `polarity.tsv`, `sample.vec` and this file as `embload/data/`
(the `embload.data` entry of `pyproject.toml` maps this folder there), so that `embload demo`
runs from any folder after `pip install`; this folder is the only copy in the source tree.
"""


def _reexec_with_fixed_hash_seed():
    # gensim seeds each word's initial vector from hash(word); str hashes are
    # randomised per process unless PYTHONHASHSEED is fixed.
    if os.environ.get("PYTHONHASHSEED") != "0":
        env = dict(os.environ, PYTHONHASHSEED="0")
        sys.exit(subprocess.call([sys.executable] + sys.argv, env=env))


def read_polarity(path):
    # The file is Windows-1252 (0x97 is an em dash), not UTF-8.
    rows = []
    with open(path, encoding="cp1252", errors="replace") as handle:
        for line in handle:
            label, _, text = line.strip().partition(" ")
            rows.append((label.replace("__label__", ""), text))
    return rows


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "..", "data"))
    args = parser.parse_args(argv)
    _reexec_with_fixed_hash_seed()

    from gensim.models import Word2Vec
    from gensim.test.utils import datapath

    # Tokenized as the demo's (Keras-default) Tokenizer does, so the vectors'
    # vocabulary matches it the way a real pipeline would want.
    from embload.text import text_to_word_sequence as keras_words

    out = os.path.abspath(args.out)
    os.makedirs(out, exist_ok=True)

    polarity = read_polarity(datapath("pang_lee_polarity.cor"))
    random.Random(SHUFFLE_SEED).shuffle(polarity)
    with open(os.path.join(out, "polarity.tsv"), "w", encoding="utf-8") as handle:
        for label, text in polarity:
            handle.write(f"{label}\t{text}\n")

    corpus = []
    for name in ("lee_background.cor", "lee.cor"):
        with open(datapath(name), encoding="utf-8", errors="replace") as handle:
            corpus.extend(keras_words(line) for line in handle)
    corpus.extend(keras_words(text) for _, text in polarity)

    model = Word2Vec(corpus, vector_size=DIM, window=5, min_count=MIN_COUNT, sg=1,
                     epochs=EPOCHS, seed=7, workers=1)
    kv = model.wv

    glove = os.path.join(out, "sample.glove.txt")
    vec = os.path.join(out, "sample.vec")
    binary = os.path.join(out, "sample.bin")
    kv.save_word2vec_format(glove, binary=False, write_header=False)
    kv.save_word2vec_format(vec, binary=False)
    kv.save_word2vec_format(binary, binary=True)

    with open(glove, "rb") as src, gzip.GzipFile(glove + ".gz", "wb", mtime=0) as dst:
        shutil.copyfileobj(src, dst)
    with open(vec, "rb") as src, bz2.open(vec + ".bz2", "wb") as dst:
        shutil.copyfileobj(src, dst)
    with open(binary, "rb") as src, lzma.open(binary + ".xz", "wb") as dst:
        shutil.copyfileobj(src, dst)
    with zipfile.ZipFile(os.path.join(out, "sample.glove.zip"), "w", zipfile.ZIP_DEFLATED) as zf:
        info = zipfile.ZipInfo("sample.glove.txt", date_time=(2020, 1, 1, 0, 0, 0))
        info.compress_type = zipfile.ZIP_DEFLATED
        with open(glove, "rb") as src:
            zf.writestr(info, src.read())
    positive = sum(label == "pos" for label, _ in polarity)
    with open(os.path.join(out, "README.md"), "w", encoding="utf-8") as handle:
        handle.write(README.format(sentences=len(polarity), pos=positive, neg=len(polarity) - positive,
                                   seed=SHUFFLE_SEED, words=len(kv), dim=DIM, min_count=MIN_COUNT,
                                   epochs=EPOCHS))
    print(f"wrote {len(kv)} words x {DIM} dims and {len(polarity)} labelled sentences to {out}")


if __name__ == "__main__":
    main()
