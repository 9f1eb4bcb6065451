/*
 * pinset/error.h - error codes and the caller-supplied diagnostic.
 *
 * Every fallible public function returns a pinset_err. Functions that consume
 * untrusted input also take an optional `pinset_diag *` as their last
 * parameter; when it is non-NULL it receives the reason (a one-line message)
 * and, in separate fields, where it happened: the input's name, line, column,
 * byte offset, object index and label, document path. pinset_diag_format()
 * renders all of it as one line; callers never parse the message. There is no
 * global "last error".
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
#define PINSET_DIAG_PATH_MAX 512
/** Size of pinset_diag.label, including the terminating NUL. */
#define PINSET_DIAG_LABEL_MAX 48
/**
 * Current version of struct pinset_diag. Version 2 added `input` and
 * `label`, took the input's name and the object out of `message` and made
 * `path` longer.
 */
#define PINSET_DIAG_VERSION 2

/**
 * Detail about a failure, filled in by functions that consume untrusted input.
 *
 * Initialise with PINSET_DIAG_INIT. `message` is the reason only ("invalid
 * base64 in pem body"); where it happened lives in the other fields, each
 * left at its initial value when unknown:
 * - `input`: the name of the input (a file path). Functions that take a
 *   path set it to that argument; functions that take bytes leave it as the
 *   caller set it, so a caller may name a buffer ("<stdin>") before the call.
 * - `line`, `column`: 1-based; 0 = unknown. `offset`: the byte offset from the
 *   start of the input, meaningful when `has_offset` is 1.
 * - `object`: the 0-based index of the object within a multi-object input (a
 *   PEM bundle), SIZE_MAX when not applicable; `label` its kind as the input
 *   names it (a PEM label such as "CERTIFICATE"), or empty.
 * - `path`: a document path such as `rules[3].pins[1].sha256`, or empty. A
 *   path longer than PINSET_DIAG_PATH_MAX - 1 keeps its end, after "...".
 *
 * Ownership: caller-allocated; holds no heap memory. `input` is borrowed: it
 *            points at the caller's own argument (or what the caller set).
 * Lifetime: read `input` only while the string it points to lives.
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
    /* version 2 */
    const char *input;                 /**< the input's name (borrowed), or NULL */
    char label[PINSET_DIAG_LABEL_MAX]; /**< the object's label, or empty */
    int has_offset;                    /**< 1 when `offset` is known */
} pinset_diag;

/** Static initialiser for struct pinset_diag. */
#define PINSET_DIAG_INIT                                                                     \
    {                                                                                        \
        PINSET_DIAG_VERSION, PINSET_OK, (size_t)-1, 0, 0, 0, {0}, {0}, NULL, 0, NULL, {0}, 0 \
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

/**
 * Render a diag as one line, the way compilers do:
 * `INPUT:LINE:COLUMN: object N (LABEL): PATH: REASON`, leaving out each part
 * that is unknown (no input: the line starts with the position; no line: the
 * byte offset, `INPUT: byte N:`, when known; object N counts from 1). The
 * input's name is written whole, whatever its length. The reason is the
 * message, or pinset_strerror(code) when the message is empty. Characters
 * below 0x20 and 0x7f in any part are written as '?', so that input cannot
 * forge lines or terminal escapes.
 *
 * @param buf  receives the line, NUL-terminated, cut to cap - 1 characters;
 *             may be NULL when cap is 0 (to learn the length)
 * @param cap  size of buf
 * @param diag the diag; NULL renders "unknown error"
 * @return the length of the whole line (without the NUL), as snprintf does:
 *         a value >= cap means buf holds a cut line
 * Ownership: nothing retained. Thread-safety: safe.
 */
PINSET_API size_t pinset_diag_format(char *buf, size_t cap, const pinset_diag *diag);

#ifdef __cplusplus
}
#endif

#endif /* PINSET_ERROR_H */
