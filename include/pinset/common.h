/*
 * pinset/common.h - attribute macros shared by every public header.
 */
#ifndef PINSET_COMMON_H
#define PINSET_COMMON_H

#include <stddef.h>
#include <stdint.h>

#if defined(__GNUC__) || defined(__clang__)
#define PINSET_API        __attribute__((visibility("default")))
#define PINSET_MUST_CHECK __attribute__((warn_unused_result))
#define PINSET_DEPRECATED __attribute__((deprecated))
#else
#define PINSET_API
#define PINSET_MUST_CHECK
#define PINSET_DEPRECATED
#endif

/**
 * Output sink used by every function that writes a document of unbounded size.
 *
 * @param buf     bytes to write (not NUL-terminated)
 * @param len     number of bytes
 * @param payload the caller's pointer, passed through unchanged
 * @return 0 to continue, non-zero to stop (the caller then gets PINSET_E_IO)
 */
typedef int (*pinset_write_fn)(const char *buf, size_t len, void *payload);

#endif /* PINSET_COMMON_H */
