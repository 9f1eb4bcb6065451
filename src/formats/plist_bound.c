/*
 * plist_bound.c - the bounds a property list must keep before libplist
 * reads it (plist_bound.h says why). Nothing here reads a value: libplist
 * does that.
 */
#include "plist_bound.h"

#include <stdlib.h>
#include <string.h>

#include "util/diag.h"

/* PINSET_ASSERT and the banned-function poison (after all system includes) */
#include "util/base.h"

/* At most this many objects in a binary property list (the walk keeps 9 octets per object). */
#define PL_MAX_OBJECTS ((uint64_t)1000000)

static uint64_t be(const uint8_t *p, unsigned n)
{
    uint64_t v = 0;

    for (unsigned i = 0; i < n; i++) {
        v = (v << 8) | p[i];
    }
    return v;
}

static pinset_err at(pinset_diag *diag, pinset_err err, uint64_t offset)
{
    pinset__diag_offset(diag, (size_t)offset);
    return err;
}

struct bin {
    const uint8_t *buf;
    uint64_t otab;  /* the offset table: objects lie in [8, otab) */
    uint64_t nobj;  /* objects */
    unsigned osz;   /* octets per offset */
    unsigned rsz;   /* octets per reference */
    uint8_t *state; /* per object: 0 not seen, 1 being walked, 2 done */
    uint64_t *size; /* per object once done: the nodes it expands to */
};

struct frame {
    uint64_t obj;  /* the container */
    uint64_t refs; /* offset of its first reference */
    uint64_t n;    /* its references (keys and values of a dictionary) */
    uint64_t next; /* the next reference to follow */
    uint64_t sum;  /* nodes below it so far */
};

/*
 * A string object (ASCII, type 5, or UTF-16, type 6) of `count` characters
 * at p: within the objects and without a NUL, on which libplist 2.2's
 * plist_get_string_val and plist_get_key_val abort (an assertion that the
 * length equals strlen).
 */
static pinset_err string(const struct bin *b, uint64_t obj, unsigned type, uint64_t p,
                         uint64_t count, pinset_diag *diag)
{
    uint64_t unit = type == 0x6 ? 2 : 1;

    if (count > (b->otab - p) / unit) {
        return at(diag,
                  PINSET_DIAG(diag, PINSET_E_PARSE,
                              "binary property list: object %llu: a string running past the "
                              "objects",
                              (unsigned long long)obj),
                  p);
    }
    for (uint64_t i = 0; i < count; i++) {
        if (b->buf[p + i * unit] == 0 && (unit == 1 || b->buf[p + i * unit + 1] == 0)) {
            return at(diag,
                      PINSET_DIAG(diag, PINSET_E_PARSE,
                                  "binary property list: object %llu: a string holding a NUL",
                                  (unsigned long long)obj),
                      p + i * unit);
        }
    }
    return PINSET_OK;
}

/*
 * Object `obj`: *is_container, and for a container the offset of its
 * references and how many there are; a string is checked (string()).
 */
