/*
 * jsonpath.h - where a value of a valid JSON text is: its line and column,
 * found from its JSON path ("rules[3].pins[1].sha256") by a re-scan of the
 * text. Used for semantic errors by the policy parser, the JSON converters
 * and the tool (plan's fleet file): jansson keeps no position per value.
 * Internal.
 */
#ifndef PINSET_UTIL_JSONPATH_H
#define PINSET_UTIL_JSONPATH_H

#include <stddef.h>
#include <stdint.h>

/* One step of a JSON path. */
struct pinset__jpath_elem {
    const char *key; /* NULL: an array index */
    size_t idx;
};

/* Render path[0..depth) as "rules[3].pins[1]" (keys that are not simple in ["..."]). */
void pinset__jpath_format(const struct pinset__jpath_elem *path, size_t depth, char *out,
                          size_t cap);

/*
 * Offset in b[0..n) of the value at path[0..depth) (of its key when at_key),
 * or SIZE_MAX when the text does not hold it as written.
 */
size_t pinset__json_locate(const uint8_t *b, size_t n, const struct pinset__jpath_elem *path,
                           size_t depth, int at_key);

/* 1-based line and column (in characters) of offset off in b. */
void pinset__json_pos(const uint8_t *b, size_t off, size_t *line, size_t *col);

#endif /* PINSET_UTIL_JSONPATH_H */
