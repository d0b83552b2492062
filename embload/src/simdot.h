/* Dot products of one table row with one query, for the similarity scan (embload/_similarity.pyx).
 *
 * Each sum runs in a fixed order whatever the caller: eight running sums (lane j % 8 takes
 * element j), then a fixed tree of additions. A row's score is therefore the same bits
 * whichever thread, tile or part of the table computes it. The eight sums are independent,
 * so the compiler keeps them in vector registers.
 *
 * float16 rows are widened to float32 here as they are read (exact: every float16 is a
 * float32), so a float16 table needs no converted copy.
 *
 * Two paths with the same lanes: portable C, and AVX2/FMA/F16C on x86-64 CPUs that have
 * them (picked once by el_simd_init). The fused multiply-add rounds once where the C path
 * rounds twice, so the two paths may differ in the last bit; one machine always takes
 * the same one.
 */
#ifndef EMBLOAD_SIMDOT_H
#define EMBLOAD_SIMDOT_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define EL_LANES 8

/* IEEE binary16 -> binary32, exact for every value (normal, subnormal, zero, inf, NaN). */
static inline float el_half_to_float(uint16_t h)
{
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
    uint32_t exp = (h >> 10) & 0x1fu;
    uint32_t mant = h & 0x3ffu;
    uint32_t bits;
    float f;
    if (exp == 0x1fu) {                 /* inf or NaN: keep the payload */
        bits = sign | 0x7f800000u | (mant << 13);
    } else if (exp != 0) {              /* normal: rebias 15 -> 127 */
        bits = sign | ((exp + 112u) << 23) | (mant << 13);
    } else {                            /* zero or subnormal: mant * 2^-24, exact in float */
        f = (float)mant * 5.9604644775390625e-08f;
        memcpy(&bits, &f, sizeof bits);
        bits |= sign;
    }
    memcpy(&f, &bits, sizeof f);
    return f;
}

#define EL_REDUCE8(acc) \
    ((((acc)[0] + (acc)[4]) + ((acc)[1] + (acc)[5])) + (((acc)[2] + (acc)[6]) + ((acc)[3] + (acc)[7])))

/* The portable dot product of one element type: `row` elements (T, widened to R by LOAD)
 * times `q` (R), in the eight lanes above. One body for float32, float16 and float64. */
#define EL_LOAD_SAME(x) (x)
#define EL_DEFINE_DOT_GENERIC(name, T, R, LOAD)                                     \
    static inline R name(const T *row, const R *q, ptrdiff_t n)                      \
    {                                                                                \
        R acc[EL_LANES] = {0, 0, 0, 0, 0, 0, 0, 0};                                  \
        ptrdiff_t j = 0, l;                                                          \
        for (; j + EL_LANES <= n; j += EL_LANES)                                     \
            for (l = 0; l < EL_LANES; l++)                                           \
                acc[l] += LOAD(row[j + l]) * q[j + l];                               \
        for (l = 0; j < n; j++, l++)                                                 \
            acc[l] += LOAD(row[j]) * q[j];                                           \
        return EL_REDUCE8(acc);                                                      \
    }

EL_DEFINE_DOT_GENERIC(el_dot_f32_generic, float, float, EL_LOAD_SAME)
EL_DEFINE_DOT_GENERIC(el_dot_f16_generic, uint16_t, float, el_half_to_float)
EL_DEFINE_DOT_GENERIC(el_dot_f64_generic, double, double, EL_LOAD_SAME)


/* x86-64 with AVX2, FMA and F16C (every x86-64 CPU since 2013): the same eight lanes in one
 * (float) or two (double) vector registers, multiply-add fused. Chosen once, at import
 * (el_simd_init), so every row of every scan takes the same path. */
#if defined(__GNUC__) && defined(__x86_64__)
#include <cpuid.h>
#include <immintrin.h>
#define EL_HAVE_X86_SIMD 1

