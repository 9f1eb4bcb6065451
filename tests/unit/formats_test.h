/*
 * formats_test.h - what the converter tests share: a fixed output buffer
 * with its pinset_write_fn sink, and the corpus vectors of
 * tests/corpora/vectors/. Include after <cmocka.h>.
 */
#ifndef PINSET_TESTS_FORMATS_TEST_H
#define PINSET_TESTS_FORMATS_TEST_H

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

struct sbuf {
    char b[65536];
    size_t n;
};

static inline int sink(const char *buf, size_t len, void *payload)
{
    struct sbuf *s = payload;

    if (s->n + len >= sizeof(s->b)) {
        return 1;
    }
    memcpy(s->b + s->n, buf, len);
    s->n += len;
    s->b[s->n] = '\0';
    return 0;
}

static inline json_t *load_vectors(const char *name)
{
    const char *src = getenv("PINSET_SOURCE_DIR");
    char path[1024];
    json_error_t jerr;
    json_t *v;

    if (src == NULL) {
        fail_msg("PINSET_SOURCE_DIR is not set (run through ctest)");
    }
    (void)snprintf(path, sizeof(path), "%s/tests/corpora/vectors/%s", src, name);
    v = json_load_file(path, 0, &jerr);
    if (v == NULL) {
        fail_msg("%s: %s", path, jerr.text);
    }
    return v;
}

#endif /* PINSET_TESTS_FORMATS_TEST_H */