static pinset_err object(const struct bin *b, uint64_t obj, int *is_container, uint64_t *refs,
                         uint64_t *n, pinset_diag *diag)
{
    uint64_t entry = b->otab + obj * b->osz;
    uint64_t off = be(b->buf + entry, b->osz), count, p;
    unsigned type;

    if (off < 8 || off >= b->otab) {
        return at(diag,
                  PINSET_DIAG(diag, PINSET_E_PARSE,
                              "binary property list: object %llu at offset %llu, outside the "
                              "objects",
                              (unsigned long long)obj, (unsigned long long)off),
                  entry);
    }
    type = b->buf[off] >> 4;
    *is_container = type == 0xA || type == 0xC || type == 0xD;
    if (!*is_container && type != 0x5 && type != 0x6) {
        return PINSET_OK;
    }
    count = b->buf[off] & 0xF;
    p = off + 1;
    if (count == 0xF) {
        unsigned w;
        if (p >= b->otab || (b->buf[p] >> 4) != 1 || (b->buf[p] & 0xF) > 3) {
            return at(diag,
                      PINSET_DIAG(diag, PINSET_E_PARSE,
                                  "binary property list: object %llu: a bad element count",
                                  (unsigned long long)obj),
                      p);
        }
        w = 1u << (b->buf[p] & 0xF);
        if (b->otab - p - 1 < w) {
            return at(diag,
                      PINSET_DIAG(diag, PINSET_E_PARSE,
                                  "binary property list: object %llu: its count runs past the "
                                  "objects",
                                  (unsigned long long)obj),
                      p);
        }
        count = be(b->buf + p + 1, w);
        p += 1 + w;
    }
    if (!*is_container) {
        return string(b, obj, type, p, count, diag);
    }
    if (count > (b->otab - p) / b->rsz / (type == 0xD ? 2 : 1)) {
        return at(diag,
                  PINSET_DIAG(diag, PINSET_E_PARSE,
                              "binary property list: object %llu: %llu references run past the "
                              "objects",
                              (unsigned long long)obj, (unsigned long long)count),
                  off);
    }
    *refs = p;
    *n = type == 0xD ? count * 2 : count;
    return PINSET_OK;
}

static pinset_err too_many(pinset_diag *diag, uint64_t offset)
{
    return at(diag,
              PINSET_DIAG(diag, PINSET_E_LIMIT,
                          "binary property list: expands to more than %llu values (shared "
                          "references count each time)",
                          (unsigned long long)PL_MAX_NODES),
              offset);
}

static pinset_err walk(struct bin *b, uint64_t top, pinset_diag *diag)
{
    struct frame st[PL_MAX_DEPTH];
    size_t depth = 0;
    int container = 0;
    uint64_t refs = 0, n = 0;
    pinset_err err = object(b, top, &container, &refs, &n, diag);

    if (err != PINSET_OK || !container) {
        return err;
    }
    st[depth++] = (struct frame){top, refs, n, 0, 0};
    b->state[top] = 1;
    while (depth > 0) {
        struct frame *fr = &st[depth - 1];
        if (fr->next < fr->n) {
            uint64_t where = fr->refs + fr->next * b->rsz;
            uint64_t r = be(b->buf + where, b->rsz);
            fr->next++;
            if (r >= b->nobj) {
                return at(diag,
                          PINSET_DIAG(diag, PINSET_E_PARSE,
                                      "binary property list: a reference to object %llu of %llu",
                                      (unsigned long long)r, (unsigned long long)b->nobj),
                          where);
            }
            if (b->state[r] == 1) {
                return at(diag,
                          PINSET_DIAG(diag, PINSET_E_PARSE,
                                      "binary property list: a cyclic reference to object %llu",
                                      (unsigned long long)r),
                          where);
            }
            if (b->state[r] == 2) {
                fr->sum += b->size[r];
            } else {
                err = object(b, r, &container, &refs, &n, diag);
                if (err != PINSET_OK) {
                    return err;
                }
                if (!container) {
                    b->state[r] = 2;
                    b->size[r] = 1;
                    fr->sum += 1;
                } else if (depth == PL_MAX_DEPTH) {
                    return at(diag,
                              PINSET_DIAG(diag, PINSET_E_LIMIT,
                                          "binary property list: nested deeper than %d levels",
                                          PL_MAX_DEPTH),
                              where);
                } else {
                    b->state[r] = 1;
                    st[depth++] = (struct frame){r, refs, n, 0, 0};
                }
            }
            if (fr->sum > PL_MAX_NODES) {
                return too_many(diag, where);
            }
            continue;
        }
        b->state[fr->obj] = 2;
        b->size[fr->obj] = fr->sum + 1;
        depth--;
        if (depth > 0) {
            st[depth - 1].sum += b->size[fr->obj];
            if (st[depth - 1].sum > PL_MAX_NODES) {
                return too_many(diag, st[depth - 1].refs);
            }
        }
    }
    return PINSET_OK;
}

