/* bench_floatparse.c - micro-benchmark and bulk exactness check of floatparse.h.
 *
 * Built by scripts/bench_floatparse.py against one version of the header
 * (-I <dir holding floatparse.h>), so that two versions can be timed in the
 * same run. Modes:
 *
 *   bench_floatparse bench N SEED   ns/token for GloVe-like, word2vec-like and
 *                                   exponent tokens, parsed from one buffer the
 *                                   way the text reader walks a line
 *   bench_floatparse file PATH      ns/token over the numbers in PATH (blank-
 *                                   separated; the runner extracts them from a
 *                                   real vectors file)
 *   bench_floatparse check N SEED   N random tokens of many shapes, each parsed
 *                                   three times (40 bytes after it: fast path;
 *                                   ending exactly at `last`: general parser;
 *                                   0-31 bytes after it in a heap block of
 *                                   exactly that size: both, and with
 *                                   -fsanitize=address any read past `last`
 *                                   is caught) and
 *                                   compared bit for bit with glibc's strtod
 *                                   (correctly rounded; underscores removed); the
 *                                   float32 the readers store is (float) of it.
 *
 * Prints one line per result; exits 1 on the first few mismatches.
 */
#include "floatparse.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static uint64_t rng_state;
static uint64_t rnd(void) { /* splitmix64 */
    uint64_t z = (rng_state += UINT64_C(0x9E3779B97F4A7C15));
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return z ^ (z >> 31);
}
static int rint_(int lo, int hi) { return lo + (int)(rnd() % (uint64_t)(hi - lo + 1)); }
static double runif(void) { return (double)(rnd() >> 11) * (1.0 / 9007199254740992.0); }
static double rnorm(void) { /* Box-Muller */
    double u = runif(), v = runif();
    if (u < 1e-300) u = 1e-300;
    return sqrt(-2 * log(u)) * cos(6.283185307179586 * v);
}

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* ---------------------------------------------------------------- bench -- */

enum { FAM_GLOVE, FAM_W2V, FAM_EXP, NFAM };
static const char *fam_name[NFAM] = {"glove", "word2vec", "exponent"};

/* One token of a family into buf (no separator); returns its length. */
static int bench_token(int fam, char *buf) {
    if (fam == FAM_GLOVE) {
        /* GloVe: %g-style, 4-9 significant digits, small values as d.dddde-05 */
        static const int sig[10] = {5, 5, 5, 5, 5, 6, 6, 6, 7, 8};
        double v = rnorm() * 0.4;
        return snprintf(buf, 64, "%.*g", sig[rnd() % 10], v);
    }
    if (fam == FAM_W2V) {
        /* word2vec / gensim text: float32 repr, 8-9 significant digits */
        double v = (double)(float)(rnorm() * 0.15);
        return snprintf(buf, 64, "%.*g", rint_(8, 9), v);
    }
    {
        /* exponent forms: 1-8 digits, exponents -30..30, some 'E' and '+' */
        double v = rnorm() * pow(10.0, rint_(-30, 30));
        int n = snprintf(buf, 64, "%.*e", rint_(0, 7), v);
        if (rnd() % 4 == 0) {
            char *e = strchr(buf, 'e');
            if (e) *e = 'E';
        }
        return n;
    }
}

static char *make_buffer(int fam, size_t n, size_t *len) {
    size_t cap = n * 24 + 64, k = 0, i;
    char *b = malloc(cap);
    for (i = 0; i < n; i++) {
        k += (size_t)bench_token(fam, b + k);
        b[k++] = (i % 100 == 99) ? '\n' : ' ';
    }
    *len = k;
    return b;
}

#define IS_SEP(c) ((c) == ' ' || (c) == '\t' || (c) == '\r' || (c) == '\v' || (c) == '\f' || (c) == '\n')

__attribute__((noinline)) static double bench_f32(const char *b, size_t len, float *out, size_t n) {
    const char *p = b, *end = b + len;
    size_t k = 0;
    double t = now();
    while (p < end) {
        double d;
        const char *q = el_parse_double(p, end, &d);
        if (q == NULL) { fprintf(stderr, "parse error\n"); exit(2); }
        out[k++] = (float)d;
        p = q;
        while (p < end && IS_SEP(*p)) p++;
    }
    t = now() - t;
    if (k != n) { fprintf(stderr, "count %zu != %zu\n", k, n); exit(2); }
    return t;
}

