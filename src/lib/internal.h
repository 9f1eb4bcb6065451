/*
 * internal.h - limits, allocation and wipe helpers, diagnostics and banned
 * functions shared by every file in src/lib. Not installed.
 */
#ifndef PINSET_INTERNAL_H
#define PINSET_INTERNAL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <pinset/error.h>

/* ---- limits: every bound in one place; exceeding one is PINSET_E_LIMIT ---- */
#define PINSET_MAX_INPUT_SIZE    ((size_t)64 * 1024 * 1024) /* one input file or buffer */
#define PINSET_MAX_OBJECTS       200000                     /* objects in one bundle */
#define PINSET_MAX_DER_SIZE      ((size_t)1024 * 1024)      /* one DER object */
#define PINSET_MAX_DER_DEPTH     32                         /* nesting of constructed DER */
#define PINSET_MAX_PIN_TEXT      512                        /* one pin's text form */
#define PINSET_MAX_PIN_LIST      64                         /* pins in one curl-style list */
#define PINSET_MAX_CHAIN         16                         /* certificates in a chain */
#define PINSET_MAX_PEM_LINE      ((size_t)64 * 1024)        /* one PEM line */
#define PINSET_MAX_PASSPHRASE    1024
#define PINSET_MAX_POLICY_SIZE   ((size_t)256 * 1024 * 1024) /* one policy document */
#define PINSET_MAX_POLICY_DEPTH  16                          /* JSON nesting in a policy */
#define PINSET_MAX_RULES         2000000
#define PINSET_MAX_PINS_PER_RULE 256
#define PINSET_MAX_HOST_LEN      253 /* RFC 1035 name, without the trailing dot */
#define PINSET_MAX_LABEL_LEN     63

/* ---- allocation: every allocation goes through these ---- */
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

/* ---- diagnostics ---- */
/*
 * Record `code` and a printf-style message in diag (which may be NULL) and
 * return `code`, so that a caller writes `return PINSET_DIAG(diag, PINSET_E_PARSE, "...")`.
 * Messages: one line, lower case, no trailing period, no secrets.
 */
pinset_err pinset__diag_set(pinset_diag *diag, pinset_err code, const char *file, int line,
                            const char *fmt, ...)
#if defined(__GNUC__) || defined(__clang__)
    __attribute__((format(printf, 5, 6)))
#endif
    ;
#define PINSET_DIAG(diag, code, ...) \
    pinset__diag_set((diag), (code), __FILE__, __LINE__, __VA_ARGS__)
/* Set position fields (any may be 0 / SIZE_MAX = unknown) without touching the message. */
void pinset__diag_pos(pinset_diag *diag, size_t object, size_t line, size_t column, size_t offset);
/* Set the document path (e.g. "rules[3].pins[1].sha256"). */
void pinset__diag_path(pinset_diag *diag, const char *path);
/*
 * Copy the reason of the most recent OpenSSL error above the current mark into
 * diag as "<prefix>: <reason>", then pop to the mark. Call after ERR_set_mark().
 */
pinset_err pinset__diag_openssl(pinset_diag *diag, pinset_err code, const char *file, int line,
                                const char *prefix);
#define PINSET_DIAG_OSSL(diag, code, prefix) \
    pinset__diag_openssl((diag), (code), __FILE__, __LINE__, (prefix))

/* ---- time ---- */
/* Days from 1970-01-01 to a proleptic Gregorian y-m-d (m 1-12, d 1-31). */
int64_t pinset__days_from_civil(int64_t y, int64_t m, int64_t d);

#ifndef NDEBUG
#include <assert.h>
#define PINSET_ASSERT(x) assert(x)
#else
#define PINSET_ASSERT(x) ((void)0)
#endif

#define PINSET_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* ---- banned functions (after all system includes) [curl checksrc] ---- */
/* clang with _FORTIFY_SOURCE defines some of these as macros: poisoning those is an error there;
 * gcc builds (and tests/checks/banned_functions.sh) still catch every use. */
#if defined(__GNUC__) && !defined(PINSET_NO_POISON) && \
    !(defined(__clang__) && defined(_FORTIFY_SOURCE))
#pragma GCC poison strcpy strcat sprintf vsprintf gets strtok atoi atol strncpy sscanf
#endif

#endif /* PINSET_INTERNAL_H */
