"""Micro-benchmark of the float parser (embload/src/floatparse.h), before vs after.

Compiles scripts/bench_floatparse.c twice with the flags setup.py uses (gcc -O3
-fno-strict-aliasing; gnu99 instead of c99 for the harness's POSIX clock): once
against the header as it is in git at
--before (default: the commit before the Eisel-Lemire work), once against the
working tree; runs both in the same session, alternating, and prints ns/token
per token family and the ratio.

    python scripts/bench_floatparse.py                  # timing, 2M tokens per family
    python scripts/bench_floatparse.py --check 50000000 # + bulk exactness vs strtod
    python scripts/bench_floatparse.py --tokens 0 --sanitize 2000000  # ASan/UBSan build

--check N parses N random tokens of many shapes (embedding-like, 1-25 digits with
exponents -350..350 and underscores, float32 and double halfway points written
with 9-60 digits, subnormals, overflow, long mantissas, zeros with huge
exponents) with the working-tree header and compares every double bit for bit
with glibc's strtod (correctly rounded; float32 readers store (float) of that
double), split over the cores; each token three times: with 40 bytes after it, ending the buffer, and
with 0-31 bytes after it in a heap block of exactly that size. Exits non-zero on
any mismatch.
"""
import argparse
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
SRC = os.path.join(ROOT, "embload", "src")
CFLAGS = ["-O3", "-std=gnu99", "-fno-strict-aliasing"]


def build(include_dir, exe):
    cmd = ["gcc", *CFLAGS, "-I", include_dir, os.path.join(HERE, "bench_floatparse.c"),
           "-o", exe, "-lm"]
    subprocess.run(cmd, check=True)


def extract_numbers(src, dst, lines):
    """The numbers of the first `lines` lines of a text vectors file (words dropped)."""
    with open(src, "rb") as f, open(dst, "wb") as out:
        for i, line in enumerate(f):
            if i >= lines:
                break
            parts = line.split()
            if len(parts) > 2:
                out.write(b" ".join(parts[1:]) + b"\n")


def run_bench_file(exe, path, reps):
    out = subprocess.run([exe, "file", path, str(reps)], check=True, capture_output=True, text=True).stdout
    return {tuple(line.split()[:2]): float(line.split()[2]) for line in out.splitlines()}


def run_bench(exe, n, seed, reps):
    out = subprocess.run([exe, "bench", str(n), str(seed), str(reps)], check=True,
                         capture_output=True, text=True).stdout
    res = {}
    for line in out.splitlines():
        fam, kind, val = line.split()
        res[(fam, kind)] = float(val)
    return res


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--before", default="42c8bf9", help="git revision of the baseline header")
    ap.add_argument("--tokens", type=int, default=2_000_000, help="tokens per family")
    ap.add_argument("--rounds", type=int, default=3, help="alternating runs of each build (best counts)")
    ap.add_argument("--check", type=int, default=0, help="also check N random tokens against strtod")
    ap.add_argument("--sanitize", type=int, default=0,
                    help="also check N tokens with a -fsanitize=address,undefined build "
                         "(tokens in heap blocks of exact size: any read past `last` aborts)")
    ap.add_argument("--file", default=os.path.join(ROOT, "bench_data", "glove_400000x100.txt"),
                    help="also time the numbers of this text vectors file (if it exists)")
    ap.add_argument("--file-lines", type=int, default=100_000)
    ap.add_argument("--seed", type=int, default=12345)
    args = ap.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        old_dir = os.path.join(tmp, "before")
        os.mkdir(old_dir)
        for name in ("floatparse.h", "pow5table.h"):
            r = subprocess.run(["git", "-C", ROOT, "show", f"{args.before}:embload/src/{name}"],
                               capture_output=True)
            if r.returncode == 0:
                with open(os.path.join(old_dir, name), "wb") as f:
                    f.write(r.stdout)
        exe_old = os.path.join(tmp, "bench_before")
        exe_new = os.path.join(tmp, "bench_after")
        build(old_dir, exe_old)
        build(SRC, exe_new)

        if args.tokens:
            best = {}
            for rnd in range(args.rounds):
                for tag, exe in (("before", exe_old), ("after", exe_new)):
                    for key, v in run_bench(exe, args.tokens, args.seed, 3).items():
                        k = (tag,) + key
                        best[k] = min(best.get(k, v), v)
            if args.file and os.path.exists(args.file):
                nums = os.path.join(tmp, "numbers.txt")
                extract_numbers(args.file, nums, args.file_lines)
                for rnd in range(args.rounds):
                    for tag, exe in (("before", exe_old), ("after", exe_new)):
                        for key, v in run_bench_file(exe, nums, 3).items():
                            k = (tag,) + key
                            best[k] = min(best.get(k, v), v)
            print(f"ns/token, best of {args.rounds}x3 runs, {args.tokens:,} tokens per family "
                  f"(gcc {' '.join(CFLAGS)}; before = {args.before})")
            print(f"{'family':<10} {'bytes/tok':>9} {'path':<22} {'before':>8} {'after':>8} {'speedup':>8}")
            if ("after", "file", "f32") in best:
                b, a = best[("before", "file", "f32")], best[("after", "file", "f32")]
                bpt = best[("after", "file", "bytes_per_token")]
                name = f"{os.path.basename(args.file)} (first {args.file_lines:,} lines)"
                print(f"{'file':<10} {bpt:>9.2f} {'double->float32':<22} {b:>8.2f} {a:>8.2f} {b / a:>7.2f}x   {name}")
            for fam in ("glove", "word2vec", "exponent"):
                bpt = best[("after", fam, "bytes_per_token")]
                rows = [("double->float32", "f32", "f32"), ("double", "f64", "f64"),
                        ("..., last = token end", "f32tail", "f32tail")]
                for label, kb, ka in rows:
                    b = best[("before", fam, kb)]
                    a = best[("after", fam, ka)]
                    print(f"{fam:<10} {bpt:>9.2f} {label:<22} {b:>8.2f} {a:>8.2f} {b / a:>7.2f}x")

        if args.sanitize:
            exe_san = os.path.join(tmp, "check_sanitized")
            subprocess.run(["gcc", "-O1", "-g", "-fsanitize=address,undefined",
                            "-fno-sanitize-recover=undefined", "-std=gnu99", "-fno-strict-aliasing",
                            "-I", SRC, os.path.join(HERE, "bench_floatparse.c"), "-o", exe_san, "-lm"],
                           check=True)
            r = subprocess.run([exe_san, "check", str(args.sanitize), str(args.seed + 99)])
            print(f"sanitized check of {args.sanitize:,} tokens: {'FAILED' if r.returncode else 'clean'}")
            if r.returncode:
                sys.exit(1)

        if args.check:
            ncpu = os.cpu_count() or 1
            per = -(-args.check // ncpu)
            procs = [subprocess.Popen([exe_new, "check", str(per), str(args.seed + 1000 * i + 1)],
                                      stdout=subprocess.PIPE, text=True) for i in range(ncpu)]
            failed = False
            total = 0
            for p in procs:
                out, _ = p.communicate()
                sys.stdout.write(out)
                failed |= p.returncode != 0
                total += per
            print(f"exactness: {total:,} random tokens checked against strtod: "
                  f"{'FAILED' if failed else 'all identical'}")
            if failed:
                sys.exit(1)


if __name__ == "__main__":
    main()