__attribute__((noinline)) static double bench_f64(const char *b, size_t len, double *out, size_t n) {
    const char *p = b, *end = b + len;
    size_t k = 0;
    double t = now();
    while (p < end) {
        const char *q = el_parse_double(p, end, &out[k]);
        if (q == NULL) { fprintf(stderr, "parse error\n"); exit(2); }
        k++;
        p = q;
        while (p < end && IS_SEP(*p)) p++;
    }
    t = now() - t;
    if (k != n) { fprintf(stderr, "count %zu != %zu\n", k, n); exit(2); }
    return t;
}

/* Each token with `last` at its own end, as for the last fields of a line
 * when the caller bounds the parse by the line (wordhash.h's el_parse_values).
 * The token ends are found before the clock starts. */
__attribute__((noinline)) static double bench_f32_tail(const char *b, size_t len, float *out, size_t n) {
    const char *p = b, *end = b + len;
    const char **ends = malloc(n * sizeof *ends);
    size_t k = 0;
    double t;
    while (p < end && k < n) {
        while (p < end && !IS_SEP(*p)) p++;
        ends[k++] = p;
        while (p < end && IS_SEP(*p)) p++;
    }
    p = b;
    k = 0;
    t = now();
    while (k < n) {
        double d;
        const char *e = ends[k];
        const char *q = el_parse_double(p, e, &d);
        if (q != e) { fprintf(stderr, "parse error\n"); exit(2); }
        out[k++] = (float)d;
        p = q + 1;
        while (p < end && IS_SEP(*p)) p++;
    }
    t = now() - t;
    free(ends);
    return t;
}

/* Tokens from a file of numbers separated by blanks and newlines (the runner
 * writes one from a real vectors file, words removed). */
static int run_bench_file(const char *path, int reps) {
    FILE *f = fopen(path, "rb");
    long len;
    char *b;
    size_t n = 0, i;
    int r;
    double best32 = 1e9, best64 = 1e9;
    float *o32;
    double *o64;
    if (!f) { perror(path); return 2; }
    fseek(f, 0, SEEK_END);
    len = ftell(f);
    fseek(f, 0, SEEK_SET);
    b = malloc((size_t)len + 1);
    if (fread(b, 1, (size_t)len, f) != (size_t)len) { perror(path); return 2; }
    fclose(f);
    for (i = 0; i < (size_t)len; i++)
        if (!IS_SEP(b[i]) && (i == 0 || IS_SEP(b[i - 1]))) n++;
    while (len > 0 && IS_SEP(b[len - 1])) len--;
    o32 = malloc(n * sizeof(float));
    o64 = malloc(n * sizeof(double));
    for (r = 0; r < reps; r++) {
        double t = bench_f32(b, (size_t)len, o32, n);
        if (t < best32) best32 = t;
        t = bench_f64(b, (size_t)len, o64, n);
        if (t < best64) best64 = t;
    }
    printf("file f32 %.3f\n", best32 * 1e9 / n);
    printf("file f64 %.3f\n", best64 * 1e9 / n);
    printf("file bytes_per_token %.2f\n", (double)len / n);
    return 0;
}

static int run_bench(size_t n, int reps, int only) {
    int fam, r;
    float *o32 = malloc(n * sizeof(float));
    double *o64 = malloc(n * sizeof(double));
    for (fam = 0; fam < NFAM; fam++) {
        size_t len;
        double best32 = 1e9, best64 = 1e9, bestt = 1e9;
        char *b;
        if (only >= 0 && fam != only) continue;
        b = make_buffer(fam, n, &len);
        for (r = 0; r < reps; r++) {
            double t = bench_f32(b, len, o32, n);
            if (t < best32) best32 = t;
            t = bench_f64(b, len, o64, n);
            if (t < best64) best64 = t;
            t = bench_f32_tail(b, len, o32, n);
            if (t < bestt) bestt = t;
        }
        printf("%s f32 %.3f\n", fam_name[fam], best32 * 1e9 / n);
        printf("%s f64 %.3f\n", fam_name[fam], best64 * 1e9 / n);
        printf("%s f32tail %.3f\n", fam_name[fam], bestt * 1e9 / n);
        printf("%s bytes_per_token %.2f\n", fam_name[fam], (double)len / n);
        free(b);
    }
    free(o32);
    free(o64);
    return 0;
}

