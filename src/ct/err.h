/*
 * err.h - the one-line reason of src/ct's functions: printf into the
 * caller's err buffer (cap octets), which may be NULL.
 */
#ifndef PINSET_CT_ERR_H
#define PINSET_CT_ERR_H

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>

static inline void ct_seterr(char *err, size_t cap, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
static inline void ct_seterr(char *err, size_t cap, const char *fmt, ...)
{
    va_list ap;

    if (err == NULL || cap == 0) {
        return;
    }
    va_start(ap, fmt);
    vsnprintf(err, cap, fmt, ap);
    va_end(ap);
}

#endif /* PINSET_CT_ERR_H */
