/*
 * plist_bound.h - bounds checked on a property list before libplist reads
 * it (plist_bound.c).
 *
 * libplist 2.2 (Debian 12) refuses cyclic references in a binary property
 * list, but it expands every reference into a copy of its target, recursing
 * once per level: 134 octets whose objects each refer twice to the next one
 * expand to 2^23 nodes (seconds, hundreds of MB), and a chain of 100,000
 * nested arrays overflows the stack. So the object graph is walked first,
 * without reading any value: the trailer, the offset table and the
 * references of arrays, sets and dictionaries only. Its XML reader nests
 * without recursion, but what is built from it is walked recursively, so
 * the nesting of XML containers is bounded too. And libplist 2.2 aborts
 * (an assertion, kept in Debian's build) when a string or a key holds a NUL,
 * which its readers let through: a NUL in an XML document, or in a binary
 * string, is refused here.
 */
#ifndef PINSET_FORMATS_PLIST_BOUND_H
#define PINSET_FORMATS_PLIST_BOUND_H

#include <stddef.h>
#include <stdint.h>

#include <pinset/error.h>

/* The deepest nesting of arrays and dictionaries read. */
#define PL_MAX_DEPTH 64
/* The most nodes a binary property list may expand to (references counted each time). */
#define PL_MAX_NODES ((uint64_t)1000000)

/*
 * A binary property list (`bplist00`, len >= 8): its trailer, offset table
 * and references in range, no cycle, at most PL_MAX_DEPTH levels and
 * PL_MAX_NODES nodes once expanded, no string with a NUL. PINSET_E_PARSE or PINSET_E_LIMIT with
 * the byte offset in diag (pinset__diag_offset) and the reason.
 */
pinset_err pl_bound_bin(const uint8_t *buf, size_t len, pinset_diag *diag);

/*
 * An XML property list: no NUL octet, at most PL_MAX_NODES elements (libplist
 * 2.2 builds a node of a hundred octets or more for each), `<array>` and
 * `<dict>` nested at most PL_MAX_DEPTH deep.
 */
pinset_err pl_bound_xml(const uint8_t *buf, size_t len, pinset_diag *diag);

#endif /* PINSET_FORMATS_PLIST_BOUND_H */