/* ---------------------------------------------------------------- check -- */

static void digits(char *b, int *k, int n) {
    int i;
    for (i = 0; i < n; i++) b[(*k)++] = (char)('0' + rnd() % 10);
}

/* Write the exact decimal value of long double x (finite, >= 0) with `sig`
 * significant digits, glibc printf rounding correctly; trims nothing. */
static int write_ld(char *b, long double x, int sig) {
    return snprintf(b, 100, "%.*Le", sig - 1, x);
}

/* A random valid token of one of many shapes into b (NUL-terminated). */
static int check_token(char *b) {
    int k = 0, shape = (int)(rnd() % 12);
    if (rnd() % 2) b[k++] = '-';
    else if (rnd() % 8 == 0) b[k++] = '+';
    switch (shape) {
    case 0: case 1: case 2: { /* embedding-like: d.ddddd[e-0d] */
        int ip = rint_(0, 2), fp = rint_(0, 10);
        if (ip == 0 && fp == 0) ip = 1;
        if (ip == 0 && rnd() % 2) b[k++] = '0';
        else digits(b, &k, ip);
        if (fp || rnd() % 2) { b[k++] = '.'; digits(b, &k, fp); }
        if (rnd() % 5 == 0) k += sprintf(b + k, "%c%s%02d", rnd() % 2 ? 'e' : 'E',
                                         rnd() % 2 ? "-" : (rnd() % 2 ? "+" : ""), rint_(0, 40));
        break;
    }
    case 3: case 4: { /* 1-25 digits, a point anywhere, exponent -350..350 */
        int nd = rint_(1, 25), pt = rint_(0, nd), i;
        int dot = rnd() % 2 ? pt : -1;
        for (i = 0; i < nd; i++) {
            if (i == dot) b[k++] = '.';
            b[k++] = (char)('0' + rnd() % 10);
            if (i + 1 < nd && i + 1 != dot && rnd() % 20 == 0) b[k++] = '_';
        }
        if (rnd() % 4) k += sprintf(b + k, "e%d", rint_(-350, 350));
        break;
    }
    case 5: { /* float32 halfway points (25 bits: exact in a double) and neighbours */
        uint32_t u = (uint32_t)(rnd() % 0x7f7fffffu);
        float f, g;
        long double mid;
        memcpy(&f, &u, 4);
        g = nextafterf(f, INFINITY);
        mid = ((long double)f + (long double)g) / 2;
        switch (rnd() % 4) {
        case 1: mid = nextafterl(mid, 0); break;
        case 2: mid = nextafterl(mid, INFINITY); break;
        default: break;
        }
        {
            static const int sig[6] = {9, 10, 17, 18, 20, 30};
            k += write_ld(b + k, mid, rnd() % 3 ? sig[rnd() % 6] : 60);
        }
        break;
    }
    case 6: { /* double halfway points (54 bits: exact in a long double) and neighbours */
        uint64_t u = rnd() % UINT64_C(0x7fefffffffffffff);
        double f, g;
        long double mid;
        memcpy(&f, &u, 8);
        if (rnd() % 2) { /* near float32 precision: doubles with a 24-bit-ish mantissa */
            f = (double)(float)f;
            if (!isfinite(f) || f == 0) f = 1.5;
            if (rnd() % 2) {  /* the double just below/above a float32 midpoint */
                float ff = (float)f;
                double m32 = ((double)ff + (double)nextafterf(ff, INFINITY)) / 2;
                f = rnd() % 2 ? nextafter(m32, 0) : m32;
            }
        }
        g = nextafter(f, INFINITY);
        mid = ((long double)f + (long double)g) / 2;
        if (rnd() % 3 == 0) mid = rnd() % 2 ? nextafterl(mid, 0) : nextafterl(mid, INFINITY);
        {
            static const int sig[7] = {16, 17, 18, 19, 20, 25, 40};
            k += write_ld(b + k, mid, sig[rnd() % 7]);
        }
        break;
    }
    case 7: { /* subnormals, tiny and huge */
        double x = ldexp(runif(), rint_(-1100, -1000));
        if (rnd() % 3 == 0) x = ldexp(runif() + 1, rint_(1000, 1030));
        if (rnd() % 3 == 0) x = ldexp(runif(), rint_(-160, -120)); /* float32 subnormal range */
        k += snprintf(b + k, 60, "%.*e", rint_(0, 25), x);
        break;
    }
    case 8: { /* integers and exact decimals that the fast paths love */
        uint64_t m = rnd() >> rint_(0, 63);
        k += sprintf(b + k, "%llu", (unsigned long long)m);
        if (rnd() % 2) k += sprintf(b + k, "e%d", rint_(-25, 25));
        break;
    }
    case 9: { /* long mantissas, leading zeros */
        int z = rint_(0, 30), nd = rint_(15, 120);
        if (rnd() % 2) { b[k++] = '0'; b[k++] = '.'; while (z--) b[k++] = '0'; }
        digits(b, &k, nd);
        if (rnd() % 2) k += sprintf(b + k, "e%d", rint_(-60, 60));
        break;
    }
    case 10: { /* zeros with any exponent, and near the over/underflow edges */
        if (rnd() % 2) { k += sprintf(b + k, "0.%se%d", rnd() % 2 ? "000" : "", rint_(-999999, 999999)); break; }
        k += sprintf(b + k, "%d.%de%d", rint_(1, 9), rint_(0, 99999), rnd() % 2 ? rint_(300, 310) : rint_(-330, -320));
        break;
    }
    default: { /* 9-digit float32 text (what writers emit) */
        uint32_t u = (uint32_t)(rnd() % 0x7f800000u);
        float f;
        memcpy(&f, &u, 4);
        k += snprintf(b + k, 60, "%.*g", rint_(6, 9), (double)f);
        break;
    }
    }
    b[k] = '\0';
    return k;
}

