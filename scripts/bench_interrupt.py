"""Benchmark: how soon an interrupted write is cleaned up, and what feeding compressors in
pieces costs, in the same run.

A SIGTERM's handler runs in the main thread between two bytecodes, so a long call into
C (compressing a whole 16 MB part at once) delays the cleanup. ``writers`` hands data to
the compressors in ``COMPRESS_PIECE`` bytes; this script compares that with one call per
part (the former behaviour, set through the child's environment):

1. latency: ``embload convert`` (a child process) writing .vec/.gz/.bz2/.xz is sent
   SIGTERM half way through; seconds from the signal to the exit, and whether a
   temporary was left;
2. cost: ``embload.save`` to .gz/.bz2/.xz with pieces and with one call per part,
   alternated, best of --repeat, in this process; CPU seconds of the process (all
   threads), which a shared machine's load disturbs far less than wall time.

    python scripts/bench_interrupt.py --dir /dev/shm   # 100,000 x 100 source
    python scripts/bench_interrupt.py --rows 50000 --repeat 3
"""
import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

import embload  # noqa: E402
from embload import write  # noqa: E402

CHILD = r"""
import os, sys
from embload import write
piece = int(os.environ["BENCH_COMPRESS_PIECE"])
if piece:
    write.COMPRESS_PIECE = piece
def report(done, total):
    sys.stdout.write(f"{done} {total}\n"); sys.stdout.flush()
write._after_block = report
from embload.cli import main
sys.exit(main(sys.argv[1:]))
"""

ONE_CALL = 1 << 40   # larger than any part: each part in one call


def latency(src, folder, name, limit, piece):
    """Send SIGTERM once half the rows are written; (seconds to exit, exit code, leftovers)."""
    dst = os.path.join(folder, name)
    env = dict(os.environ, BENCH_COMPRESS_PIECE=str(piece),
               PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.Popen([sys.executable, "-c", CHILD, "convert", src, dst, "--limit", str(limit),
                             "--no-progress"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                            text=True, env=env)
    sent = None
    for line in proc.stdout:
        done, total = map(int, line.split())
        if 2 * done >= total:
            sent = time.perf_counter()
            proc.send_signal(signal.SIGTERM)
            break
    code = proc.wait()
    waited = time.perf_counter() - sent if sent else float("nan")
    left = [n for n in os.listdir(folder) if n.startswith(".")]
    for n in os.listdir(folder):
        path = os.path.join(folder, n)
        shutil.rmtree(path) if os.path.isdir(path) else os.unlink(path)
    return waited, code, left


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--dim", type=int, default=100)
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--dir", default=None, help="where to write (default: a temporary folder)")
    args = ap.parse_args()
    base = tempfile.mkdtemp(prefix="bench_interrupt_", dir=args.dir)
    try:
        rng = np.random.default_rng(0)
        matrix = rng.standard_normal((args.rows, args.dim)).astype(np.float32)
        words = [f"w{i}" for i in range(args.rows)]
        src = os.path.join(base, "src.embload")
        embload.save((words, matrix), src, progress=False)
        out = os.path.join(base, "out")
        os.mkdir(out)
        # rows per kind: a few seconds of writing on an idle core
        kinds = [("v.vec", args.rows), ("v.vec.gz", args.rows // 4), ("v.vec.bz2", args.rows // 8),
                 ("v.vec.xz", args.rows // 16)]
        print(f"SIGTERM half way through `embload convert` ({args.rows} x {args.dim} source); "
              "seconds from the signal to the exit")
        print(f"{'output':<12} {'rows':>8} {'pieces':>10} {'one call/part':>14} {'ratio':>7}  exit, temporaries left")
        for name, limit in kinds:
            a = latency(src, out, name, limit, 0)
            b = latency(src, out, name, limit, ONE_CALL)
            print(f"{name:<12} {limit:>8} {a[0]:>9.3f}s {b[0]:>13.3f}s {b[0] / a[0]:>6.1f}x  "
                  f"{a[1]}/{b[1]}, {len(a[2])}/{len(b[2])}")
        print(f"\nembload.save, CPU seconds, best of {args.repeat}: pieces of {write.COMPRESS_PIECE} "
              "bytes against one call per part")
        print(f"{'output':<12} {'rows':>8} {'pieces':>10} {'one call/part':>14} {'ratio':>7}")
        default = write.COMPRESS_PIECE
        for name, limit in kinds[1:]:
            target = os.path.join(out, name)
            times = {default: float("inf"), ONE_CALL: float("inf")}
            for _ in range(args.repeat):   # alternated, so that a machine's drift hits both alike
                for piece in times:
                    write.COMPRESS_PIECE = piece
                    t = time.process_time()
                    embload.save((words[:limit], matrix[:limit]), target, progress=False)
                    times[piece] = min(times[piece], time.process_time() - t)
            times = list(times.values())
            write.COMPRESS_PIECE = default
            print(f"{name:<12} {limit:>8} {times[0]:>9.3f}s {times[1]:>13.3f}s {times[0] / times[1]:>6.2f}x")
    finally:
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
