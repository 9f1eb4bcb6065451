/*
 * jsonpath.c - the line and column of a value in valid JSON text, found by
 * re-scanning the text along the value's JSON path, and the rendering of
 * such paths. jansson 2.14 reports positions for syntax errors only; the
 * policy parser (parse.c) knows the JSON path of a value that fails a
 * semantic check, and asks here where it is.
 */
#include "util/jsonpath.h"

#include <stdio.h>
#include <string.h>

#include "util/base.h"

/* ---- rendering a JSON path ---- */

static int simple_key(const char *k)
{
    if (*k == '\0') {
        return 0;
    }
    for (; *k != '\0'; k++) {
        unsigned char ch = (unsigned char)*k;
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
              ch == '_' || ch == '-')) {
            return 0;
        }
    }
    return 1;
}

void pinset__jpath_format(const struct pinset__jpath_elem *path, size_t depth, char *out,
                          size_t cap)
{
    size_t n = 0;

    out[0] = '\0';
    for (size_t i = 0; i < depth && n < cap; i++) {
        const struct pinset__jpath_elem *e = &path[i];
        int w;
        if (e->key == NULL) {
            w = snprintf(out + n, cap - n, "[%zu]", e->idx);
        } else if (simple_key(e->key)) {
            w = snprintf(out + n, cap - n, "%s%s", n == 0 ? "" : ".", e->key);
        } else {
            w = snprintf(out + n, cap - n, "[\"%s\"]", e->key);
        }
        if (w < 0) {
            break;
        }
        n += (size_t)w;
    }
}

/* ---- locating a value in valid JSON text (for semantic errors) ---- */

static size_t skip_ws(const uint8_t *b, size_t n, size_t i)
{
    while (i < n && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r')) {
        i++;
    }
    return i;
}

/* i at the opening quote; returns the index after the closing quote */
static size_t skip_string(const uint8_t *b, size_t n, size_t i)
{
    for (i++; i < n; i++) {
        if (b[i] == '\\') {
            i++;
        } else if (b[i] == '"') {
            return i + 1;
        }
    }
    return n;
}

static size_t skip_value(const uint8_t *b, size_t n, size_t i)
{
    size_t depth = 0;

    i = skip_ws(b, n, i);
    while (i < n) {
        uint8_t ch = b[i];
        if (ch == '"') {
            i = skip_string(b, n, i);
            if (depth == 0) {
                return i;
            }
            continue;
        }
        if (ch == '{' || ch == '[') {
            depth++;
        } else if (ch == '}' || ch == ']') {
            if (depth == 0) {
                return i; /* end of the enclosing container: a scalar ended here */
            }
            if (--depth == 0) {
                return i + 1;
            }
        } else if (depth == 0 &&
                   (ch == ',' || ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r')) {
            return i;
        }
        i++;
    }
    return n;
}

/* Offset of the value at path[0..depth) starting from the value at i, or SIZE_MAX. */
size_t pinset__json_locate(const uint8_t *b, size_t n, const struct pinset__jpath_elem *path,
                           size_t depth, int at_key)
{
    size_t i = 0;

    for (size_t d = 0; d < depth; d++) {
        const struct pinset__jpath_elem *e = &path[d];
        i = skip_ws(b, n, i);
        if (i >= n) {
            return SIZE_MAX;
        }
        if (e->key == NULL) {
            if (b[i] != '[') {
                return SIZE_MAX;
            }
            i++;
            for (size_t k = 0; k < e->idx; k++) {
                i = skip_ws(b, n, skip_value(b, n, i));
                if (i >= n || b[i] != ',') {
                    return SIZE_MAX;
                }
                i++;
            }
            i = skip_ws(b, n, i);
            continue;
        }
        if (b[i] != '{') {
            return SIZE_MAX;
        }
        i++;
        for (;;) {
            size_t ks, ke, klen = strlen(e->key);
            i = skip_ws(b, n, i);
            if (i >= n || b[i] != '"') {
                return SIZE_MAX;
            }
            ks = i + 1;
            ke = skip_string(b, n, i) - 1;
            i = skip_ws(b, n, ke + 1);
            if (i >= n || b[i] != ':') {
                return SIZE_MAX;
            }
            i = skip_ws(b, n, i + 1);
            /* keys written with escapes are not matched: position unknown */
            if (ke - ks == klen && memcmp(b + ks, e->key, klen) == 0) {
                if (at_key && d + 1 == depth) {
                    return ks - 1; /* the key's opening quote */
                }
                break;
            }
            i = skip_ws(b, n, skip_value(b, n, i));
            if (i >= n || b[i] != ',') {
                return SIZE_MAX;
            }
            i++;
        }
    }
    return skip_ws(b, n, i);
}

void pinset__json_pos(const uint8_t *b, size_t off, size_t *line, size_t *col)
{
    size_t l = 1, c = 1;

    for (size_t i = 0; i < off; i++) {
        if (b[i] == '\n') {
            l++;
            c = 1;
        } else if ((b[i] & 0xC0) != 0x80) {
            c++; /* columns count characters, as jansson's do */
        }
    }
    *line = l;
    *col = c;
}
