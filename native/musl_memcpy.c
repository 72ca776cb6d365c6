/* memcpy and memmove for the static musl builds (x86_64): musl's are `rep movsq`, whose start-up
 * cost makes the many short copies of spira-parse and spira-map 2.4 times slower than with
 * glibc (memcpy was half of spira-parse's time). Short copies are done with overlapping
 * loads and stores of 1, 2, 4, 8 and 16 bytes, long ones with `rep movsb` (fast on every x86_64
 * since Ivy Bridge). Compiled only for x86_64 musl (build.rs), with -fno-builtin so that the
 * compiler does not turn these loops back into calls of themselves. */
#include <stddef.h>
#include <stdint.h>

typedef struct { uint64_t a, b; } b16;

static inline void small(unsigned char *d, const unsigned char *s, size_t n) {
    /* Every load happens before any store: safe for overlapping buffers too. */
    if (n >= 8) {
        uint64_t x, y;
        __builtin_memcpy(&x, s, 8);
        __builtin_memcpy(&y, s + n - 8, 8);
        __builtin_memcpy(d, &x, 8);
        __builtin_memcpy(d + n - 8, &y, 8);
    } else if (n >= 4) {
        uint32_t x, y;
        __builtin_memcpy(&x, s, 4);
        __builtin_memcpy(&y, s + n - 4, 4);
        __builtin_memcpy(d, &x, 4);
        __builtin_memcpy(d + n - 4, &y, 4);
    } else if (n >= 2) {
        uint16_t x, y;
        __builtin_memcpy(&x, s, 2);
        __builtin_memcpy(&y, s + n - 2, 2);
        __builtin_memcpy(d, &x, 2);
        __builtin_memcpy(d + n - 2, &y, 2);
    } else if (n == 1) {
        *d = *s;
    }
}

static inline void medium(unsigned char *d, const unsigned char *s, size_t n) {
    /* 16 < n <= 64, no overlap: the blocks, then the last 16 bytes again. */
    b16 last;
    __builtin_memcpy(&last, s + n - 16, 16);
    for (size_t i = 0; i + 16 < n; i += 16) {
        b16 t;
        __builtin_memcpy(&t, s + i, 16);
        __builtin_memcpy(d + i, &t, 16);
    }
    __builtin_memcpy(d + n - 16, &last, 16);
}

static inline void forward(unsigned char *d, const unsigned char *s, size_t n) {
    __asm__ volatile("rep movsb" : "+D"(d), "+S"(s), "+c"(n) : : "memory");
}

void *memcpy(void *restrict dst, const void *restrict src, size_t n) {
    unsigned char *d = dst;
    const unsigned char *s = src;
    if (n <= 16)
        small(d, s, n);
    else if (n <= 64)
        medium(d, s, n);
    else
        forward(d, s, n);
    return dst;
}

void *memmove(void *dst, const void *src, size_t n) {
    unsigned char *d = dst;
    const unsigned char *s = src;
    if (n <= 16) {
        small(d, s, n);
    } else if (d + n <= s || s + n <= d) {
        memcpy(dst, src, n);
    } else if (d < s) {
        /* rep movsb forward copies as one byte after another would. */
        forward(d, s, n);
    } else if (d > s) {
        unsigned char *de = d + n - 1;
        const unsigned char *se = s + n - 1;
        __asm__ volatile("std\n\trep movsb\n\tcld" : "+D"(de), "+S"(se), "+c"(n) : : "memory");
    }
    return dst;
}
