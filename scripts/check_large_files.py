"""Check that files over 4 GiB and matrices over 2**31 values load exactly.

Unit tests cannot afford such files, so this script writes them, loads them with
embload, and compares every row (binary) or a sample of rows (text, checked with
Python's float()) against what was written. It needs free disk and memory of about
``--binary-rows * dim * 4`` bytes each (defaults: 8.1 GiB binary file, 4.6 GiB text file).

    python scripts/check_large_files.py                      # both checks, files in /tmp
    python scripts/check_large_files.py --only text --dir /data

Rows are made from a seeded generator in chunks, so the expected values are regenerated
chunk by chunk instead of being held in memory next to the loaded matrix.
"""

import argparse
import os
import random
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import embload  # noqa: E402

CHUNK = 100_000


def binary_chunks(rows, dim, seed):
    rng = np.random.default_rng(seed)
    for start in range(0, rows, CHUNK):
        n = min(CHUNK, rows - start)
        yield start, rng.standard_normal((n, dim), dtype=np.float32)


def word(i):
    return f"w{i}" if i % 7 else f"wörd{i}"


def check_binary(folder, rows, dim):
    path = os.path.join(folder, "large.bin")
    t = time.perf_counter()
    with open(path, "wb") as out:
        out.write(f"{rows} {dim}\n".encode())
        for start, block in binary_chunks(rows, dim, 1):
            out.write(b"".join(word(start + i).encode() + b" " + block[i].tobytes() + b"\n"
                               for i in range(block.shape[0])))
    size = os.path.getsize(path)
    print(f"binary: wrote {size / 2**30:.2f} GiB ({rows} x {dim} = {rows * dim / 2**31:.2f} * 2^31 values) "
          f"in {time.perf_counter() - t:.0f} s", flush=True)
    t = time.perf_counter()
    v = embload.load(path, progress=False)
    print(f"binary: loaded in {time.perf_counter() - t:.1f} s: {v}", flush=True)
    assert v.vectors.shape == (rows, dim), v.vectors.shape
    for start, block in binary_chunks(rows, dim, 1):
        got = v.vectors[start:start + block.shape[0]]
        if not np.array_equal(got.view(np.uint32), block.view(np.uint32)):
            bad = start + int(np.flatnonzero((got != block).any(axis=1))[0])
            raise AssertionError(f"binary: row {bad} differs")
    for i in (0, 1, rows // 2, rows - 1):
        assert v.words[i] == word(i) and v.index(word(i)) == i, i
    print("binary: every row bit-identical, words and lookups right", flush=True)
    del v
    os.unlink(path)


def check_text(folder, rows, dim):
    path = os.path.join(folder, "large.txt")
    t = time.perf_counter()
    with open(path, "wb") as out:
        for start, block in binary_chunks(rows, dim, 2):
            lines = [word(start + i) + " " + " ".join(f"{x:.6g}" for x in block[i].tolist())
                     for i in range(block.shape[0])]
            out.write(("\n".join(lines) + "\n").encode())
    size = os.path.getsize(path)
    print(f"text: wrote {size / 2**30:.2f} GiB ({rows} x {dim}) in {time.perf_counter() - t:.0f} s", flush=True)
    t = time.perf_counter()
    v = embload.load(path, progress=False)
    print(f"text: loaded in {time.perf_counter() - t:.1f} s ({size / (time.perf_counter() - t) / 1e6:.0f} MB/s): {v}",
          flush=True)
    assert v.vectors.shape == (rows, dim), v.vectors.shape
    # every row of the last 4 GiB boundary's neighbourhood and a random sample, by float()
    sample = sorted(set(random.Random(0).sample(range(rows), 2000)) | {0, rows - 1})
    wanted = set(sample)
    with open(path, "rb") as handle:
        for i, line in enumerate(handle):
            if i in wanted:
                fields = line.split()
                expect = np.array([float(x) for x in fields[1:]], dtype=np.float32)
                assert fields[0].decode() == v.words[i], i
                assert np.array_equal(v.vectors[i].view(np.uint32), expect.view(np.uint32)), i
    print(f"text: {len(sample)} sampled rows (spread over all {size / 2**30:.2f} GiB) equal float() of "
          f"their tokens", flush=True)
    del v
    os.unlink(path)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dir", default="/tmp")
    parser.add_argument("--only", choices=["binary", "text"])
    parser.add_argument("--dim", type=int, default=300)
    parser.add_argument("--binary-rows", type=int, default=7_200_000, help="7.2M x 300 > 2^31 values")
    parser.add_argument("--text-rows", type=int, default=1_800_000, help="1.8M x 300: a 4.6 GiB file")
    args = parser.parse_args()
    if args.only in (None, "binary"):
        check_binary(args.dir, args.binary_rows, args.dim)
    if args.only in (None, "text"):
        check_text(args.dir, args.text_rows, args.dim)


if __name__ == "__main__":
    main()
