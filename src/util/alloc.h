/*
 * alloc.h - the one allocator of the library and of the utility layer:
 * overflow-checked arrays, wiping, and (test builds only) deterministic
 * allocation failure. Internal; not installed.
 */
#ifndef PINSET_UTIL_ALLOC_H
#define PINSET_UTIL_ALLOC_H

#include <stddef.h>

void *pinset__alloc(size_t size);                 /* zeroed; NULL on failure or size 0 */
void *pinset__alloc_array(size_t n, size_t size); /* zeroed; NULL on n*size overflow */
void *pinset__realloc_array(void *p, size_t n, size_t size);
char *pinset__strndup(const char *s, size_t len); /* NUL-terminated copy */
void pinset__free(void *p);
/* Overwrite then free: for anything that ever held key material or a passphrase. */
void pinset__wipe(void *p, size_t len);
void pinset__wipe_free(void *p, size_t len);

/*
 * Test builds only (PINSET_TESTING): fail the Nth allocation from now
 * (1-based; 0 disables) so that tests can walk every failure path.
 * pinset__alloc_count() tells how many allocations have been made.
 */
#ifdef PINSET_TESTING
void pinset__alloc_fail_at(unsigned long n);
unsigned long pinset__alloc_count(void);
#endif

#endif /* PINSET_UTIL_ALLOC_H */
