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

static inline float el_dot_f32_generic(const float *row, const float *q, ptrdiff_t n)
{
    float acc[EL_LANES] = {0, 0, 0, 0, 0, 0, 0, 0};
    ptrdiff_t j = 0, l;
    for (; j + EL_LANES <= n; j += EL_LANES)
        for (l = 0; l < EL_LANES; l++)
            acc[l] += row[j + l] * q[j + l];
    for (l = 0; j < n; j++, l++)
        acc[l] += row[j] * q[j];
    return EL_REDUCE8(acc);
}

static inline float el_dot_f16_generic(const uint16_t *row, const float *q, ptrdiff_t n)
{
    float acc[EL_LANES] = {0, 0, 0, 0, 0, 0, 0, 0};
    float wide[EL_LANES];
    ptrdiff_t j = 0, l;
    for (; j + EL_LANES <= n; j += EL_LANES) {
        for (l = 0; l < EL_LANES; l++)
            wide[l] = el_half_to_float(row[j + l]);
        for (l = 0; l < EL_LANES; l++)
            acc[l] += wide[l] * q[j + l];
    }
    for (l = 0; j < n; j++, l++)
        acc[l] += el_half_to_float(row[j]) * q[j];
    return EL_REDUCE8(acc);
}

static inline double el_dot_f64_generic(const double *row, const double *q, ptrdiff_t n)
{
    double acc[EL_LANES] = {0, 0, 0, 0, 0, 0, 0, 0};
    ptrdiff_t j = 0, l;
    for (; j + EL_LANES <= n; j += EL_LANES)
        for (l = 0; l < EL_LANES; l++)
            acc[l] += row[j + l] * q[j + l];
    for (l = 0; j < n; j++, l++)
        acc[l] += row[j] * q[j];
    return EL_REDUCE8(acc);
}


/* x86-64 with AVX2, FMA and F16C (every x86-64 CPU since 2013): the same eight lanes in one
 * (float) or two (double) vector registers, multiply-add fused. Chosen once, at import
 * (el_simd_init), so every row of every scan takes the same path. */
#if defined(__GNUC__) && defined(__x86_64__)
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
#endif

static int el_simd_level = 0;   /* 0: generic C; 1: AVX2 + FMA + F16C */

/* Pick the path for this CPU; call once before any scan. Returns the level chosen. */
static inline int el_simd_init(void)
{
#ifdef EL_HAVE_X86_SIMD
    __builtin_cpu_init();
    el_simd_level = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")
                    && __builtin_cpu_supports("f16c");
#endif
    return el_simd_level;
}

static inline float el_dot_f32(const float *row, const float *q, ptrdiff_t n)
{
#ifdef EL_HAVE_X86_SIMD
    if (el_simd_level)
        return el_dot_f32_avx2(row, q, n);
#endif
    return el_dot_f32_generic(row, q, n);
}

static inline float el_dot_f16(const uint16_t *row, const float *q, ptrdiff_t n)
{
#ifdef EL_HAVE_X86_SIMD
    if (el_simd_level)
        return el_dot_f16_avx2(row, q, n);
#endif
    return el_dot_f16_generic(row, q, n);
}

static inline double el_dot_f64(const double *row, const double *q, ptrdiff_t n)
{
#ifdef EL_HAVE_X86_SIMD
    if (el_simd_level)
        return el_dot_f64_avx2(row, q, n);
#endif
    return el_dot_f64_generic(row, q, n);
}

#endif
