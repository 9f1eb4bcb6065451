/*
 * suggest.h - "did you mean" for the pinset tool: the nearest of a few known
 * words (commands, option names, policy hosts) to one that was mistyped, by
 * edit distance, as git suggests the nearest command.
 */
#ifndef PINSET_CLI_SUGGEST_H
#define PINSET_CLI_SUGGEST_H

#include <stddef.h>

/* Words longer than this are never compared (a suggestion for them is noise). */
#define SUGGEST_MAX_LEN 255

/* The best candidate so far. Initialise with suggest_init, offer every candidate. */
typedef struct suggest {
    const char *word; /* what was typed (not NUL-terminated when wlen says so) */
    size_t wlen;
    size_t max_edits; /* farthest candidate still suggested */
    const char *best; /* NULL while nothing is near enough */
    size_t best_edits;
} suggest;

/*
 * Start a search for the nearest candidate to word[0..wlen), at most
 * max_edits edits away (insert, delete, substitute, swap two neighbours;
 * letters compared without case). max_edits 0 picks a bound from the word's
 * length: 1 edit up to 5 characters, then 2.
 */
void suggest_init(suggest *s, const char *word, size_t wlen, size_t max_edits);
/*
 * Offer one candidate (NUL-terminated, kept by pointer). The nearest one wins,
 * the first offered on a tie; a candidate equal to the word is not suggested.
 */
void suggest_offer(suggest *s, const char *cand);
/* The suggestion, or NULL when no candidate was near enough. */
const char *suggest_result(const suggest *s);

/*
 * The edit distance between a[0..alen) and b[0..blen) (optimal string
 * alignment, case-insensitive), or SIZE_MAX when either is longer than
 * SUGGEST_MAX_LEN or more than `cap` edits apart.
 */
size_t suggest_distance(const char *a, size_t alen, const char *b, size_t blen, size_t cap);

#endif /* PINSET_CLI_SUGGEST_H */
