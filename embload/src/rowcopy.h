/* rowcopy.h - copy a table row into a large output without reading the output first.
 *
 * CONTRACT:
 *   static inline void el_copy_row_stream(void *dst, const void *src, size_t bytes);
 *       memcpy(dst, src, bytes), with non-temporal (streaming) stores when dst
 *       is 16-byte aligned and bytes a multiple of 16, else a plain memcpy.
 *   static inline void el_stream_fence(void);
 *       Orders the streaming stores of this thread before anything it does
 *       next: every thread that called el_copy_row_stream calls it once when
 *       done, before the output is handed on.
 *
 * Why: a lookup of 256 x 200 tokens writes a 60 MB output. A normal store
 * first reads each output cache line from memory (read for ownership), so a
 * third of the memory traffic is wasted; streaming stores write the lines
 * straight out. Only worth it when the output is larger than the cache,
 * which the caller decides.
 */
#ifndef EMBLOAD_ROWCOPY_H
#define EMBLOAD_ROWCOPY_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#if defined(__SSE2__)
#include <emmintrin.h>

static inline void el_copy_row_stream(void *dst, const void *src, size_t bytes)
{
    char *d = (char *)dst;
    const char *s = (const char *)src;
    size_t off;
    if ((((uintptr_t)d) & 15) != 0 || (bytes & 15) != 0) {
        memcpy(dst, src, bytes);
        return;
    }
    for (off = 0; off < bytes; off += 16)
        _mm_stream_si128((__m128i *)(d + off), _mm_loadu_si128((const __m128i *)(s + off)));
}

static inline void el_stream_fence(void) { _mm_sfence(); }
#else
static inline void el_copy_row_stream(void *dst, const void *src, size_t bytes)
{
    memcpy(dst, src, bytes);
}

static inline void el_stream_fence(void) {}
#endif

#endif /* EMBLOAD_ROWCOPY_H */
