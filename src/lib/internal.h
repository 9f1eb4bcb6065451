/*
 * internal.h - limits shared by every file in src/lib, plus the utility layer's
 * allocation, diagnostic and banned-function headers. Not installed.
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

/* ---- allocation and diagnostics: src/util (one allocator, one way to fill a diag) ---- */
#include "util/alloc.h"
#include "util/diag.h"

/* PINSET_ASSERT, PINSET_ARRAY_SIZE and the banned-function poison (after all system includes) */
#include "util/base.h"

#endif /* PINSET_INTERNAL_H */