__attribute__((target("avx2,fma")))
static float el_dot_f32_avx2(const float *row, const float *q, ptrdiff_t n)
{
    __m256 acc = _mm256_setzero_ps();
    float lanes[EL_LANES];
    ptrdiff_t j = 0, l;
    for (; j + EL_LANES <= n; j += EL_LANES)
        acc = _mm256_fmadd_ps(_mm256_loadu_ps(row + j), _mm256_loadu_ps(q + j), acc);
    _mm256_storeu_ps(lanes, acc);
    for (l = 0; j < n; j++, l++)
        lanes[l] += row[j] * q[j];
    return EL_REDUCE8(lanes);
}

__attribute__((target("avx2,fma,f16c")))
static float el_dot_f16_avx2(const uint16_t *row, const float *q, ptrdiff_t n)
{
    __m256 acc = _mm256_setzero_ps();
    float lanes[EL_LANES];
    ptrdiff_t j = 0, l;
    for (; j + EL_LANES <= n; j += EL_LANES) {
        __m256 wide = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(row + j)));
        acc = _mm256_fmadd_ps(wide, _mm256_loadu_ps(q + j), acc);
    }
    _mm256_storeu_ps(lanes, acc);
    for (l = 0; j < n; j++, l++)
        lanes[l] += el_half_to_float(row[j]) * q[j];
    return EL_REDUCE8(lanes);
}

__attribute__((target("avx2,fma")))
static double el_dot_f64_avx2(const double *row, const double *q, ptrdiff_t n)
{
    __m256d lo = _mm256_setzero_pd(), hi = _mm256_setzero_pd();
    double lanes[EL_LANES];
    ptrdiff_t j = 0, l;
    for (; j + EL_LANES <= n; j += EL_LANES) {
        lo = _mm256_fmadd_pd(_mm256_loadu_pd(row + j), _mm256_loadu_pd(q + j), lo);
        hi = _mm256_fmadd_pd(_mm256_loadu_pd(row + j + 4), _mm256_loadu_pd(q + j + 4), hi);
    }
    _mm256_storeu_pd(lanes, lo);
    _mm256_storeu_pd(lanes + 4, hi);
    for (l = 0; j < n; j++, l++)
        lanes[l] += row[j] * q[j];
    return EL_REDUCE8(lanes);
}

/* out[2 * i + j] = dot(row j, query i) for 4 queries x 2 rows: each row chunk is loaded once
 * for four queries and each query chunk once for two rows, so the multiply-adds, not the
 * loads, set the pace. Every pair has its own accumulator and the same sequence of
 * operations as el_dot_f32_avx2 / el_dot_f16_avx2: the same bits. */
__attribute__((target("avx2,fma,f16c")))
static void el_dot_4x2_avx2(const void *row0, const void *row1, int half, const float *q0,
                            const float *q1, const float *q2, const float *q3, ptrdiff_t n,
                            float *out)
{
    __m256 a00 = _mm256_setzero_ps(), a01 = _mm256_setzero_ps();
    __m256 a10 = _mm256_setzero_ps(), a11 = _mm256_setzero_ps();
    __m256 a20 = _mm256_setzero_ps(), a21 = _mm256_setzero_ps();
    __m256 a30 = _mm256_setzero_ps(), a31 = _mm256_setzero_ps();
    const float *qs[4] = {q0, q1, q2, q3};
    float lanes[EL_LANES];
    ptrdiff_t j = 0, l;
    int i, r;
    for (; j + EL_LANES <= n; j += EL_LANES) {
        __m256 x0, x1, y;
        if (half) {
            x0 = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)((const uint16_t *)row0 + j)));
            x1 = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)((const uint16_t *)row1 + j)));
        } else {
            x0 = _mm256_loadu_ps((const float *)row0 + j);
            x1 = _mm256_loadu_ps((const float *)row1 + j);
        }
        y = _mm256_loadu_ps(q0 + j);
        a00 = _mm256_fmadd_ps(x0, y, a00);
        a01 = _mm256_fmadd_ps(x1, y, a01);
        y = _mm256_loadu_ps(q1 + j);
        a10 = _mm256_fmadd_ps(x0, y, a10);
        a11 = _mm256_fmadd_ps(x1, y, a11);
        y = _mm256_loadu_ps(q2 + j);
        a20 = _mm256_fmadd_ps(x0, y, a20);
        a21 = _mm256_fmadd_ps(x1, y, a21);
        y = _mm256_loadu_ps(q3 + j);
        a30 = _mm256_fmadd_ps(x0, y, a30);
        a31 = _mm256_fmadd_ps(x1, y, a31);
    }
    {
        __m256 accs[8] = {a00, a01, a10, a11, a20, a21, a30, a31};
        for (i = 0; i < 4; i++) {
            for (r = 0; r < 2; r++) {
                const void *row = r ? row1 : row0;
                ptrdiff_t t;
                _mm256_storeu_ps(lanes, accs[2 * i + r]);
                for (l = 0, t = j; t < n; t++, l++) {
                    float x = half ? el_half_to_float(((const uint16_t *)row)[t]) : ((const float *)row)[t];
                    lanes[l] += x * qs[i][t];
                }
                out[2 * i + r] = EL_REDUCE8(lanes);
            }
        }
    }
}

