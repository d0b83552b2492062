#!/usr/bin/env python
"""Any vectors file -> an embload cache folder that opens in milliseconds.

    python scripts/to_cache.py glove.840B.300d.zip [glove.840B.300d.embload] [--vocab FILE]

DST defaults to SRC + ".embload". Then ``embload.load("glove.840B.300d.embload")`` or
``embload.load_aligned("glove.840B.300d.embload", word_index)`` opens it memory-mapped.
The same as ``embload convert SRC DST --to embload``.
Exit status: 0 done, 1 bad input, 2 usage error.
"""
import sys

from embload.cli import main

if __name__ == "__main__":
    args = sys.argv[1:]
    if not args or args[0].startswith("-"):
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    src = args.pop(0)
    dst = args.pop(0) if args and not args[0].startswith("-") else src.rstrip("/") + ".embload"
    sys.exit(main(["convert", src, dst, "--to", "embload", *args]))
