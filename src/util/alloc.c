/*
 * alloc.c - the one place that allocates. Overflow-checked arrays, wiping,
 * and (test builds only) deterministic allocation failure.
 */
#include "util/alloc.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "util/base.h"

#ifdef PINSET_TESTING
/*
 * Test builds only: a process-wide counter so that a test can fail the Nth
 * allocation. Release builds have no writable globals (STYLE.md section 6).
 */
#include <stdatomic.h>

static atomic_ulong alloc_fail_at;
static atomic_ulong alloc_count;

void pinset__alloc_fail_at(unsigned long n)
{
    alloc_fail_at = n == 0 ? 0 : alloc_count + n;
}

unsigned long pinset__alloc_count(void)
{
    return alloc_count;
}

static int should_fail(void)
{
    unsigned long n = atomic_fetch_add(&alloc_count, 1) + 1;
    unsigned long at = atomic_load(&alloc_fail_at);

    return at != 0 && n == at;
}
#else
static int should_fail(void)
{
    return 0;
}
#endif

void *pinset__alloc(size_t size)
{
    if (size == 0 || should_fail()) {
        return NULL;
    }
    return calloc(1, size);
}

void *pinset__alloc_array(size_t n, size_t size)
{
    if (n == 0 || size == 0 || n > SIZE_MAX / size || should_fail()) {
        return NULL;
    }
    return calloc(n, size);
}

void *pinset__realloc_array(void *p, size_t n, size_t size)
{
    if (n == 0 || size == 0 || n > SIZE_MAX / size || should_fail()) {
        return NULL;
    }
    return realloc(p, n * size);
}

char *pinset__strndup(const char *s, size_t len)
{
    char *copy;

    if (s == NULL || len == SIZE_MAX) {
        return NULL;
    }
    copy = pinset__alloc(len + 1);
    if (copy == NULL) {
        return NULL;
    }
    memcpy(copy, s, len);
    copy[len] = '\0';
    return copy;
}

void pinset__free(void *p)
{
    free(p);
}

void pinset__wipe(void *p, size_t len)
{
    if (p != NULL && len != 0) {
        OPENSSL_cleanse(p, len);
    }
}

void pinset__wipe_free(void *p, size_t len)
{
    pinset__wipe(p, len);
    free(p);
}
