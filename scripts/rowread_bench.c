/* rowread_bench.c - how fast this machine reads rows scattered over a memory-mapped
 * matrix: the work of an out-of-vocabulary word vector without its hashing.
 *
 * scripts/bench_fasttext.py compiles and runs it in the same run as embload, to show
 * the bound the random-string case meets. Usage:
 *
 *   cc -O3 -march=native -fopenmp -DDIM=300 rowread_bench.c -o rowread_bench
 *   rowread_bench FILE OFFSET FIRST_ROW ROWS ROWS_PER_WORD WORDS THREADS
 *
 * DIM is fixed when compiling: with a run-time dim GCC's loop ran 3x slower (70k
 * words/s against 206k), a yardstick that would flatter any reader.
 * Each "word" sums ROWS_PER_WORD uniformly random rows of [FIRST_ROW, ROWS) of the float32
 * matrix (DIM columns) at byte OFFSET of FILE in float32, the way embload's kernel does
 * (src/fasttext.h, el_ft_sum_dense): 64 columns at a time across all the word's rows, so
 * the first loads put a miss in flight for every row. Prints one line: words/s and GB/s
 * of rows read, wall. Not part of the package: a yardstick, as a sequential NumPy read is
 * for streaming. (Until embload's kernel took this shape, the loop here summed row after
 * row having requested each row's first line; embload's kernel then outran it.)
 */
#define _GNU_SOURCE
#ifndef DIM
#error "compile with -DDIM=<columns of the matrix>"
#endif
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

typedef float v16 __attribute__((vector_size(64), aligned(4), may_alias));

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

int main(int argc, char **argv) {
    if (argc != 8) {
        fprintf(stderr, "usage: %s FILE OFFSET FIRST_ROW ROWS ROWS_PER_WORD WORDS THREADS\n", argv[0]);
        return 2;
    }
    const long long offset = atoll(argv[2]), first = atoll(argv[3]), rows = atoll(argv[4]);
    const long long dim = DIM, per_word = atoll(argv[5]), words = atoll(argv[6]);
    const int threads = atoi(argv[7]);
    int fd = open(argv[1], O_RDONLY);
    if (fd < 0) { perror(argv[1]); return 1; }
    off_t size = lseek(fd, 0, SEEK_END);
    const char *map = mmap(NULL, (size_t)size, PROT_READ, MAP_SHARED, fd, 0);
    if (map == MAP_FAILED) { perror("mmap"); return 1; }
    const float *m = (const float *)(map + offset);
    int64_t *idx = malloc(sizeof(int64_t) * (size_t)(words * per_word));
    uint64_t x = 88172645463325252ULL; /* xorshift64: the same rows every run */
    for (long long i = 0; i < words * per_word; i++) {
        x ^= x << 13; x ^= x >> 7; x ^= x << 17;
        idx[i] = first + (int64_t)(x % (uint64_t)(rows - first));
    }
    double best = 0, sink = 0;
    for (int rep = 0; rep < 3; rep++) { /* the first pass maps the pages in */
        double t = now();
        #pragma omp parallel num_threads(threads) reduction(+:sink)
        {
            float acc[DIM];
            #pragma omp for schedule(static)
            for (long long w = 0; w < words; w++) {
                const int64_t *r = idx + w * per_word;
                long long j = 0;
                for (; j + 64 <= dim; j += 64) {
                    v16 a0 = {0}, a1 = {0}, a2 = {0}, a3 = {0};
                    for (long long k = 0; k < per_word; k++) {
                        const v16 *p = (const v16 *)(m + r[k] * dim + j);
                        a0 += p[0]; a1 += p[1]; a2 += p[2]; a3 += p[3];
                    }
                    v16 *o = (v16 *)(acc + j);
                    o[0] = a0; o[1] = a1; o[2] = a2; o[3] = a3;
                }
                for (; j + 16 <= dim; j += 16) {
                    v16 a = {0};
                    for (long long k = 0; k < per_word; k++) a += *(const v16 *)(m + r[k] * dim + j);
                    *(v16 *)(acc + j) = a;
                }
                for (; j < dim; j++) {
                    float a = 0.0f;
                    for (long long k = 0; k < per_word; k++) a += m[r[k] * dim + j];
                    acc[j] = a;
                }
                sink += acc[0];
            }
        }
        double rate = words / (now() - t);
        if (rate > best) best = rate;
    }
    printf("%.0f words/s %.2f GB/s %g\n", best, best * per_word * dim * 4 / 1e9, sink * 0);
    return 0;
}
