#!/usr/bin/env python
"""Text vectors (GloVe, word2vec text, fastText .vec; compressed or not) -> word2vec C binary.

    python scripts/text_to_binary.py crawl-300d-2M.vec crawl-300d-2M.bin [--limit N] [--dtype float16]

The same as ``embload convert SRC DST --to word2vec-binary``. The binary file is about a
third of the text's size and loads many times faster, with gensim too
(``KeyedVectors.load_word2vec_format(path, binary=True)``).
Exit status: 0 done, 1 bad input, 2 usage error.
"""
import sys

from embload.cli import main

if __name__ == "__main__":
    if len(sys.argv) < 3 or sys.argv[1].startswith("-"):
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    sys.exit(main(["convert", sys.argv[1], sys.argv[2], "--to", "word2vec-binary", *sys.argv[3:]]))