pinset_err pl_bound_bin(const uint8_t *buf, size_t len, pinset_diag *diag)
{
    const uint8_t *t;
    struct bin b;
    uint64_t top;
    pinset_err err;

    if (len < 8 + 32) {
        return at(diag,
                  PINSET_DIAG(diag, PINSET_E_PARSE,
                              "binary property list of %zu octets: shorter than its header "
                              "and trailer",
                              len),
                  0);
    }
    t = buf + len - 32;
    memset(&b, 0, sizeof(b));
    b.buf = buf;
    b.osz = t[6];
    b.rsz = t[7];
    b.nobj = be(t + 8, 8);
    top = be(t + 16, 8);
    b.otab = be(t + 24, 8);
    if (b.osz < 1 || b.osz > 8 || b.rsz < 1 || b.rsz > 8) {
        return at(diag,
                  PINSET_DIAG(diag, PINSET_E_PARSE,
                              "binary property list: offset size %u, reference size %u (1 to "
                              "8)",
                              b.osz, b.rsz),
                  len - 26);
    }
    if (b.nobj == 0 || top >= b.nobj) {
        return at(diag,
                  PINSET_DIAG(diag, PINSET_E_PARSE, "binary property list: top object %llu of %llu",
                              (unsigned long long)top, (unsigned long long)b.nobj),
                  len - 24);
    }
    if (b.otab < 9 || b.otab > len - 32 || b.nobj > (len - 32 - b.otab) / b.osz) {
        return at(diag,
                  PINSET_DIAG(diag, PINSET_E_PARSE,
                              "binary property list: an offset table of %llu entries at offset "
                              "%llu, outside the document",
                              (unsigned long long)b.nobj, (unsigned long long)b.otab),
                  len - 8);
    }
    if (b.nobj > PL_MAX_OBJECTS) {
        return at(diag,
                  PINSET_DIAG(diag, PINSET_E_LIMIT,
                              "binary property list: %llu objects, over the %llu limit",
                              (unsigned long long)b.nobj, (unsigned long long)PL_MAX_OBJECTS),
                  len - 24);
    }
    b.state = calloc((size_t)b.nobj, 1);
    b.size = calloc((size_t)b.nobj, sizeof(uint64_t));
    if (b.state == NULL || b.size == NULL) {
        err = PINSET_DIAG(diag, PINSET_E_NOMEM, "out of memory");
    } else {
        err = walk(&b, top, diag);
    }
    free(b.state);
    free(b.size);
    return err;
}

/*
 * The XML walk follows libplist 2.2's own reader (xplist.c), so that what it
 * counts is what libplist builds: comments run to "-->", CDATA sections to
 * "]]>", processing instructions to "?>" and a DOCTYPE to its ">" (or "]>"
 * after an internal subset), none of them holding a tag; a tag's name runs
 * to a blank, '<' or '>', and its end is the next '<' or '>' outside double
 * quotes; it is empty when '/' comes just before that '>'. A closing tag
 * hidden where libplist reads no tag cannot lower the count.
 */

/* The index of the first occurrence of `str` at or after i (len when none); double-quoted runs
 * are skipped when `quotes`, as libplist's find_str does. */
static size_t find_str(const uint8_t *buf, size_t len, size_t i, const char *str, int quotes)
{
    size_t n = strlen(str);

    while (i < len && len - i >= n) {
        if (memcmp(buf + i, str, n) == 0) {
            return i;
        }
        if (quotes && buf[i] == '"') {
            const uint8_t *q = memchr(buf + i + 1, '"', len - i - 1);
            if (q == NULL) {
                return len;
            }
            i = (size_t)(q - buf);
        }
        i++;
    }
    return len;
}

