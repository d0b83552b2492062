"""Exhaustive check of the float32 formatter (embload/src/floatformat.h).

For every non-negative float32 bit pattern (2^31 of them; or every STEP-th one),
and every 64th negative one, a small C program compiled from this script against
the project's header checks (negatives: also that the text is "-" followed by the
text of the magnitude, which el_format_float32 does by construction, so the
positive half covers the digits of all 2^32):

1. round trip: the text reads back to the same bits through decimal -> double ->
   float, as np.float32(float(text)) does. Decided in long double when the value
   is clearly inside or outside the rounding interval (1% margin, errors below
   2^-61), else by an exact parse (our parser, or glibc's strtod with
   USE_STRTOD=1 / for tokens it does not take whole);
2. shortest: with n digits written, no decimal of n-1 significant digits reads
   back to the value (the floor and ceiling of the value at that precision are
   the only candidates, and both are tried);
3. closest (every 64th value): when glibc's correctly rounded decimal with as
   many digits reads back, it is exactly what we wrote;
   (a shorter text that reads back only because float() rounds to a double
   first - never to x when rounded once - is counted apart, as information);
4. on every 4096th value, also against the brief's reference: the smallest p
   with "%.{p}g" reading back is never shorter than what we wrote.

NaNs are skipped (written as "nan"). Takes minutes on 2 cores:

    python scripts/check_float32_format.py            # all 2^32
    python scripts/check_float32_format.py --step 997 # a quick sample

--compare-exact checks something else, in about half a minute for all 2^32 patterns:
that the fast path of el_format_float32 (el__format_float32_fast, the usual
1e-4 <= |x| < 1e6) writes exactly the bytes of the general algorithm
(el__format_float32_exact) for every value it takes, whatever decimal-places hint
it starts from (a hint scrambled from the bits, and the hint chained from the
previous value as the writer passes it). With that, the checks above on the general
algorithm hold for the fast path too.

    python scripts/check_float32_format.py --compare-exact
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
#include <math.h>
#include <omp.h>
#define CHUNK (UINT64_C(1) << 27)
#ifndef USE_STRTOD
#define USE_STRTOD 0
#endif

/* Powers of ten as long doubles, correctly rounded by glibc's strtold (64-bit
 * mantissa): a decimal D * 10^k with D < 2^34 is then known to a relative error
 * below 2^-61, far inside the margin used below. */
static long double P10[700];
#define P10_BIAS 350

/* Exact reader: our parser when it takes the token whole (it is exact:
 * tests/test_conversions.py checks it against Python's float()), glibc's strtod
 * otherwise or with USE_STRTOD=1; then rounded to float as np.float32(float(s)) does. */
static int reads_back_exact(const char *s, uint32_t want) {
    double d;
    float f;
    uint32_t got;
    const char *end = el_parse_double(s, s + strlen(s), &d);
    if (USE_STRTOD || end == NULL || *end != ' ') d = strtod(s, NULL);
    f = (float)d;
    memcpy(&got, &f, 4);
    return got == want;
}

/* Does D * 10^k read back to x (bits want, finite, non-zero)? Decided in long
 * double when the value is clearly inside or clearly outside the rounding
 * interval of x (margin: 1% of the distance to the midpoint, ~2^-32 relative,
 * versus a long double error below 2^-61; double rounding cannot move a value
 * across that margin either); the exact reader decides the rest. */
static int reads_back(const char *s, uint64_t D, int k, uint32_t want) {
    float ax, lo, hi;
    uint32_t a = want & 0x7fffffffu, t;
    long double v, dx, down, up;
    if (k + P10_BIAS < 0 || k + P10_BIAS >= 700) return reads_back_exact(s, want);
    /* magnitudes only: the caller checks the sign */
    memcpy(&ax, &a, 4);
    t = a - 1; memcpy(&lo, &t, 4);
    t = a + 1; memcpy(&hi, &t, 4);
    v = (long double)D * P10[k + P10_BIAS];
    dx = v - (long double)ax;
    down = ((long double)ax - (long double)lo) / 2;   /* exact */
    up = ((long double)hi - (long double)ax) / 2;
    if (isinf(hi)) up = down * 2;                     /* the top float32: midpoint to 2^128 */
    if (dx > -0.99L * down && dx < 0.99L * up) return 1;
    if (dx < -1.01L * down || dx > 1.01L * up) return 0;
    return reads_back_exact(s, want);
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
    long long closest_checked = 0, bad_close = 0, bad_sign = 0, dr_shorter = 0;
    uint64_t chunk, chunk_stop = 0;
    long long i;
    for (i = 0; i < 700; i++) {
        char t[32];
        snprintf(t, sizeof t, "1e%d", (int)i - P10_BIAS);
        P10[i] = strtold(t, NULL);
    }
    for (chunk = start; chunk < stop; chunk += CHUNK) {
    uint64_t chunk_stop = chunk + CHUNK < stop ? chunk + CHUNK : stop;
    #pragma omp parallel for schedule(dynamic, 65536) reduction(+:checked,bad_trip,bad_short,bad_printf,printf_checked,closest_checked,bad_close,bad_sign,dr_shorter)
    for (i = (long long)chunk; i < (long long)chunk_stop; i += (long long)step) {
        uint32_t b = (uint32_t)i;
        float x;
        if ((b >> 31) && (b & 63)) continue;   /* negatives: every 64th (see the sign check) */
        char s[EL_FORMAT_MAX + 40];
        int n, k, nd = 0, exp10 = 0;
        uint64_t digits = 0;
        if ((b & 0x7f800000u) == 0x7f800000u && (b & 0x7fffffu)) continue;   /* NaN */
        memcpy(&x, &b, 4);
        n = el_format_float32(x, s);
        memset(s + n, ' ', 30);
        s[n + 30] = 0;
        checked++;
        if ((b & 0x7f800000u) == 0x7f800000u || (b & 0x7fffffffu) == 0) {
            if (!reads_back_exact(s, b)) {   /* zeros and infinities */
                bad_trip++;
                if (bad_trip < 5) printf("ROUND TRIP %08x %.9g -> %.*s\n", b, (double)x, n, s);
            }
            continue;
        }
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
        if (b >> 31) {
            /* a negative value must be "-" and the text of its magnitude */
            char s2[EL_FORMAT_MAX + 1];
            float ax = -x;
            int n2 = el_format_float32(ax, s2);
            if (n != n2 + 1 || s[0] != '-' || memcmp(s + 1, s2, (size_t)n2) != 0) {
                bad_sign++;
                if (bad_sign < 5) printf("SIGN %08x %.*s vs %.*s\n", b, n, s, n2, s2);
            }
        }
        if ((s[0] == '-') != (x < 0) || !reads_back(s, digits, exp10, b)) {
            bad_trip++;
            if (bad_trip < 5) printf("ROUND TRIP %08x %.9g -> %.*s\n", b, (double)x, n, s);
            continue;
        }
        if (nd >= 2) {
            uint64_t base = digits / 10;
            for (k = -1; k <= 1; k++) {
                char t[96];
                uint64_t cand = base + (uint64_t)(int64_t)k;
                if ((int64_t)base + k <= 0) continue;
                write_sci(t, cand, exp10 + 1);
                if (reads_back(t, cand, exp10 + 1, b)) {
                    /* shorter and reads back: a failure, unless only the double rounding of
                     * float() brings it to x (rounded once, by strtof, it is another float) */
                    float once = strtof(t, NULL);
                    uint32_t ob;
                    memcpy(&ob, &once, 4);
                    if (ob == b) {
                        bad_short++;
                        if (bad_short < 5) printf("NOT SHORTEST %08x wrote %.*s but %s reads back\n", b, n, s, t);
                    } else {
                        dr_shorter++;
                        if (dr_shorter < 5) printf("info: %08x %.*s; %s reads back only through double rounding\n", b, n, s, t);
                    }
                    break;
                }
            }
        }
        if ((b & 0x3f) == 0) {
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
            if (reads_back(t, rd, re10, b) && (rd != digits || re10 != exp10)) {
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
                if (reads_back_exact(t, b)) break;
            }
            if (p < nd) {
                bad_printf++;
                if (bad_printf < 5) printf("PRINTF SHORTER %08x %.*s (%d digits) vs %%.%dg\n", b, n, s, nd, p);
            }
        }
    }
    printf("bit patterns up to %08llx: %lld checked, %lld failures so far\n",
           (unsigned long long)(chunk_stop - 1), checked, bad_trip + bad_short + bad_close + bad_printf + bad_sign);
    fflush(stdout);
    }
    printf("sign symmetry failures: %lld; values with a shorter text that reads back only through "
           "double rounding (not counted as failures): %lld\n", bad_sign, dr_shorter);
    printf("checked %lld values: %lld round-trip failures, %lld not shortest; "
           "closest-digits check on %lld values: %lld failures; "
           "%%.{p}g comparison on %lld values: %lld where printf was shorter\n",
           checked, bad_trip, bad_short, closest_checked, bad_close, printf_checked, bad_printf);
    return (bad_trip || bad_short || bad_printf || bad_close || bad_sign) ? 1 : 0;
}
"""

