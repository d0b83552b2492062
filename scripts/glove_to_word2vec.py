#!/usr/bin/env python
"""GloVe text (no header) -> word2vec text (with the "count dim" header), as fastText and gensim expect.

    python scripts/glove_to_word2vec.py glove.6B.100d.txt glove.6B.100d.w2v.txt [--limit N] [--vocab FILE]

The same as ``embload convert SRC DST --to word2vec``; a ``.gz``/``.bz2``/``.xz`` DST is compressed.
The values are written back exactly (the shortest decimal that reads back to the same float32).
Exit status: 0 done, 1 bad input, 2 usage error.
"""
import sys

from embload.cli import main

if __name__ == "__main__":
    if len(sys.argv) < 3 or sys.argv[1].startswith("-"):
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    sys.exit(main(["convert", sys.argv[1], sys.argv[2], "--to", "word2vec", *sys.argv[3:]]))