/* The index of the first of `chars` at or after i outside double quotes (len when none). */
static size_t find_next(const uint8_t *buf, size_t len, size_t i, const char *chars)
{
    for (; i < len; i++) {
        if (buf[i] == '"') {
            const uint8_t *q = memchr(buf + i + 1, '"', len - i - 1);
            if (q == NULL) {
                return len;
            }
            i = (size_t)(q - buf);
            continue;
        }
        if (strchr(chars, buf[i]) != NULL && buf[i] != '\0') {
            return i;
        }
    }
    return len;
}

static int name_is(const uint8_t *p, size_t n, const char *name)
{
    return n == strlen(name) && memcmp(p, name, n) == 0;
}

pinset_err pl_bound_xml(const uint8_t *buf, size_t len, pinset_diag *diag)
{
    size_t depth = 0, i = 0;
    uint64_t elements = 0;
    const uint8_t *nul = memchr(buf, 0, len);

    if (nul != NULL) {
        /* XML has no U+0000; libplist 2.2 takes it into a string and then aborts on it */
        return at(diag,
                  PINSET_DIAG(diag, PINSET_E_PARSE,
                              "XML property list: a NUL octet (XML allows none; a UTF-16 "
                              "property list is not read)"),
                  (uint64_t)(nul - buf));
    }

    while (i < len) {
        const uint8_t *lt = memchr(buf + i, '<', len - i);
        size_t start, name_end, end, n;
        if (lt == NULL) {
            break;
        }
        start = (size_t)(lt - buf);
        i = start + 1;
        if (i >= len) {
            break;
        }
        if (buf[i] == '?') {
            i = find_str(buf, len, i, "?>", 1) + 2;
            continue;
        }
        if (buf[i] == '!') {
            if (len - i >= 3 && memcmp(buf + i, "!--", 3) == 0) {
                i = find_str(buf, len, i + 3, "-->", 0) + 3;
            } else if (len - i >= 8 && memcmp(buf + i, "![CDATA[", 8) == 0) {
                i = find_str(buf, len, i + 8, "]]>", 0) + 3;
            } else {
                /* <!DOCTYPE ...> or its internal subset [...]> (libplist refuses any other) */
                size_t e = find_next(buf, len, i, "[>");
                i = e < len && buf[e] == '[' ? find_str(buf, len, e, "]>", 1) + 2 : e + 1;
            }
            continue;
        }
        name_end = i;
        while (name_end < len && strchr(" \r\n\t<>", buf[name_end]) == NULL) {
            name_end++;
        }
        n = name_end - i;
        if (n > 0 && (buf[i] | 0x20) >= 'a' && (buf[i] | 0x20) <= 'z' &&
            ++elements > PL_MAX_NODES) {
            return at(diag,
                      PINSET_DIAG(diag, PINSET_E_LIMIT,
                                  "XML property list: more than %llu elements",
                                  (unsigned long long)PL_MAX_NODES),
                      start);
        }
        end =
            name_end < len && buf[name_end] == '>' ? name_end : find_next(buf, len, name_end, "<>");
        if (end >= len || buf[end] != '>') {
            break; /* libplist refuses a tag without its '>' */
        }
        if (buf[end - 1] == '/') {
            /* empty (`<dict/>`, `<array a="x"/>`): no container is opened */
        } else if (name_is(buf + i, n, "array") || name_is(buf + i, n, "dict")) {
            if (++depth > PL_MAX_DEPTH) {
                return at(diag,
                          PINSET_DIAG(diag, PINSET_E_LIMIT,
                                      "XML property list: arrays and dictionaries nested deeper "
                                      "than %d levels",
                                      PL_MAX_DEPTH),
                          start);
            }
        } else if ((name_is(buf + i, n, "/array") || name_is(buf + i, n, "/dict")) && depth > 0) {
            depth--;
        }
        i = end + 1;
    }
    return PINSET_OK;
}
