/* clones.h - EL_TARGET_CLONES(...): a function compiled once per listed target, the
 * dynamic loader picking the copy for the CPU it runs on (GCC's target_clones, an ifunc).
 * GCC on x86-64 Linux only; elsewhere (clang, other systems) the function is compiled
 * once, for the build's baseline, and the macro is empty. The build targets plain
 * x86-64, so this is how a hot loop gets AVX2 or AVX-512 without leaving older CPUs out. */
#ifndef EMBLOAD_CLONES_H
#define EMBLOAD_CLONES_H

#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__)
#define EL_TARGET_CLONES(...) __attribute__((target_clones(__VA_ARGS__)))
#else
#define EL_TARGET_CLONES(...)
#endif

#endif /* EMBLOAD_CLONES_H */
