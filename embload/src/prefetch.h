/* prefetch.h - ask the CPU to start loading a table row before it is needed.
 *
 * CONTRACT:
 *   static inline void el_prefetch_read(const void *p, size_t bytes);
 *   static inline void el_prefetch_write(const void *p, size_t bytes);
 *       Hint that [p, p + bytes) will be read (or written) soon: one prefetch
 *       per 64-byte cache line. Never faults (a prefetch of any address is
 *       harmless), never changes memory; a no-op on compilers without
 *       __builtin_prefetch.
 *
 * Why: the embedding kernels visit table rows in data-dependent order (a row
 * per token id). Each row is a few hundred bytes somewhere in a table of
 * hundreds of megabytes, so the hardware prefetcher cannot guess the next one
 * and a single thread waits on memory latency, not bandwidth. Prefetching the
 * rows a few iterations ahead overlaps those waits.
 */
#ifndef EMBLOAD_PREFETCH_H
#define EMBLOAD_PREFETCH_H

#include <stddef.h>

#if defined(__GNUC__) || defined(__clang__)
static inline void el_prefetch_read(const void *p, size_t bytes)
{
    const char *c = (const char *)p;
    size_t off;
    for (off = 0; off < bytes; off += 64)
        __builtin_prefetch(c + off, 0, 3);
}

static inline void el_prefetch_write(const void *p, size_t bytes)
{
    const char *c = (const char *)p;
    size_t off;
    for (off = 0; off < bytes; off += 64)
        __builtin_prefetch(c + off, 1, 3);
}
#else
static inline void el_prefetch_read(const void *p, size_t bytes) { (void)p; (void)bytes; }
static inline void el_prefetch_write(const void *p, size_t bytes) { (void)p; (void)bytes; }
#endif

#endif /* EMBLOAD_PREFETCH_H */
