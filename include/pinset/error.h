/*
 * pinset/error.h - error codes and the caller-supplied diagnostic.
 *
 * Every fallible public function returns a pinset_err. Functions that consume
 * untrusted input also take an optional `pinset_diag *` as their last
 * parameter; when it is non-NULL it receives a one-line message and, where
 * known, the position of the failure. There is no global "last error".
 */
#ifndef PINSET_ERROR_H
#define PINSET_ERROR_H

#include <pinset/common.h>

#ifdef __cplusplus
extern "C" {
#endif

/**
 * Error codes. Values are append-only: never renumbered, removed or reused.
 */
typedef enum pinset_err {
    PINSET_OK = 0,                  /**< success */
    PINSET_E_INVALID_ARG = 1,       /**< API misuse: NULL or out-of-range argument */
    PINSET_E_NOMEM = 2,             /**< an allocation failed */
    PINSET_E_PARSE = 3,             /**< malformed input */
    PINSET_E_UNSUPPORTED = 4,       /**< well-formed but not supported (e.g. a sha1 pin) */
    PINSET_E_LIMIT = 5,             /**< input exceeds a documented bound */
    PINSET_E_IO = 6,                /**< reading or writing failed */
    PINSET_E_TLS = 7,               /**< a TLS-level failure */
    PINSET_E_CRYPTO = 8,            /**< an OpenSSL cryptographic operation failed */
    PINSET_E_NO_MATCH = 9,          /**< no pin matched */
    PINSET_E_EXPIRED = 10,          /**< a policy or pin has expired */
    PINSET_E_BUFFER_TOO_SMALL = 11, /**< the caller's output buffer is too small */
    PINSET_E_INTERNAL = 12,         /**< a bug in pinset */
    PINSET_E_PASSPHRASE = 13        /**< an encrypted object needs a (correct) passphrase */
} pinset_err;

/** Size of pinset_diag.message, including the terminating NUL. */
#define PINSET_DIAG_MESSAGE_MAX 256
/** Size of pinset_diag.path, including the terminating NUL. */
#define PINSET_DIAG_PATH_MAX 128
/** Current version of struct pinset_diag. */
#define PINSET_DIAG_VERSION 1

/**
 * Detail about a failure, filled in by functions that consume untrusted input.
 *
 * Initialise with PINSET_DIAG_INIT. Positions are 1-based; 0 means unknown.
 * `object` is the 0-based index of the object within a multi-object input
 * (a PEM bundle), or SIZE_MAX when not applicable. `path` is a document path
 * such as `rules[3].pins[1].sha256`, or empty.
 *
 * Ownership: caller-allocated; holds no heap memory.
 * Thread-safety: one diag per call; do not share between threads.
 */
typedef struct pinset_diag {
    unsigned int version;
    pinset_err code;
    size_t object;
    size_t line;
    size_t column;
    size_t offset;
    char path[PINSET_DIAG_PATH_MAX];
    char message[PINSET_DIAG_MESSAGE_MAX];
    const char *src_file; /**< debug builds: the pinset source file that failed, else NULL */
    int src_line;         /**< debug builds: its line, else 0 */
} pinset_diag;

/** Static initialiser for struct pinset_diag. */
#define PINSET_DIAG_INIT                                                       \
    {                                                                          \
        PINSET_DIAG_VERSION, PINSET_OK, (size_t)-1, 0, 0, 0, {0}, {0}, NULL, 0 \
    }

/**
 * A static English description of an error code.
 *
 * @param err any value; out-of-range values give "unknown error"
 * @return a static string, never NULL
 * Thread-safety: safe.
 */
PINSET_API const char *pinset_strerror(pinset_err err);

/**
 * The identifier of an error code, e.g. "PINSET_E_PARSE".
 *
 * @param err any value; out-of-range values give "PINSET_E_UNKNOWN"
 * @return a static string, never NULL
 * Thread-safety: safe.
 */
PINSET_API const char *pinset_err_name(pinset_err err);

/**
 * Reset a diag to its initial state (as PINSET_DIAG_INIT).
 *
 * @param diag the diag; NULL is a no-op
 */
PINSET_API void pinset_diag_init(pinset_diag *diag);

#ifdef __cplusplus
}
#endif

#endif /* PINSET_ERROR_H */
