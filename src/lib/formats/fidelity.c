/*
 * fidelity.c - the fidelity list of a conversion (pinset/convert.h): every
 * part of the input that did not carry over, with its rule, field and reason.
 */
#include <stdio.h>

#include <pinset/convert.h>

#include "formats/formats.h"

struct fid_entry {
    size_t rule;
    char *host;
    char *field;
    char *reason;
};

struct pinset_fidelity {
    struct fid_entry *e;
    size_t n, cap;
};

pinset_err pinset__fidelity_new(pinset_fidelity **out)
{
    *out = pinset__alloc(sizeof(**out));
    return *out == NULL ? PINSET_E_NOMEM : PINSET_OK;
}

static void entry_free(struct fid_entry *e)
{
    pinset__free(e->host);
    pinset__free(e->field);
    pinset__free(e->reason);
}

pinset_err pinset__fidelity_add(pinset_fidelity *f, size_t rule, const char *host,
                                const char *field, const char *fmt, ...)
{
    char reason[PINSET_DIAG_MESSAGE_MAX];
    struct fid_entry e = {rule, NULL, NULL, NULL};
    va_list ap;

    va_start(ap, fmt);
    (void)vsnprintf(reason, sizeof(reason), fmt, ap);
    va_end(ap);
    if (f->n == f->cap) {
        size_t ncap = f->cap == 0 ? 8 : f->cap * 2;
        struct fid_entry *a = pinset__realloc_array(f->e, ncap, sizeof(*a));
        if (a == NULL) {
            return PINSET_E_NOMEM;
        }
        f->e = a;
        f->cap = ncap;
    }
    e.host = host != NULL ? pinset__strndup(host, strlen(host)) : NULL;
    e.field = pinset__strndup(field, strlen(field));
    e.reason = pinset__strndup(reason, strlen(reason));
    if ((host != NULL && e.host == NULL) || e.field == NULL || e.reason == NULL) {
        entry_free(&e);
        return PINSET_E_NOMEM;
    }
    f->e[f->n++] = e;
    return PINSET_OK;
}

size_t pinset_fidelity_count(const pinset_fidelity *fidelity)
{
    return fidelity == NULL ? 0 : fidelity->n;
}

static const struct fid_entry *entry(const pinset_fidelity *f, size_t i)
{
    return f == NULL || i >= f->n ? NULL : &f->e[i];
}

size_t pinset_fidelity_rule(const pinset_fidelity *fidelity, size_t i)
{
    const struct fid_entry *e = entry(fidelity, i);

    return e == NULL ? SIZE_MAX : e->rule;
}

const char *pinset_fidelity_host(const pinset_fidelity *fidelity, size_t i)
{
    const struct fid_entry *e = entry(fidelity, i);

    return e == NULL ? NULL : e->host;
}

const char *pinset_fidelity_field(const pinset_fidelity *fidelity, size_t i)
{
    const struct fid_entry *e = entry(fidelity, i);

    return e == NULL ? NULL : e->field;
}

const char *pinset_fidelity_reason(const pinset_fidelity *fidelity, size_t i)
{
    const struct fid_entry *e = entry(fidelity, i);

    return e == NULL ? NULL : e->reason;
}

void pinset_fidelity_free(pinset_fidelity *fidelity)
{
    if (fidelity == NULL) {
        return;
    }
    for (size_t i = 0; i < fidelity->n; i++) {
        entry_free(&fidelity->e[i]);
    }
    pinset__free(fidelity->e);
    pinset__free(fidelity);
}

pinset_err pinset_fidelity_new(pinset_fidelity **out)
{
    if (out == NULL) {
        return PINSET_E_INVALID_ARG;
    }
    return pinset__fidelity_new(out);
}

pinset_err pinset_fidelity_add(pinset_fidelity *fidelity, size_t rule, const char *host,
                               const char *field, const char *reason)
{
    if (fidelity == NULL || field == NULL || reason == NULL) {
        return PINSET_E_INVALID_ARG;
    }
    return pinset__fidelity_add(fidelity, rule, host, field, "%s", reason);
}