static double ref_strtod(const char *tok) {
    char clean[2048];
    int i, j = 0;
    for (i = 0; tok[i]; i++)
        if (tok[i] != '_') clean[j++] = tok[i];
    clean[j] = '\0';
    return strtod(clean, NULL);
}

static int run_check(long long n) {
    char tok[1024], padded[1100];
    long long i, bad = 0, fast = 0;
    for (i = 0; i < n; i++) {
        int len = check_token(tok), pass;
        double want = ref_strtod(tok);
        /* pass 0: 40 bytes after the token; pass 1: the buffer ends with the
         * token; pass 2: 0-31 bytes after it, in a heap block of exactly that
         * size (build with -fsanitize=address to catch any read past `last`) */
        int extra = (int)(rnd() % 32);
        char *exact = malloc((size_t)(len + extra));
        memcpy(exact, tok, (size_t)len);
        memset(exact + len, rnd() % 2 ? ' ' : '\n', (size_t)extra);
        memcpy(padded, tok, (size_t)len);
        memset(padded + len, ' ', 40);
        for (pass = 0; pass < 3; pass++) {
            const char *last = pass == 0 ? padded + len + 40 : pass == 1 ? tok + len : exact + len + extra;
            const char *p = pass == 0 ? padded : pass == 1 ? tok : exact;
            double d;
            const char *q = el_parse_double(p, last, &d);
            if (q != p + len || memcmp(&d, &want, 8) != 0) {
                if (bad++ < 10) printf("MISMATCH double %s pass %d: got %.17g want %.17g\n", tok, pass, d, want);
            }
        }
        free(exact);
        fast += len <= 24;
    }
    printf("checked %lld tokens (x3 buffer ends), %lld mismatches\n", n, bad);
    return bad != 0;
}

int main(int argc, char **argv) {
    long long n = argc > 2 ? atoll(argv[2]) : 1000000;
    rng_state = argc > 3 ? (uint64_t)atoll(argv[3]) : 1;
    if (argc > 1 && strcmp(argv[1], "check") == 0) return run_check(n);
    if (argc > 2 && strcmp(argv[1], "file") == 0) return run_bench_file(argv[2], argc > 3 ? atoi(argv[3]) : 7);
    return run_bench((size_t)n, argc > 4 ? atoi(argv[4]) : 7, argc > 5 ? atoi(argv[5]) : -1);
}
