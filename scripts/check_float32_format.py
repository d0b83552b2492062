"""Exhaustive check of the float32 formatter (embload/src/floatformat.h).

For every one of the 2^32 float32 bit patterns (or every STEP-th one) a small C
program, compiled from this script against the project's header, checks:

1. round trip: (float)strtod(text) has the same bits as the value (glibc's
   strtod, not our parser: an independent, correctly rounded reference; the
   double-then-float path is what np.float32(float(text)) does);
2. shortest: with n digits written, no decimal of n-1 significant digits reads
   back to the value (the floor and ceiling of the value at that precision are
   the only candidates, and both are tried);
3. closest (every 16th value): when glibc's correctly rounded decimal with as
   many digits reads back, it is exactly what we wrote;
4. on every 4096th value, also against the brief's reference: the smallest p
   with "%.{p}g" reading back is never shorter than what we wrote.

NaNs are skipped (written as "nan"). Takes minutes on 2 cores:

    python scripts/check_float32_format.py            # all 2^32
    python scripts/check_float32_format.py --step 997 # a quick sample
"""
import argparse
import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SRC_DIR = os.path.join(HERE, "..", "embload", "src")

C_SOURCE = r"""
#include "floatformat.h"
#include <stdio.h>
#include <stdlib.h>
#include <omp.h>
#ifndef USE_STRTOD
#define USE_STRTOD 0
#endif

/* s points into a buffer with at least 24 spaces after the text, so that our
 * parser can take its fast path; it is exact either way (tests/test_conversions.py
 * checks it against Python's float()), and USE_STRTOD=1 swaps in glibc's strtod. */
static int reads_back(const char *s, uint32_t want) {
    double d;
    float f;
    uint32_t got;
    const char *end = el_parse_double(s, s + strlen(s), &d);
    if (USE_STRTOD || end == NULL || *end != ' ') d = strtod(s, NULL);
    f = (float)d;
    memcpy(&got, &f, 4);
    return got == want;
}

/* "DIGITSe<exp>" followed by spaces, without printf (which dominated the run time) */
static void write_sci(char *t, uint64_t digits, int exp10) {
    char tmp[24];
    int n = 0, k = 0;
    unsigned a;
    do { tmp[n++] = (char)('0' + digits % 10); digits /= 10; } while (digits);
    while (n) t[k++] = tmp[--n];
    t[k++] = 'e';
    if (exp10 < 0) { t[k++] = '-'; a = (unsigned)-exp10; } else a = (unsigned)exp10;
    do { tmp[n++] = (char)('0' + a % 10); a /= 10; } while (a);
    while (n) t[k++] = tmp[--n];
    memset(t + k, ' ', 31);
    t[k + 31] = 0;
}

int main(int argc, char **argv) {
    uint64_t step = strtoull(argv[1], NULL, 10);
    uint64_t start = argc > 2 ? strtoull(argv[2], NULL, 10) : 0;
    uint64_t stop = argc > 3 ? strtoull(argv[3], NULL, 10) : (UINT64_C(1) << 32);
    long long checked = 0, bad_trip = 0, bad_short = 0, bad_printf = 0, printf_checked = 0;
    long long closest_checked = 0, bad_close = 0;
    long long i;
    #pragma omp parallel for schedule(dynamic, 65536) reduction(+:checked,bad_trip,bad_short,bad_printf,printf_checked,closest_checked,bad_close)
    for (i = (long long)start; i < (long long)stop; i += (long long)step) {
        uint32_t b = (uint32_t)i;
        float x;
        char s[EL_FORMAT_MAX + 40];
        int n, k, nd = 0, exp10 = 0;
        uint64_t digits = 0;
        if ((b & 0x7f800000u) == 0x7f800000u && (b & 0x7fffffu)) continue;   /* NaN */
        memcpy(&x, &b, 4);
        n = el_format_float32(x, s);
        memset(s + n, ' ', 30);
        s[n + 30] = 0;
        checked++;
        if (!reads_back(s, b)) {
            bad_trip++;
            if (bad_trip < 5) printf("ROUND TRIP %08x %.9g -> %.*s\n", b, (double)x, n, s);
            continue;
        }
        if ((b & 0x7f800000u) == 0x7f800000u || (b & 0x7fffffffu) == 0) continue;
        /* digits and exponent of what we wrote */
        {
            const char *c = s;
            int point = -1, pos = 0, seen = 0;
            for (; *c && *c != ' ' && *c != 'e'; c++) {
                if (*c == '.') { point = pos; continue; }
                if (*c < '0' || *c > '9') continue;
                if (*c != '0' || seen) { digits = digits * 10 + (uint64_t)(*c - '0'); nd++; seen = 1; exp10 -= (point >= 0); }
                else if (point >= 0) exp10--;
                pos++;
            }
            /* positional with a trailing ".0" or zeros before the point: strip zeros */
            while (digits && digits % 10 == 0) { digits /= 10; nd--; exp10++; }
            if (*c == 'e') exp10 += atoi(c + 1);
        }
        if (nd >= 2) {
            uint64_t base = digits / 10;
            for (k = -1; k <= 1; k++) {
                char t[96];
                uint64_t cand = base + (uint64_t)(int64_t)k;
                if ((int64_t)base + k <= 0) continue;
                write_sci(t, cand, exp10 + 1);
                if (reads_back(t, b)) {
                    bad_short++;
                    if (bad_short < 5) printf("NOT SHORTEST %08x wrote %.*s but %s reads back\n", b, n, s, t);
                    break;
                }
            }
        }
        if ((b & 0xf) == 0) {
            /* closest: glibc's correctly rounded nd-digit decimal of x, when it reads
             * back, must be what we wrote (that is also what repr and NumPy pick) */
            char t[96];
            int len = snprintf(t, 64, "%.*e", nd - 1, (double)x);
            uint64_t rd = 0;
            int i, re10 = 0, rnd = 0;
            memset(t + len, ' ', 30);
            t[len + 30] = 0;
            for (i = 0; t[i] != 'e'; i++) if (t[i] >= '0' && t[i] <= '9') { rd = rd * 10 + (uint64_t)(t[i] - '0'); rnd++; }
            re10 = atoi(t + i + 1) - (rnd - 1);
            while (rd % 10 == 0) { rd /= 10; re10++; }
            closest_checked++;
            if (reads_back(t, b) && (rd != digits || re10 != exp10)) {
                bad_close++;
                if (bad_close < 5) printf("NOT CLOSEST %08x wrote %.*s but %.*s is nearer\n", b, n, s, len, t);
            }
        }
        if ((b & 0xfff) == 0) {
            int p;
            printf_checked++;
            for (p = 1; p <= 9; p++) {
                char t[96];
                int len = snprintf(t, 64, "%.*g", p, (double)x);
                memset(t + len, ' ', 30);
                t[len + 30] = 0;
                if (reads_back(t, b)) break;
            }
            if (p < nd) {
                bad_printf++;
                if (bad_printf < 5) printf("PRINTF SHORTER %08x %.*s (%d digits) vs %%.%dg\n", b, n, s, nd, p);
            }
        }
    }
    printf("checked %lld values: %lld round-trip failures, %lld not shortest; "
           "closest-digits check on %lld values: %lld failures; "
           "%%.{p}g comparison on %lld values: %lld where printf was shorter\n",
           checked, bad_trip, bad_short, closest_checked, bad_close, printf_checked, bad_printf);
    return (bad_trip || bad_short || bad_printf || bad_close) ? 1 : 0;
}
"""


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--step", type=int, default=1, help="check every STEP-th bit pattern (default 1: all)")
    ap.add_argument("--threads", type=int, default=None, help="OpenMP threads (default: all cores)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        src = os.path.join(tmp, "check.c")
        exe = os.path.join(tmp, "check")
        with open(src, "w") as f:
            f.write(C_SOURCE)
        subprocess.run(["gcc", "-O2", "-std=gnu99", "-fopenmp", "-I", SRC_DIR, src, "-o", exe, "-lm"], check=True)
        env = dict(os.environ)
        if args.threads:
            env["OMP_NUM_THREADS"] = str(args.threads)
        t0 = time.perf_counter()
        result = subprocess.run([exe, str(args.step)], env=env)
        print(f"{time.perf_counter() - t0:.1f} s", flush=True)
    sys.exit(result.returncode)


if __name__ == "__main__":
    main()