/* AVX-512 (F, BW, VL, DQ): sixteen lanes in one register, the tail (dim % 16) by a masked load,
 * so every element of a row is summed in vector lanes; then _mm512_reduce_add_ps. */
__attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,fma,f16c")))
static inline __m512 el_load16_avx512(const void *row, int half, ptrdiff_t j, __mmask16 m)
{
    if (half)
        return _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(m, (const uint16_t *)row + j));
    return _mm512_maskz_loadu_ps(m, (const float *)row + j);
}

/* The sum of 16 lanes, pairing lane i with i + 8, then i + 4, then i + 2, then i + 1
 * (spelled out rather than _mm512_reduce_add_ps, whose order is the compiler's). */
__attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,fma,f16c")))
static inline float el_reduce16_avx512(__m512 v)
{
    __m256 t = _mm256_add_ps(_mm512_castps512_ps256(v), _mm512_extractf32x8_ps(v, 1));
    __m128 u = _mm_add_ps(_mm256_castps256_ps128(t), _mm256_extractf128_ps(t, 1));
    __m128 w = _mm_add_ps(u, _mm_movehl_ps(u, u));
    return _mm_cvtss_f32(_mm_add_ss(w, _mm_shuffle_ps(w, w, 1)));
}

/* Eight sums at once, with the pairing of el_reduce16_avx512 for each: out[i] = sum of a[i]. */
__attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,fma,f16c")))
static inline void el_reduce16x8_avx512(const __m512 *a, float *out)
{
    __m256 t[8], u[4], r0, r1, s;
    float lanes[8];
    int i;
    for (i = 0; i < 8; i++)      /* i + 8 */
        t[i] = _mm256_add_ps(_mm512_castps512_ps256(a[i]), _mm512_extractf32x8_ps(a[i], 1));
    for (i = 0; i < 4; i++)      /* i + 4: [a(2i) | a(2i+1)] */
        u[i] = _mm256_add_ps(_mm256_permute2f128_ps(t[2 * i], t[2 * i + 1], 0x20),
                             _mm256_permute2f128_ps(t[2 * i], t[2 * i + 1], 0x31));
    /* i + 2: [a0 a0 a2 a2 | a1 a1 a3 a3] and [a4 a4 a6 a6 | a5 a5 a7 a7] */
    r0 = _mm256_add_ps(_mm256_shuffle_ps(u[0], u[1], 0x44), _mm256_shuffle_ps(u[0], u[1], 0xEE));
    r1 = _mm256_add_ps(_mm256_shuffle_ps(u[2], u[3], 0x44), _mm256_shuffle_ps(u[2], u[3], 0xEE));
    /* i + 1: [a0 a2 a4 a6 | a1 a3 a5 a7] */
    s = _mm256_add_ps(_mm256_shuffle_ps(r0, r1, 0x88), _mm256_shuffle_ps(r0, r1, 0xDD));
    _mm256_storeu_ps(lanes, s);
    out[0] = lanes[0]; out[2] = lanes[1]; out[4] = lanes[2]; out[6] = lanes[3];
    out[1] = lanes[4]; out[3] = lanes[5]; out[5] = lanes[6]; out[7] = lanes[7];
}

__attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,fma,f16c")))
static float el_dot_avx512(const void *row, int half, const float *q, ptrdiff_t n)
{
    __m512 acc = _mm512_setzero_ps();
    ptrdiff_t j;
    for (j = 0; j < n; j += 16) {
        __mmask16 m = n - j >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << (n - j)) - 1);
        acc = _mm512_fmadd_ps(el_load16_avx512(row, half, j, m), _mm512_maskz_loadu_ps(m, q + j), acc);
    }
    return el_reduce16_avx512(acc);
}

__attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,fma,f16c")))
static double el_dot_f64_avx512(const double *row, const double *q, ptrdiff_t n)
{
    __m512d acc = _mm512_setzero_pd();
    ptrdiff_t j;
    for (j = 0; j < n; j += 8) {
        __mmask8 m = n - j >= 8 ? (__mmask8)0xff : (__mmask8)((1u << (n - j)) - 1);
        acc = _mm512_fmadd_pd(_mm512_maskz_loadu_pd(m, row + j), _mm512_maskz_loadu_pd(m, q + j), acc);
    }
    return _mm512_reduce_add_pd(acc);
}

/* 1 query x 4 rows, each pair with the operations of el_dot_avx512: the same bits. Four
 * rows in flight keep more loads outstanding for a lone query, which waits on memory. */
__attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,fma,f16c")))
static void el_dot_1x4_avx512(const void *const *rows, int half, const float *q, ptrdiff_t n,
                              float *out)
{
    __m512 a0 = _mm512_setzero_ps(), a1 = _mm512_setzero_ps();
    __m512 a2 = _mm512_setzero_ps(), a3 = _mm512_setzero_ps();
    ptrdiff_t j;
    for (j = 0; j < n; j += 16) {
        __mmask16 m = n - j >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << (n - j)) - 1);
        __m512 y = _mm512_maskz_loadu_ps(m, q + j);
        a0 = _mm512_fmadd_ps(el_load16_avx512(rows[0], half, j, m), y, a0);
        a1 = _mm512_fmadd_ps(el_load16_avx512(rows[1], half, j, m), y, a1);
        a2 = _mm512_fmadd_ps(el_load16_avx512(rows[2], half, j, m), y, a2);
        a3 = _mm512_fmadd_ps(el_load16_avx512(rows[3], half, j, m), y, a3);
    }
    out[0] = el_reduce16_avx512(a0);
    out[1] = el_reduce16_avx512(a1);
    out[2] = el_reduce16_avx512(a2);
    out[3] = el_reduce16_avx512(a3);
}

/* 1 query x 8 rows of float32, each with the operations of el_dot_avx512: the same bits
 * (whole 16-lane chunks loaded unmasked, the tail masked as there; the eight sums reduced
 * with el_reduce16_avx512's pairing). Eight independent multiply-add chains cover the
 * latency of the FMA units, which four rows left half idle; the half/float choice is out
 * of the loop. A lone query's scan spends its time here. */
__attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,fma,f16c")))
static void el_dot_1x8_f32_avx512(const float *const *rows, const float *q, ptrdiff_t n,
                                  float *out)
{
    __m512 a[8];
    const float *r0 = rows[0], *r1 = rows[1], *r2 = rows[2], *r3 = rows[3];
    const float *r4 = rows[4], *r5 = rows[5], *r6 = rows[6], *r7 = rows[7];
    ptrdiff_t j = 0;
    int i;
    for (i = 0; i < 8; i++)
        a[i] = _mm512_setzero_ps();
    for (; j + 16 <= n; j += 16) {
        __m512 y = _mm512_loadu_ps(q + j);
        a[0] = _mm512_fmadd_ps(_mm512_loadu_ps(r0 + j), y, a[0]);
        a[1] = _mm512_fmadd_ps(_mm512_loadu_ps(r1 + j), y, a[1]);
        a[2] = _mm512_fmadd_ps(_mm512_loadu_ps(r2 + j), y, a[2]);
        a[3] = _mm512_fmadd_ps(_mm512_loadu_ps(r3 + j), y, a[3]);
        a[4] = _mm512_fmadd_ps(_mm512_loadu_ps(r4 + j), y, a[4]);
        a[5] = _mm512_fmadd_ps(_mm512_loadu_ps(r5 + j), y, a[5]);
        a[6] = _mm512_fmadd_ps(_mm512_loadu_ps(r6 + j), y, a[6]);
        a[7] = _mm512_fmadd_ps(_mm512_loadu_ps(r7 + j), y, a[7]);
    }
    if (j < n) {
        __mmask16 m = (__mmask16)((1u << (n - j)) - 1);
        __m512 y = _mm512_maskz_loadu_ps(m, q + j);
        a[0] = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, r0 + j), y, a[0]);
        a[1] = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, r1 + j), y, a[1]);
        a[2] = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, r2 + j), y, a[2]);
        a[3] = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, r3 + j), y, a[3]);
        a[4] = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, r4 + j), y, a[4]);
        a[5] = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, r5 + j), y, a[5]);
        a[6] = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, r6 + j), y, a[6]);
        a[7] = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, r7 + j), y, a[7]);
    }
    el_reduce16x8_avx512(a, out);
}

/* 4 queries x 4 rows, each pair with the operations of el_dot_avx512: the same bits.
 * out[4 * i + r] = dot(row r, query i). Sixteen accumulators of the 32 registers. */
__attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,fma,f16c")))
static void el_dot_4x4_avx512(const void *const *rows, int half, const float *const *qs,
                              ptrdiff_t n, float *out)
{
    __m512 acc[16];
    ptrdiff_t j;
    int i;
    for (i = 0; i < 16; i++)
        acc[i] = _mm512_setzero_ps();
    for (j = 0; j < n; j += 16) {
        __mmask16 m = n - j >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << (n - j)) - 1);
        __m512 x0 = el_load16_avx512(rows[0], half, j, m), x1 = el_load16_avx512(rows[1], half, j, m);
        __m512 x2 = el_load16_avx512(rows[2], half, j, m), x3 = el_load16_avx512(rows[3], half, j, m);
        for (i = 0; i < 4; i++) {
            __m512 y = _mm512_maskz_loadu_ps(m, qs[i] + j);
            acc[4 * i] = _mm512_fmadd_ps(x0, y, acc[4 * i]);
            acc[4 * i + 1] = _mm512_fmadd_ps(x1, y, acc[4 * i + 1]);
            acc[4 * i + 2] = _mm512_fmadd_ps(x2, y, acc[4 * i + 2]);
            acc[4 * i + 3] = _mm512_fmadd_ps(x3, y, acc[4 * i + 3]);
        }
    }
    el_reduce16x8_avx512(acc, out);
    el_reduce16x8_avx512(acc + 8, out + 8);
}
#endif

static int el_simd_level = 0;   /* 0: generic C; 1: AVX2 + FMA + F16C; 2: AVX-512 F, BW, VL, DQ */