COMPARE_SOURCE = r"""
#include "floatformat.h"
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv) {
    uint64_t step = strtoull(argv[1], NULL, 10);
    long long taken = 0, bad = 0, i;
    #pragma omp parallel for schedule(dynamic, 1) reduction(+:taken,bad)
    for (i = 0; i < 4096; i++) {
        char a[EL_FORMAT_MAX + 16], c[EL_FORMAT_MAX + 16], z[EL_FORMAT_MAX + 16];
        int chained = 0;
        uint64_t lo;
        /* every step-th pattern of the whole range: (i << 20) + lo divisible by step */
        for (lo = (step - ((uint64_t)i << 20) % step) % step; lo < (1u << 20); lo += step) {
            uint32_t b = (uint32_t)(((uint64_t)i << 20) | lo);
            float x;
            int scrambled = (int)((b * 2654435761u) >> 28) - 2;   /* -2 .. 13 */
            int n1, n2, n3;
            memcpy(&x, &b, 4);
            if (x != x) continue;
            n1 = el__format_float32_fast(b, a, &scrambled);
            n3 = el__format_float32_fast(b, z, &chained);
            if (!n1 && !n3) continue;
            taken++;
            n2 = el__format_float32_exact(x, c);
            if ((n1 && (n1 != n2 || memcmp(a, c, (size_t)n1))) || (n3 && (n3 != n2 || memcmp(z, c, (size_t)n3)))) {
                if (bad < 5) {
                    #pragma omp critical
                    printf("MISMATCH %08x: fast %.*s / %.*s, exact %.*s\n", b, n1, a, n3, z, n2, c);
                }
                bad++;
            }
        }
    }
    printf("fast path took %lld values; %lld differ from the general algorithm\n", taken, bad);
    return bad ? 1 : 0;
}
"""


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--step", type=int, default=1, help="check every STEP-th bit pattern (default 1: all)")
    ap.add_argument("--threads", type=int, default=None, help="OpenMP threads (default: all cores)")
    ap.add_argument("--compare-exact", action="store_true",
                    help="check instead that the fast path writes the general algorithm's bytes (~30 s)")
    args = ap.parse_args()
    if args.step < 1:
        ap.error("--step must be at least 1")
    with tempfile.TemporaryDirectory() as tmp:
        src = os.path.join(tmp, "check.c")
        exe = os.path.join(tmp, "check")
        with open(src, "w") as f:
            f.write(COMPARE_SOURCE if args.compare_exact else C_SOURCE)
        subprocess.run(["gcc", "-O2", "-std=gnu99", "-fno-fast-math", "-fopenmp", "-I", SRC_DIR, src, "-o", exe, "-lm"], check=True)
        env = dict(os.environ)
        if args.threads:
            env["OMP_NUM_THREADS"] = str(args.threads)
        t0 = time.perf_counter()
        result = subprocess.run([exe, str(args.step)], env=env)
        print(f"{time.perf_counter() - t0:.1f} s", flush=True)
    sys.exit(result.returncode)


if __name__ == "__main__":
    main()