/* Pick the path for this CPU; call once before any scan. Returns the level chosen. */
static inline int el_simd_init(void)
{
#ifdef EL_HAVE_X86_SIMD
    __builtin_cpu_init();
    /* F16C from CPUID leaf 1 (ECX bit 29): clang before 16 has no "f16c" for
     * __builtin_cpu_supports, and the build must work with either compiler. The OS
     * saves the AVX registers F16C uses wherever "avx2" holds. */
    unsigned int eax, ebx, ecx, edx;
    const int f16c = __get_cpuid(1, &eax, &ebx, &ecx, &edx) && ((ecx >> 29) & 1u);
    el_simd_level = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && f16c;
    if (el_simd_level && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw")
        && __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq"))
        el_simd_level = 2;
#endif
    return el_simd_level;
}

static inline float el_dot_f32(const float *row, const float *q, ptrdiff_t n)
{
#ifdef EL_HAVE_X86_SIMD
    if (el_simd_level == 2)
        return el_dot_avx512(row, 0, q, n);
    if (el_simd_level)
        return el_dot_f32_avx2(row, q, n);
#endif
    return el_dot_f32_generic(row, q, n);
}

static inline float el_dot_f16(const uint16_t *row, const float *q, ptrdiff_t n)
{
#ifdef EL_HAVE_X86_SIMD
    if (el_simd_level == 2)
        return el_dot_avx512(row, 1, q, n);
    if (el_simd_level)
        return el_dot_f16_avx2(row, q, n);
#endif
    return el_dot_f16_generic(row, q, n);
}

/* out[r] = dot(rows[r], q) for 4 rows (float16 or float32), each the bits of
 * el_dot_f16 / el_dot_f32. */
static inline void el_dot_1x4(const void *const *rows, int half, const float *q, ptrdiff_t n,
                              float *out)
{
    int r;
#ifdef EL_HAVE_X86_SIMD
    if (el_simd_level == 2) {
        el_dot_1x4_avx512(rows, half, q, n, out);
        return;
    }
#endif
    for (r = 0; r < 4; r++)
        out[r] = half ? el_dot_f16((const uint16_t *)rows[r], q, n) : el_dot_f32((const float *)rows[r], q, n);
}

/* out[r] = dot(rows[r], q) for 8 float32 rows, each the bits of el_dot_f32. */
static inline void el_dot_1x8_f32(const float *const *rows, const float *q, ptrdiff_t n, float *out)
{
    int r;
#ifdef EL_HAVE_X86_SIMD
    if (el_simd_level == 2) {
        el_dot_1x8_f32_avx512(rows, q, n, out);
        return;
    }
#endif
    for (r = 0; r < 8; r++)
        out[r] = el_dot_f32(rows[r], q, n);
}

/* dst[i] = src[i] widened, for count float16 values (exact). */
#ifdef EL_HAVE_X86_SIMD
__attribute__((target("avx2,fma,f16c")))
static void el_widen_f16_avx2(float *dst, const uint16_t *src, ptrdiff_t count)
{
    ptrdiff_t i = 0;
    for (; i + 8 <= count; i += 8)
        _mm256_storeu_ps(dst + i, _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(src + i))));
    for (; i < count; i++)
        dst[i] = el_half_to_float(src[i]);
}
#endif

static inline void el_widen_f16(float *dst, const uint16_t *src, ptrdiff_t count)
{
    ptrdiff_t i;
#ifdef EL_HAVE_X86_SIMD
    if (el_simd_level) {
        el_widen_f16_avx2(dst, src, count);
        return;
    }
#endif
    for (i = 0; i < count; i++)
        dst[i] = el_half_to_float(src[i]);
}

/* A block of a batch: out[4 * i + r] = dot(rows[r], qs[i]) for 4 queries x 4 rows (float16
 * or float32 rows, float queries), each the bits of el_dot_f16 / el_dot_f32. */
static inline void el_dot_4x4(const void *const *rows, int half, const float *const *qs,
                              ptrdiff_t n, float *out)
{
    int i, r;
#ifdef EL_HAVE_X86_SIMD
    if (el_simd_level == 2) {
        el_dot_4x4_avx512(rows, half, qs, n, out);
        return;
    }
    if (el_simd_level) {
        for (r = 0; r < 4; r += 2) {
            float two[8];
            el_dot_4x2_avx2(rows[r], rows[r + 1], half, qs[0], qs[1], qs[2], qs[3], n, two);
            for (i = 0; i < 4; i++) {
                out[4 * i + r] = two[2 * i];
                out[4 * i + r + 1] = two[2 * i + 1];
            }
        }
        return;
    }
#endif
    for (i = 0; i < 4; i++)
        for (r = 0; r < 4; r++)
            out[4 * i + r] = half ? el_dot_f16_generic((const uint16_t *)rows[r], qs[i], n)
                                  : el_dot_f32_generic((const float *)rows[r], qs[i], n);
}

static inline double el_dot_f64(const double *row, const double *q, ptrdiff_t n)
{
#ifdef EL_HAVE_X86_SIMD
    if (el_simd_level == 2)
        return el_dot_f64_avx512(row, q, n);
    if (el_simd_level)
        return el_dot_f64_avx2(row, q, n);
#endif
    return el_dot_f64_generic(row, q, n);
}

#endif
